"""Figures over time for the monitor's charts: runs per bucket by status, p50/p95 duration per bucket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.errors import InvalidInputError

from .percentile import index_walk, nearest_rank
from .sql_time import BY_STARTED_STATUS_DURATION, DURATION_SQL, from_db_time, seconds, to_db_time

#: bucket name -> (SQL giving the bucket's start from started_at, bucket length). Stored times are
#: 'YYYY-MM-DD HH:MM:SS.ffffff' text, so a prefix is the bucket (cheaper than strftime per run).
BUCKETS: dict[str, tuple[str, timedelta]] = {
    "hour": ("substr(started_at, 1, 13) || ':00:00'", timedelta(hours=1)),
    "day": ("substr(started_at, 1, 10) || ' 00:00:00'", timedelta(days=1)),
}


def bucket_starts(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    """Start of every bucket from the one holding `since` to the one holding `until`."""
    step = BUCKETS[bucket][1]
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
    fmt, step = BUCKETS[bucket]
    lo, hi = to_db_time(since), to_db_time(until)
    entries: dict[datetime, dict[str, Any]] = {
        start: {"start": start, "counts": {}, "completed_runs": 0, "avg": None, "p50": None, "p95": None}
        for start in bucket_starts(since, until, bucket)
    }

    def entry(text: str) -> dict[str, Any] | None:
        start = from_db_time(text)
        return entries.get(start) if start is not None else None

    for b, status, n in conn.exec_driver_sql(
        f"SELECT {fmt} AS b, status, COUNT(*) FROM workflow_executions {BY_STARTED_STATUS_DURATION}"
        " WHERE workflow_id = ? AND started_at >= ? AND started_at <= ? GROUP BY b, status",
        (workflow_id, lo, hi),
    ):
        e = entry(b)
        if e is not None:
            e["counts"][status] = n
    completed = (
        f"FROM workflow_executions {BY_STARTED_STATUS_DURATION}"
        " WHERE workflow_id = ? AND status = 'completed' AND started_at >= ? AND started_at <= ?"
        f" AND {DURATION_SQL} IS NOT NULL"
    )
    for b, n, avg in conn.exec_driver_sql(
        f"SELECT {fmt} AS b, COUNT(*), AVG({DURATION_SQL}) {completed} GROUP BY b",
        (workflow_id, lo, hi),
    ):
        e = entry(b)
        if e is None:
            continue
        e.update(completed_runs=n, avg=seconds(avg))
        # Nearest rank within the bucket: one short sorted walk per figure (a few hundred index entries),
        # cheaper in SQLite than ROW_NUMBER() over every run of the period.
        b_lo = to_db_time(max(e["start"], since))
        # The bucket's last instant (bounds are inclusive, timestamps have microseconds).
        b_hi = to_db_time(min(e["start"] + step - timedelta(microseconds=1), until))
        for key, p in (("p50", 50), ("p95", 95)):
            direction, offset = index_walk(n, nearest_rank(p, n))
            row = conn.exec_driver_sql(
                f"SELECT {DURATION_SQL} {completed} ORDER BY {DURATION_SQL} {direction} LIMIT 1 OFFSET ?",
                (workflow_id, b_lo, b_hi, offset),
            ).first()
            e[key] = seconds(row[0]) if row else None
    return list(entries.values())
