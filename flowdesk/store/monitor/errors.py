"""Failed and cancelled steps of a workflow grouped by error type and node (services/monitoring/error_analysis.py).

The classification (docs/monitoring.md) is SQL so that it can be grouped and filtered by:
`error_class_sql` reads the step's `error_type` as the engine wrote it and, for HTTP errors, the
status code the engine put in the message ("... answered 404 Not Found").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import DialectSql, dialect_sql, query, since_clause
from .times import from_db_time


def error_class_sql(sql: DialectSql) -> str:
    """SQL classifying a step `l` into the error types of docs/monitoring.md."""
    answered = sql.position("l.error_message", "'answered '")
    code = f"substr(l.error_message, {answered} + 9, 3)"
    return f"""
CASE
  WHEN l.error_type IN ('http_4xx', 'http_5xx') THEN
    CASE WHEN {answered} > 0 AND {sql.status_code_test(code)}
         THEN 'http_' || {code} ELSE l.error_type END
  WHEN l.error_type = 'connection' THEN 'connection_error'
  WHEN l.error_type = 'expression' THEN 'expression_error'
  WHEN l.error_type IN ('timeout', 'cancelled', 'assertion') THEN l.error_type
  WHEN l.error_type IS NULL AND l.status = 'cancelled' THEN 'cancelled'
  ELSE 'other'
END"""


#: When a failure happened: the step's end, else its start, else when the row was written.
_WHEN = "COALESCE(l.completed_at, l.started_at, l.created_at)"
_ERROR_STEPS = "l.status IN ('failed', 'cancelled')"
# On SQLite, CROSS JOIN makes the planner drive the join from the few failed steps instead of from
# all of the workflow's runs, whatever ANALYZE statistics say (they cannot see the status skew); the
# steps are read from the partial covering index ix_workflow_execution_logs_failed_steps (migration
# 0003). PostgreSQL's planner finds the partial index by itself.


def error_groups(
    conn: Connection, workflow_id: int, since: datetime | None
) -> list[tuple[str, str | None, int, datetime | None, str | None, int]]:
    """(error type, node name, failed steps, last failure, its message, executions) per group, unordered."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = since_clause(sql, since, params, "e.started_at")
    rows = query(
        conn,
        f"SELECT {error_class_sql(sql)} AS kind, l.node_name, COUNT(*), MAX({_WHEN}),"
        f" {sql.latest('l.error_message', _WHEN)}, COUNT(DISTINCT l.execution_id)"
        f" FROM workflow_execution_logs AS l {sql.failed_steps_join} workflow_executions AS e ON e.id = l.execution_id"
        f" WHERE {_ERROR_STEPS} AND e.workflow_id = :workflow_id{where}"
        " GROUP BY kind, l.node_name",
        **params,
    )
    return [
        (kind, node, count, from_db_time(last), message, executions)
        for kind, node, count, last, message, executions in rows
    ]


def error_execution_rows(
    conn: Connection, workflow_id: int, error_type: str, node: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest `limit` executions that had a step failing with `error_type` (at `node`, if given):
    id, execution_name, status, started_at, completed_at, failed_at (the last such failure), node and
    error_message (of that failure); times aware UTC."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id, "error_type": error_type, "limit": int(limit)}
    where = ""
    if node is not None:
        where = " AND l.node_name = :node"
        params["node"] = node
    rows = query(
        conn,
        "SELECT e.id, e.execution_name, e.status, e.started_at, e.completed_at,"
        f" MAX({_WHEN}), {sql.latest('l.node_name', _WHEN)}, {sql.latest('l.error_message', _WHEN)}"
        f" FROM workflow_execution_logs AS l {sql.failed_steps_join} workflow_executions AS e ON e.id = l.execution_id"
        f" WHERE {_ERROR_STEPS} AND e.workflow_id = :workflow_id AND ({error_class_sql(sql)}) = :error_type{where}"
        " GROUP BY e.id ORDER BY e.id DESC LIMIT :limit",
        **params,
    )
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
