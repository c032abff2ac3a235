"""What runs right now: active executions across all workflows and the recent start rate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.mapping import progress_percent

from .sql_dialect import dialect_sql, query
from .sql_time import from_db_time

ACTIVE_STATUSES = ("running", "paused")
#: executions_per_minute is the number of runs started in this many minutes, divided by it.
RATE_WINDOW_MINUTES = 5


def active_executions(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Every running or paused execution, oldest first, with seconds elapsed since it started.

    `+e.started_at` keeps SQLite from walking the started_at index to avoid a sort of a handful of rows.
    Runs not started yet come first, on both databases.
    """
    sql = dialect_sql(conn)
    rows = query(
        conn,
        "SELECT e.id, e.workflow_id, w.name, e.execution_name, e.status, e.current_node, e.progress,"
        " e.started_at, e.created_at"
        " FROM workflow_executions AS e JOIN workflow_definitions AS w ON w.id = e.workflow_id"
        f" WHERE e.status IN ('running', 'paused') ORDER BY {sql.unindexed('e.started_at')}{sql.nulls_first}, e.id",
    ).all()
    result = []
    for eid, wid, wname, ename, status, node, progress, started, created in rows:
        start = from_db_time(started) or from_db_time(created)
        elapsed = max(0.0, (now - start).total_seconds()) if start else 0.0
        result.append(
            {
                "id": eid,
                "workflow_id": wid,
                "workflow_name": wname,
                "execution_name": ename,
                "status": status,
                "current_node": node,
                "current_step": node,  # the seed's name for it
                "progress": progress_percent(progress),  # 0-100, as the handle and Execution give it
                "started_at": start,
                "elapsed_time": round(elapsed, 3),
            }
        )
    return result


def start_rate(conn: Connection, now: datetime) -> tuple[int, float]:
    """(active execution count, runs started per minute over the last RATE_WINDOW_MINUTES)."""
    sql = dialect_sql(conn)
    active = query(
        conn, "SELECT COUNT(*) FROM workflow_executions WHERE status IN ('running', 'paused')"
    ).scalar_one()
    started = query(
        conn,
        "SELECT COUNT(*) FROM workflow_executions WHERE started_at >= :since AND started_at <= :now",
        since=sql.time(now - timedelta(minutes=RATE_WINDOW_MINUTES)),
        now=sql.time(now),
    ).scalar_one()
    return int(active), round(started / RATE_WINDOW_MINUTES, 2)
