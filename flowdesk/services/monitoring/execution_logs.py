"""The step logs of one execution, in the order the steps started (the SQL: store/monitor/logs.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.monitor import logs


def execution_logs(conn: Connection, execution_id: int) -> list[dict[str, Any]]:
    """Every step row of `execution_id` ordered by `sequence`, JSON decoded, times aware UTC."""
    return logs.step_rows(conn, execution_id)


def execution_summary(conn: Connection, execution_id: int) -> dict[str, Any] | None:
    """One execution's own row (status, times, current node, error), or None if there is none."""
    return logs.execution_row(conn, execution_id)
