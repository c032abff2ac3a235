"""Runs in progress across all workflows and recent starts (services/monitoring/live.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import dialect_sql, query
from .times import from_db_time


def active_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every running or paused execution, oldest first (runs not started yet first, on both databases):
    id, workflow_id, workflow_name, execution_name, status, current_node, progress (as stored),
    started_at (aware UTC; when the run was created if it has not started).

    `+e.started_at` keeps SQLite from walking the started_at index to avoid a sort of a handful of rows.
    """
    sql = dialect_sql(conn)
    rows = query(
        conn,
        "SELECT e.id, e.workflow_id, w.name, e.execution_name, e.status, e.current_node, e.progress,"
        " e.started_at, e.created_at"
        " FROM workflow_executions AS e JOIN workflow_definitions AS w ON w.id = e.workflow_id"
        f" WHERE e.status IN ('running', 'paused') ORDER BY {sql.unindexed('e.started_at')}{sql.nulls_first}, e.id",
    ).all()
    return [
        {
            "id": eid,
            "workflow_id": wid,
            "workflow_name": wname,
            "execution_name": ename,
            "status": status,
            "current_node": node,
            "progress": progress,
            "started_at": from_db_time(started) or from_db_time(created),
        }
        for eid, wid, wname, ename, status, node, progress, started, created in rows
    ]


def active_count(conn: Connection) -> int:
    """The number of running or paused executions."""
    return int(
        query(
            conn, "SELECT COUNT(*) FROM workflow_executions WHERE status IN ('running', 'paused')"
        ).scalar_one()
    )


def started_between(conn: Connection, since: datetime, until: datetime) -> int:
    """The number of executions started in [since, until]."""
    sql = dialect_sql(conn)
    return int(
        query(
            conn,
            "SELECT COUNT(*) FROM workflow_executions WHERE started_at >= :since AND started_at <= :now",
            since=sql.time(since),
            now=sql.time(until),
        ).scalar_one()
    )
