"""Figures over time for the monitor's charts: runs per bucket by status, p50/p95 duration per bucket.

The SQL is the store's (store/monitor/trends.py); the buckets, empty ones included, and the
nearest-rank percentiles are worked out here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.errors import InvalidInputError
from flowdesk.store.monitor import trends
from flowdesk.store.monitor.times import seconds

from .percentile import nearest_rank

#: bucket name -> bucket length (the SQL giving a run's bucket is in store/monitor/dialect.py, in UTC).
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
    step = BUCKETS[bucket]
    entries: dict[datetime, dict[str, Any]] = {
        start: {"start": start, "counts": {}, "completed_runs": 0, "avg": None, "p50": None, "p95": None}
        for start in bucket_starts(since, until, bucket)
    }

    def entry(start: datetime | None) -> dict[str, Any] | None:
        return entries.get(start) if start is not None else None

    for b, status, n in trends.runs_by_bucket(conn, workflow_id, bucket, since, until):
        e = entry(b)
        if e is not None:
            e["counts"][status] = n
    for b, n, avg in trends.completed_by_bucket(conn, workflow_id, bucket, since, until):
        e = entry(b)
        if e is None:
            continue
        e.update(completed_runs=n, avg=seconds(avg))
        # Nearest rank within the bucket: one short sorted walk per figure (a few hundred index entries),
        # cheaper in SQLite than ROW_NUMBER() over every run of the period.
        b_lo = max(e["start"], since)
        # The bucket's last instant (bounds are inclusive, timestamps have microseconds).
        b_hi = min(e["start"] + step - timedelta(microseconds=1), until)
        for key, p in (("p50", 50), ("p95", 95)):
            e[key] = seconds(
                trends.completed_duration_at_rank_between(
                    conn, workflow_id, nearest_rank(p, n), n, b_lo, b_hi
                )
            )
    return list(entries.values())
