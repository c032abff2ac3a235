"""The ASSERT steps of a workflow's recent runs (services/monitoring/assertions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import dialect_sql, query, since_clause
from .times import from_db_time


def runs_with_asserts(
    conn: Connection, workflow_id: int, since: datetime | None, limit: int
) -> list[tuple[int, str, datetime | None]]:
    """(id, status, started_at aware UTC) of the newest `limit` runs (started at or after `since`, if
    given) that ran an ASSERT step, newest first."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id, "limit": int(limit)}
    where = since_clause(sql, since, params, "e.started_at")
    rows = query(
        conn,
        "SELECT e.id, e.status, e.started_at FROM workflow_executions AS e"
        f" WHERE e.workflow_id = :workflow_id{where} AND EXISTS (SELECT 1 FROM workflow_execution_logs AS l"
        " WHERE l.execution_id = e.id AND l.node_type = 'ASSERT')"
        " ORDER BY e.id DESC LIMIT :limit",
        **params,
    )
    return [(eid, status, from_db_time(started)) for eid, status, started in rows]


def assert_outputs(conn: Connection, execution_ids: list[int]) -> list[tuple[int, Any]]:
    """(execution id, stored output) of every ASSERT step of the executions `execution_ids`."""
    rows = query(
        conn,
        "SELECT l.execution_id, l.output_data FROM workflow_execution_logs AS l"
        " WHERE l.execution_id IN :ids AND l.node_type = 'ASSERT'",
        ids=execution_ids,
    )
    return [(eid, output) for eid, output in rows]
