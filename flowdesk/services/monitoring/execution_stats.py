"""Headline figures of one workflow's runs: totals, counts by status, success rate, durations.

Definitions (docs/monitoring.md): *finished* runs are those in a final status (completed, failed,
cancelled, timed_out, interrupted, resumed); `success_rate` is completed / finished * 100; durations
(completed_at - started_at) are taken over *completed* runs only; p50/p95 are nearest-rank.
The SQL is the store's (store/monitor/stats.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.store.monitor import stats
from flowdesk.store.monitor.stats import FINAL_STATUSES
from flowdesk.store.monitor.times import seconds

from .percentile import nearest_rank

__all__ = ["FINAL_STATUSES", "duration_percentile", "execution_stats"]


def duration_percentile(
    conn: Connection, workflow_id: int, p: float, count: int, since: datetime | None
) -> float | None:
    """Nearest-rank p-th percentile of completed runs' durations (`count` of them), via index + OFFSET."""
    if count < 1:
        return None
    return seconds(stats.completed_duration_at_rank(conn, workflow_id, nearest_rank(p, count), count, since))


def execution_stats(conn: Connection, workflow_id: int, since: datetime | None = None) -> dict[str, Any]:
    """Totals, counts by status, success rate and duration figures of one workflow's runs."""
    counts = {s.value: 0 for s in ExecutionStatus}
    for status, n in stats.status_counts(conn, workflow_id, since):
        counts[status] = counts.get(status, 0) + n
    total = sum(counts.values())
    finished = sum(counts.get(s, 0) for s in FINAL_STATUSES)
    completed = counts[ExecutionStatus.COMPLETED.value]

    n_timed, avg, low, high = stats.completed_durations(conn, workflow_id, since)
    return {
        "workflow_id": workflow_id,
        "since": since,
        "total_executions": total,
        "finished_executions": finished,
        "active_executions": counts["running"] + counts["paused"],
        "status_counts": counts,
        "successful_executions": completed,
        "failed_executions": finished - completed,
        "success_rate": round(completed * 100.0 / finished, 2) if finished else None,
        "timed_executions": n_timed,
        "avg_execution_time": seconds(avg),
        "min_execution_time": seconds(low),
        "max_execution_time": seconds(high),
        "p50_execution_time": duration_percentile(conn, workflow_id, 50, n_timed, since),
        "p95_execution_time": duration_percentile(conn, workflow_id, 95, n_timed, since),
    }
