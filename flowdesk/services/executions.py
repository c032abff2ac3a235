"""Run records: executions and their step logs, written by the engine's batching writer.

The bulk paths (`add_logs`, `update_logs`) are one executemany per batch inside one transaction, so a
writer thread can flush hundreds of steps in a few milliseconds. Creation, status changes, interruption
and deletion of runs are audited; step rows and progress updates are not (they are a log already).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from flowdesk.domain.enums import ExecutionStatus, StepStatus
from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.domain.models import Execution, ExecutionLog
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.bulk import insert_rows, read_rows, update_rows
from flowdesk.store.database import this_host
from flowdesk.store.mapping import (
    EXECUTION_FIELDS,
    LOG_COLUMNS,
    LOG_FIELDS,
    execution_from_row,
    log_from_row,
    log_values,
    logs_from_tuples,
    progress_fraction,
)
from flowdesk.store.plain_reads import execution_row
from flowdesk.store.run_rows import EXECUTIONS, LOGS
from flowdesk.store.tables import ExecutionRow, WorkflowRow, get_row, utcnow

_CHUNK = 500


def _execution_status(value: Any) -> ExecutionStatus:
    try:
        return ExecutionStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in ExecutionStatus)
        raise InvalidInputError(f"'{value}' is not an execution status (known: {known}).") from None


def _step_status(value: Any) -> StepStatus:
    try:
        return StepStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in StepStatus)
        raise InvalidInputError(f"'{value}' is not a step status (known: {known}).") from None


def _execution_row(session: Session, execution_id: int) -> ExecutionRow:
    return get_row(session, ExecutionRow, execution_id, "Execution")


def _id_list(ids: Iterable[int]) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:20])
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


class ExecutionService:
    """Creates, updates, lists and deletes runs and their step logs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- executions --------------------------------------------------------------------------

    def create_execution(
        self,
        workflow_id: int,
        execution_name: str | None = None,
        input_data: Any = None,
        config: dict[str, Any] | None = None,
        environment: str | None = None,
        status: ExecutionStatus | str = ExecutionStatus.PENDING,
        resumed_from_id: int | None = None,
    ) -> Execution:
        """Record a new run of a workflow by this process (runner pid and host filled in; a worker
        taking a queued `pending` run records its own)."""
        status = _execution_status(status)
        now = utcnow()
        with self.db.session() as session:
            if session.get(WorkflowRow, workflow_id) is None:
                raise NotFoundError(f"Workflow {workflow_id} does not exist.")
            if resumed_from_id is not None:
                _execution_row(session, resumed_from_id)
            row = ExecutionRow(
                workflow_id=workflow_id,
                execution_name=execution_name,
                status=status.value,
                input_data=input_data,
                config=dict(config or {}),
                environment=environment,
                progress=0.0,
                runner_pid=os.getpid(),
                runner_host=this_host(),
                resumed_from_id=resumed_from_id,
                started_at=now if status == ExecutionStatus.RUNNING else None,
                created_at=now,
            )
            session.add(row)
            session.flush()
            name = f" '{execution_name}'" if execution_name else ""
            record_audit(
                session,
                "execution",
                row.id,
                "create",
                f"Started run {row.id}{name} of workflow {workflow_id}.",
            )
            return execution_from_row(row)

    def get_execution(self, execution_id: int) -> Execution:
        """One run by id (a Core read: the server's `GET /executions/{id}` and every poll of a run's
        state come here, and the ORM's identity map costs twice the query for a row read once)."""
        table = ExecutionRow.__table__
        with self.db.session(read_only=True) as session:
            row = session.connection().execute(select(table).where(table.c.id == execution_id)).first()
        if row is None:
            raise NotFoundError(f"Execution {execution_id} does not exist.")
        return execution_from_row(row)

    def latest_attempt(self, execution_id: int) -> Execution:
        """The run itself, or when it was resumed the newest execution of its resume chain (the one a
        worker took over after the first one's worker died)."""
        with self.db.session(read_only=True) as session:
            row = _execution_row(session, execution_id)
            seen = {row.id}
            while True:
                child = session.scalars(
                    select(ExecutionRow)
                    .where(ExecutionRow.resumed_from_id == row.id)
                    .order_by(ExecutionRow.id)
                    .limit(1)
                ).first()
                if child is None or child.id in seen:
                    return execution_from_row(row)
                seen.add(child.id)
                row = child

    def cancel_pending(self, execution_id: int, reason: str = "cancelled by the user") -> bool:
        """Cancel a run still waiting in a queue (`pending`); False when it is not pending any more.
        One conditional UPDATE, so it cannot race a worker taking the run."""
        with self.db.session() as session:
            done = session.execute(
                update(ExecutionRow)
                .where(ExecutionRow.id == execution_id, ExecutionRow.status == ExecutionStatus.PENDING.value)
                .values(status=ExecutionStatus.CANCELLED.value, error_message=reason, completed_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
            if done:
                record_audit(
                    session, "execution", execution_id, "update",
                    f"Run {execution_id} went from pending to cancelled ({reason}).",
                )  # fmt: skip
            return bool(done)

    def list_executions(
        self,
        workflow_id: int | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Execution]:
        """Runs, newest first, optionally of one workflow and/or in one status (a name or an
        ExecutionStatus)."""
        stmt = select(ExecutionRow).order_by(ExecutionRow.id.desc()).limit(limit).offset(offset)
        if workflow_id is not None:
            stmt = stmt.where(ExecutionRow.workflow_id == workflow_id)
        if status is not None:
            stmt = stmt.where(ExecutionRow.status == _execution_status(status).value)
        with self.db.session(read_only=True) as session:
            return [execution_from_row(r) for r in session.scalars(stmt)]

    def update_execution(self, execution_id: int, **fields: Any) -> Execution:
        """Change some columns of a run. Moving to `running` stamps started_at and to a final status
        stamps completed_at, unless given."""
        unknown = set(fields) - set(EXECUTION_FIELDS)
        if unknown:
            raise InvalidInputError(f"An execution has no field {', '.join(sorted(unknown))}.")
        with self.db.session() as session:
            row = _execution_row(session, execution_id)
            old_status = row.status
            if "status" in fields:
                new = _execution_status(fields["status"])
                fields["status"] = new.value
                now = utcnow()
                if new == ExecutionStatus.RUNNING and row.started_at is None:
                    fields.setdefault("started_at", now)
                if new.is_final:
                    fields.setdefault("completed_at", now)
            if fields.get("progress") is not None:
                fields["progress"] = progress_fraction(fields["progress"])  # given 0-100, as read
            for key, value in fields.items():
                setattr(row, key, value)
            session.flush()
            if row.status != old_status:
                reason = f" ({row.error_message})" if row.error_message and row.status != "completed" else ""
                record_audit(
                    session,
                    "execution",
                    execution_id,
                    "update",
                    f"Run {execution_id} went from {old_status} to {row.status}{reason}.",
                )
            return execution_from_row(row)

    def mark_interrupted(self, execution_id: int, reason: str | None = None) -> Execution:
        """Mark a run as interrupted (its process stopped); `reason` becomes its error_message."""
        return self.update_execution(
            execution_id,
            status=ExecutionStatus.INTERRUPTED,
            error_message=reason or "Interrupted: the process running it stopped.",
        )

    def delete_executions(self, ids: Sequence[int]) -> int:
        """Delete runs with their step logs; returns how many runs were deleted."""
        ids = sorted(set(ids))
        if not ids:
            return 0
        deleted = 0
        with self.db.session() as session:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                result = session.execute(delete(EXECUTIONS).where(EXECUTIONS.c.id.in_(chunk)))
                deleted += result.rowcount or 0  # type: ignore[attr-defined]
            if deleted:
                record_audit(
                    session,
                    "execution",
                    ids[0] if len(ids) == 1 else None,
                    "delete",
                    f"Deleted {deleted} run(s): {_id_list(ids)}.",
                )
        return deleted

    # -- step logs ---------------------------------------------------------------------------

    def add_logs(self, logs: Sequence[ExecutionLog]) -> list[int]:
        """Insert step rows in one executemany; returns their ids in the same order."""
        if not logs:
            return []
        now = utcnow()
        rows = []
        for entry in logs:
            values = log_values(entry)
            values["status"] = _step_status(values["status"]).value
            rows.append({**values, "execution_id": entry.execution_id, "created_at": entry.created_at or now})
        with self.db.session() as session:
            return insert_rows(session.connection(), LOGS, rows)

    def update_logs(self, updates: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Update step rows by id; rows changing the same set of columns go in one executemany."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for log_id, fields in updates:
            unknown = set(fields) - set(LOG_FIELDS)
            if unknown:
                raise InvalidInputError(f"A step log has no field {', '.join(sorted(unknown))}.")
            values = dict(fields)
            if "status" in values:
                values["status"] = _step_status(values["status"]).value
            if values:
                key = tuple(sorted(values))
                groups.setdefault(key, []).append({"id": log_id, **{k: values[k] for k in key}})
        if not groups:
            return
        with self.db.session() as session:
            for rows in groups.values():
                update_rows(session.connection(), LOGS, rows)

    def get_logs(self, execution_id: int) -> list[ExecutionLog]:
        """A run's step rows in the order the steps started."""
        with self.db.session(read_only=True) as session:
            execution_row(session, execution_id)
            rows = read_rows(
                session.connection(), LOGS, LOG_COLUMNS, "execution_id", execution_id, ["sequence", "id"]
            )
            return logs_from_tuples(rows)

    def get_log(self, log_id: int) -> ExecutionLog:
        """One step row by id."""
        with self.db.session(read_only=True) as session:
            row = session.execute(select(LOGS).where(LOGS.c.id == log_id)).first()
            if row is None:
                raise NotFoundError(f"Step log {log_id} does not exist.")
            return log_from_row(row)
