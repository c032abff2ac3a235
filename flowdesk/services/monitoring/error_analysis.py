"""What breaks: failed and cancelled steps grouped by classified error type and node.

Classification (docs/monitoring.md) reads the step's `error_type` column as the engine wrote it:
timeout -> "timeout", connection -> "connection_error", http_4xx/http_5xx -> "http_<code>" with the
status code the engine put in the message ("... answered 404 Not Found"), falling back to
"http_4xx"/"http_5xx" when no code is found, expression -> "expression_error", cancelled ->
"cancelled", anything else (or nothing, on a failed step) -> "other"; a cancelled step without an
error type is "cancelled".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .sql_time import from_db_time, to_db_time

_CODE = "substr(l.error_message, instr(l.error_message, 'answered ') + 9, 3)"

ERROR_CLASS_SQL = f"""
CASE
  WHEN l.error_type IN ('http_4xx', 'http_5xx') THEN
    CASE WHEN instr(l.error_message, 'answered ') > 0 AND {_CODE} GLOB '[1-5][0-9][0-9]'
         THEN 'http_' || {_CODE} ELSE l.error_type END
  WHEN l.error_type = 'connection' THEN 'connection_error'
  WHEN l.error_type = 'expression' THEN 'expression_error'
  WHEN l.error_type IN ('timeout', 'cancelled') THEN l.error_type
  WHEN l.error_type IS NULL AND l.status = 'cancelled' THEN 'cancelled'
  ELSE 'other'
END"""

#: When a failure happened: the step's end, else its start, else when the row was written.
_WHEN = "COALESCE(l.completed_at, l.started_at, l.created_at)"
_ERROR_STEPS = "l.status IN ('failed', 'cancelled')"
# CROSS JOIN makes SQLite drive the join from the few failed steps instead of from all of the
# workflow's runs, whatever ANALYZE statistics say (they cannot see the status skew); the steps are
# read from the partial covering index ix_workflow_execution_logs_failed_steps (migration 0003).


def error_analysis(conn: Connection, workflow_id: int, since: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per (error type, node): count, last occurrence, and the last occurrence's message."""
    params: list[Any] = [workflow_id]
    where = ""
    if since is not None:
        where = " AND e.started_at >= ?"
        params.append(to_db_time(since))
    # SQLite fills bare columns (error_message) from the row holding the single MAX() aggregate.
    rows = conn.exec_driver_sql(
        f"SELECT {ERROR_CLASS_SQL} AS kind, l.node_name, COUNT(*), MAX({_WHEN}), l.error_message,"
        " COUNT(DISTINCT l.execution_id)"
        " FROM workflow_execution_logs AS l CROSS JOIN workflow_executions AS e ON e.id = l.execution_id"
        f" WHERE {_ERROR_STEPS} AND e.workflow_id = ?{where}"
        " GROUP BY kind, l.node_name",
        tuple(params),
    ).all()
    result = [
        {
            "error_type": kind,
            "count": count,
            "last_occurrence": from_db_time(last),
            "node": node,
            "sample_message": message,
            "executions": executions,
        }
        for kind, node, count, last, message, executions in rows
    ]
    result.sort(key=lambda e: (-e["count"], e["error_type"], e["node"] or ""))
    return result


def error_executions(
    conn: Connection, workflow_id: int, error_type: str, node: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The executions (newest first) that had a step failing with `error_type` (at `node`, if given)."""
    params: list[Any] = [workflow_id, error_type]
    where = ""
    if node is not None:
        where = " AND l.node_name = ?"
        params.append(node)
    params.append(int(limit))
    rows = conn.exec_driver_sql(
        "SELECT e.id, e.execution_name, e.status, e.started_at, e.completed_at,"
        f" MAX({_WHEN}), l.node_name, l.error_message"
        " FROM workflow_execution_logs AS l CROSS JOIN workflow_executions AS e ON e.id = l.execution_id"
        f" WHERE {_ERROR_STEPS} AND e.workflow_id = ? AND ({ERROR_CLASS_SQL}) = ?{where}"
        " GROUP BY e.id ORDER BY e.id DESC LIMIT ?",
        tuple(params),
    ).all()
    return [
        {
            "id": eid,
            "execution_name": name,
            "status": status,
            "started_at": from_db_time(started),
            "completed_at": from_db_time(completed),
            "failed_at": from_db_time(failed_at),
            "node": node_name,
            "error_message": message,
        }
        for eid, name, status, started, completed, failed_at, node_name, message in rows
    ]
