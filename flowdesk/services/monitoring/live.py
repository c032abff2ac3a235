"""What runs right now: active executions across all workflows and the recent start rate.

The SQL is the store's (store/monitor/live.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.mapping import progress_percent
from flowdesk.store.monitor import live

ACTIVE_STATUSES = ("running", "paused")
#: executions_per_minute is the number of runs started in this many minutes, divided by it.
RATE_WINDOW_MINUTES = 5


def active_executions(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Every running or paused execution, oldest first, with seconds elapsed since it started.

    Runs not started yet come first, on both databases.
    """
    result = []
    for row in live.active_rows(conn):
        start = row["started_at"]
        elapsed = max(0.0, (now - start).total_seconds()) if start else 0.0
        result.append(
            {
                "id": row["id"],
                "workflow_id": row["workflow_id"],
                "workflow_name": row["workflow_name"],
                "execution_name": row["execution_name"],
                "status": row["status"],
                "current_node": row["current_node"],
                "current_step": row["current_node"],  # the seed's name for it
                "progress": progress_percent(row["progress"]),  # 0-100, as the handle and Execution give it
                "started_at": start,
                "elapsed_time": round(elapsed, 3),
            }
        )
    return result


def start_rate(conn: Connection, now: datetime) -> tuple[int, float]:
    """(active execution count, runs started per minute over the last RATE_WINDOW_MINUTES)."""
    active = live.active_count(conn)
    started = live.started_between(conn, now - timedelta(minutes=RATE_WINDOW_MINUTES), now)
    return active, round(started / RATE_WINDOW_MINUTES, 2)
