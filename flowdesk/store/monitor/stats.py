"""A workflow's runs by status and the durations of its completed runs (services/monitoring/execution_stats.py).

Without `since` the queries walk the (workflow_id, status, duration) index, with it the
(workflow_id, started_at, status, duration) one (migration 0003; SQLite is told which by INDEXED BY).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.enums import ExecutionStatus

from .dialect import DialectSql, dialect_sql, index_walk, query, since_clause

#: The statuses a run ends in (completed, failed, cancelled, timed_out, interrupted, resumed).
FINAL_STATUSES: tuple[str, ...] = tuple(s.value for s in ExecutionStatus if s.is_final)


def _index(sql: DialectSql, since: datetime | None) -> str:
    return sql.by_status_duration if since is None else sql.by_started_status_duration


def status_counts(conn: Connection, workflow_id: int, since: datetime | None) -> list[tuple[str, int]]:
    """(status, number of runs) of the workflow's runs (started at or after `since`, if given)."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = since_clause(sql, since, params, "started_at")
    rows = query(
        conn,
        f"SELECT status, COUNT(*) FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id{where} GROUP BY status",
        **params,
    )
    return [(status, n) for status, n in rows]


def completed_durations(
    conn: Connection, workflow_id: int, since: datetime | None
) -> tuple[int, float | None, float | None, float | None]:
    """(count, average, shortest, longest) of the durations in seconds of completed runs with both times."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = since_clause(sql, since, params, "started_at")
    n, avg, low, high = query(
        conn,
        f"SELECT COUNT(*), AVG({sql.duration}), MIN({sql.duration}), MAX({sql.duration})"
        f" FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id AND status = 'completed' AND {sql.duration} IS NOT NULL{where}",
        **params,
    ).one()
    return int(n), avg, low, high


def completed_duration_at_rank(
    conn: Connection, workflow_id: int, rank: int, count: int, since: datetime | None
) -> float | None:
    """The `rank`-th shortest (1-based) of the `count` completed runs' durations, by a walk of the index."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = since_clause(sql, since, params, "started_at")
    direction, params["offset"] = index_walk(count, rank)
    row = query(
        conn,
        f"SELECT {sql.duration} FROM workflow_executions {_index(sql, since)}"
        f" WHERE workflow_id = :workflow_id AND status = 'completed' AND {sql.duration} IS NOT NULL{where}"
        f" ORDER BY {sql.duration} {direction} LIMIT 1 OFFSET :offset",
        **params,
    ).first()
    return None if row is None else row[0]
