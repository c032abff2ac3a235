"""Reads of whole rows as SQLAlchemy Core statements, for the services' read paths a run takes.

An ORM query configures every mapper the first time one runs in a process (15 classes, about 10
ms) and compiles its statement through the ORM's machinery (2-3 ms each the first time); a
`flowdesk run` of a stored workflow issued nine of them. These Core selects read the same columns
through the same column types, so the rows they return carry the same values under the same
attribute names (`row.name`, `row.variables`), which is all the services' model builders read.

Each takes the caller's session and reads through its connection. Changes still pending in that
session are flushed first, as the ORM's autoflush would, so a read never misses them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, Table, select
from sqlalchemy.orm import Session

from flowdesk.domain.errors import NotFoundError

from .tables import EnvironmentRow, ExecutionRow, NodeTypeRow, SecretRow, WorkflowRow

WORKFLOWS: Table = WorkflowRow.__table__  # type: ignore[assignment]
EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
NODE_TYPES: Table = NodeTypeRow.__table__  # type: ignore[assignment]
ENVIRONMENTS: Table = EnvironmentRow.__table__  # type: ignore[assignment]
SECRETS: Table = SecretRow.__table__  # type: ignore[assignment]


def _rows(session: Session, stmt: Select[Any]) -> list[Row[Any]]:
    if session.new or session.deleted or session.identity_map.check_modified():
        session.flush()
    return list(session.connection().execute(stmt))


def _row_by_id(session: Session, table: Table, row_id: int, what: str) -> Row[Any]:
    """The row of `table` with id `row_id`, or NotFoundError "<what> <id> does not exist."."""
    found = _rows(session, select(table).where(table.c.id == row_id))
    if not found:
        raise NotFoundError(f"{what} {row_id} does not exist.")
    return found[0]


def workflow_row(session: Session, workflow_id: int) -> Row[Any]:
    """The workflow_definitions row of `workflow_id`, or NotFoundError."""
    return _row_by_id(session, WORKFLOWS, workflow_id, "Workflow")


def execution_row(session: Session, execution_id: int) -> Row[Any]:
    """The workflow_executions row of `execution_id`, or NotFoundError."""
    return _row_by_id(session, EXECUTIONS, execution_id, "Execution")


def workflow_rows(session: Session, *, active: bool | None = None, name: str | None = None) -> list[Row[Any]]:
    """The workflow_definitions rows by id: every one, or only the active (inactive) ones when
    `active` is given, only those named exactly `name` when it is given."""
    stmt = select(WORKFLOWS).order_by(WORKFLOWS.c.id)
    if active is not None:
        stmt = stmt.where(WORKFLOWS.c.is_active == active)
    if name is not None:
        stmt = stmt.where(WORKFLOWS.c.name == name)
    return _rows(session, stmt)


def node_type_rows(session: Session) -> list[Row[Any]]:
    """Every node_types row, in the order the database returns them."""
    return _rows(session, select(NODE_TYPES))


def environment_row(session: Session, name: str | None = None) -> Row[Any] | None:
    """The environments row named `name`, or with `name` None the active one; None when there is none."""
    condition = ENVIRONMENTS.c.is_active if name is None else ENVIRONMENTS.c.name == name
    found = _rows(session, select(ENVIRONMENTS).where(condition).limit(1))
    return found[0] if found else None


def secret_ciphertexts(session: Session) -> list[tuple[str, bytes]]:
    """(name, ciphertext) of every stored secret."""
    rows = _rows(session, select(SECRETS.c.name, SECRETS.c.ciphertext))
    return [(row.name, bytes(row.ciphertext)) for row in rows]
