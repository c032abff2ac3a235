"""What breaks: failed and cancelled steps grouped by classified error type and node.

Classification (docs/monitoring.md) reads the step's `error_type` column as the engine wrote it:
timeout -> "timeout", connection -> "connection_error", http_4xx/http_5xx -> "http_<code>" with the
status code the engine put in the message ("... answered 404 Not Found"), falling back to
"http_4xx"/"http_5xx" when no code is found, expression -> "expression_error", cancelled ->
"cancelled", assertion (an ASSERT that failed) -> "assertion", anything else (or nothing, on a failed step) -> "other"; a cancelled step without an
error type is "cancelled". The classification is SQL, the store's (store/monitor/errors.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.monitor import errors


def error_analysis(conn: Connection, workflow_id: int, since: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per (error type, node): count, last occurrence, and the last occurrence's message."""
    result: list[dict[str, Any]] = [
        {
            "error_type": kind,
            "count": count,
            "last_occurrence": last,
            "node": node,
            "sample_message": message,
            "executions": executions,
        }
        for kind, node, count, last, message, executions in errors.error_groups(conn, workflow_id, since)
    ]
    result.sort(key=lambda e: (-e["count"], e["error_type"], e["node"] or ""))
    return result


def error_executions(
    conn: Connection, workflow_id: int, error_type: str, node: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The executions (newest first) that had a step failing with `error_type` (at `node`, if given)."""
    return errors.error_execution_rows(conn, workflow_id, error_type, node, limit)
