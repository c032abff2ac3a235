"""The step logs of one execution, in the order the steps started."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from .sql_dialect import query
from .sql_time import from_db_time

_COLUMNS = (
    "id, node_id, step_name, node_name, node_type, status, input_data, output_data, error_message,"
    " error_type, attempts, execution_time, warnings, metrics, iteration_path, sequence, started_at, completed_at"
)
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


def execution_logs(conn: Connection, execution_id: int) -> list[dict[str, Any]]:
    """Every step row of `execution_id` ordered by `sequence`, JSON decoded, times aware UTC."""
    names = [c.strip() for c in _COLUMNS.split(",")]
    rows = query(
        conn,
        f"SELECT {_COLUMNS} FROM workflow_execution_logs WHERE execution_id = :execution_id ORDER BY sequence, id",
        execution_id=execution_id,
    ).all()
    return [{name: _value(name, raw) for name, raw in zip(names, row, strict=True)} for row in rows]


def execution_summary(conn: Connection, execution_id: int) -> dict[str, Any] | None:
    """One execution's own row (status, times, current node, error), or None if there is none."""
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
