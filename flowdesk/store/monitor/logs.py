"""One execution's own row and its step rows (services/monitoring/execution_logs.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import query
from .times import from_db_time

_COLUMNS = (
    "id, node_id, step_name, node_name, node_type, status, input_data, output_data, error_message,"
    " error_type, attempts, execution_time, warnings, metrics, iteration_path, sequence, started_at, completed_at"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_JSON = {"input_data", "output_data", "warnings", "metrics", "iteration_path"}
_TIMES = {"started_at", "completed_at"}


def _value(column: str, raw: Any) -> Any:
    if raw is None:
        return None
    if column in _JSON and isinstance(raw, str):
        return json.loads(raw)
    if column in _TIMES:
        return from_db_time(raw)
    return raw


def step_rows(conn: Connection, execution_id: int) -> list[dict[str, Any]]:
    """Every step row of `execution_id` ordered by `sequence`, JSON decoded, times aware UTC."""
    rows = query(
        conn,
        f"SELECT {_COLUMNS} FROM workflow_execution_logs WHERE execution_id = :execution_id ORDER BY sequence, id",
        execution_id=execution_id,
    ).all()
    return [{name: _value(name, raw) for name, raw in zip(_NAMES, row, strict=True)} for row in rows]


def execution_row(conn: Connection, execution_id: int) -> dict[str, Any] | None:
    """One execution's own row (status, times aware UTC, current node, error, its workflow's name),
    or None if there is none."""
    row = query(
        conn,
        "SELECT e.id, e.workflow_id, w.name, e.execution_name, e.status, e.current_node, e.error_message,"
        " e.started_at, e.completed_at FROM workflow_executions AS e"
        " JOIN workflow_definitions AS w ON w.id = e.workflow_id WHERE e.id = :execution_id",
        execution_id=execution_id,
    ).first()
    if row is None:
        return None
    eid, wid, wname, name, status, node, error, started, completed = row
    return {
        "id": eid,
        "workflow_id": wid,
        "workflow_name": wname,
        "execution_name": name,
        "status": status,
        "current_node": node,
        "error_message": error,
        "started_at": from_db_time(started),
        "completed_at": from_db_time(completed),
    }


def workflow_name(conn: Connection, workflow_id: int) -> str | None:
    """The name of the workflow `workflow_id`, or None if there is none."""
    row = query(conn, "SELECT name FROM workflow_definitions WHERE id = :id", id=workflow_id).first()
    return None if row is None else str(row[0])
