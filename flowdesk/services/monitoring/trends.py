"""Figures over time for the monitor's charts: runs per bucket by status, p50/p95 duration per bucket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.errors import InvalidInputError

from .percentile import index_walk, nearest_rank
from .sql_dialect import dialect_sql, query
from .sql_time import from_db_time, seconds

#: bucket name -> bucket length (the SQL giving a run's bucket is in sql_dialect.py, in UTC).
BUCKETS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def bucket_starts(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    """Start of every bucket from the one holding `since` to the one holding `until`."""
    step = BUCKETS[bucket]
    first = since.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        first = first.replace(hour=0)
    starts = []
    current = first
    while current <= until:
        starts.append(current)
        current += step
    return starts


def execution_trend(
    conn: Connection, workflow_id: int, *, since: datetime, until: datetime, bucket: str = "day"
) -> list[dict[str, Any]]:
    """One entry per bucket (empty buckets included): run counts by status and completed-run durations.

    Each entry: `start` (aware UTC), `counts` {status: n}, `completed_runs`, `avg`, `p50`, `p95`
    (seconds, nearest rank within the bucket, None without completed runs).
    """
    if bucket not in BUCKETS:
        raise InvalidInputError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    sql = dialect_sql(conn)
    fmt, step = sql.buckets[bucket], BUCKETS[bucket]
    hint = sql.by_started_status_duration
    entries: dict[datetime, dict[str, Any]] = {
        start: {"start": start, "counts": {}, "completed_runs": 0, "avg": None, "p50": None, "p95": None}
        for start in bucket_starts(since, until, bucket)
    }

    def entry(value: Any) -> dict[str, Any] | None:
        start = from_db_time(value)
        return entries.get(start) if start is not None else None

    window = {"workflow_id": workflow_id, "lo": sql.time(since), "hi": sql.time(until)}
    for b, status, n in query(
        conn,
        f"SELECT {fmt} AS b, status, COUNT(*) FROM workflow_executions {hint}"
        " WHERE workflow_id = :workflow_id AND started_at >= :lo AND started_at <= :hi GROUP BY b, status",
        **window,
    ):
        e = entry(b)
        if e is not None:
            e["counts"][status] = n
    completed = (
        f"FROM workflow_executions {hint}"
        " WHERE workflow_id = :workflow_id AND status = 'completed' AND started_at >= :lo AND started_at <= :hi"
        f" AND {sql.duration} IS NOT NULL"
    )
    for b, n, avg in query(
        conn, f"SELECT {fmt} AS b, COUNT(*), AVG({sql.duration}) {completed} GROUP BY b", **window
    ):
        e = entry(b)
        if e is None:
            continue
        e.update(completed_runs=n, avg=seconds(avg))
        # Nearest rank within the bucket: one short sorted walk per figure (a few hundred index entries),
        # cheaper in SQLite than ROW_NUMBER() over every run of the period.
        b_lo = sql.time(max(e["start"], since))
        # The bucket's last instant (bounds are inclusive, timestamps have microseconds).
        b_hi = sql.time(min(e["start"] + step - timedelta(microseconds=1), until))
        for key, p in (("p50", 50), ("p95", 95)):
            direction, offset = index_walk(n, nearest_rank(p, n))
            row = query(
                conn,
                f"SELECT {sql.duration} {completed} ORDER BY {sql.duration} {direction} LIMIT 1 OFFSET :offset",
                workflow_id=workflow_id,
                lo=b_lo,
                hi=b_hi,
                offset=offset,
            ).first()
            e[key] = seconds(row[0]) if row else None
    return list(entries.values())
