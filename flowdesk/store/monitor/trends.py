"""A workflow's runs per hour or day (services/monitoring/trends.py): counts by status, completed durations.

Buckets are UTC hours or days of `started_at` (`DialectSql.buckets`); the window is inclusive at both
ends. The queries walk the (workflow_id, started_at, status, duration) index of migration 0003.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import DialectSql, dialect_sql, index_walk, query
from .times import from_db_time


def _completed(sql: DialectSql) -> str:
    return (
        f"FROM workflow_executions {sql.by_started_status_duration}"
        " WHERE workflow_id = :workflow_id AND status = 'completed' AND started_at >= :lo AND started_at <= :hi"
        f" AND {sql.duration} IS NOT NULL"
    )


def _window(sql: DialectSql, workflow_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    return {"workflow_id": workflow_id, "lo": sql.time(since), "hi": sql.time(until)}


def runs_by_bucket(
    conn: Connection, workflow_id: int, bucket: str, since: datetime, until: datetime
) -> list[tuple[datetime | None, str, int]]:
    """(bucket start as aware UTC, status, number of runs) of the runs started in [since, until]."""
    sql = dialect_sql(conn)
    rows = query(
        conn,
        f"SELECT {sql.buckets[bucket]} AS b, status, COUNT(*) FROM workflow_executions {sql.by_started_status_duration}"
        " WHERE workflow_id = :workflow_id AND started_at >= :lo AND started_at <= :hi GROUP BY b, status",
        **_window(sql, workflow_id, since, until),
    )
    return [(from_db_time(b), status, n) for b, status, n in rows]


def completed_by_bucket(
    conn: Connection, workflow_id: int, bucket: str, since: datetime, until: datetime
) -> list[tuple[datetime | None, int, float | None]]:
    """(bucket start as aware UTC, completed runs, their average duration in seconds) in [since, until]."""
    sql = dialect_sql(conn)
    rows = query(
        conn,
        f"SELECT {sql.buckets[bucket]} AS b, COUNT(*), AVG({sql.duration}) {_completed(sql)} GROUP BY b",
        **_window(sql, workflow_id, since, until),
    )
    return [(from_db_time(b), n, avg) for b, n, avg in rows]


def completed_duration_at_rank_between(
    conn: Connection, workflow_id: int, rank: int, count: int, since: datetime, until: datetime
) -> float | None:
    """The `rank`-th shortest of the `count` completed runs started in [since, until], by an index walk."""
    sql = dialect_sql(conn)
    direction, offset = index_walk(count, rank)
    row = query(
        conn,
        f"SELECT {sql.duration} {_completed(sql)} ORDER BY {sql.duration} {direction} LIMIT 1 OFFSET :offset",
        **_window(sql, workflow_id, since, until),
        offset=offset,
    ).first()
    return None if row is None else row[0]
