"""Named custom metrics nodes recorded (`ctx.record_metric`), aggregated per workflow.

Reading the metrics JSON of hundreds of thousands of steps costs about half a second in SQLite, so
the monitoring migration keeps running totals in `monitor_metric_totals` (count, sum, min, max per
node and metric name), maintained by triggers on workflow_execution_logs (SQLite triggers, or
PL/pgSQL functions on PostgreSQL). Deleting a step can make a stored min/max wrong (the extreme may
be gone); the trigger then marks the row stale and the next read (or the retention job) recomputes
that node's totals from its steps. The SQL is the store's (store/monitor/metrics.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.monitor import metrics
from flowdesk.store.monitor.metrics import TOTALS_TABLE, MetricRow, refresh_totals, stale_nodes

__all__ = [
    "TOTALS_TABLE",
    "custom_metrics_from_steps",
    "custom_metrics_from_totals",
    "refresh_totals",
    "stale_nodes",
]


def _shape(rows: Iterable[MetricRow]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name, count, total, low, high in rows:
        if not count:
            continue
        result[name] = {
            "count": int(count),
            "sum": float(total),
            "avg": float(total) / count,
            "min": float(low),
            "max": float(high),
        }
    return dict(sorted(result.items()))


def custom_metrics_from_totals(conn: Connection, workflow_id: int) -> dict[str, dict[str, Any]]:
    """{name: {count, sum, avg, min, max}} over all of the workflow's steps, from the stored totals."""
    return _shape(metrics.metric_totals(conn, workflow_id))


def custom_metrics_from_steps(
    conn: Connection, workflow_id: int, since: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """The same figures read straight from the steps' JSON (runs started at or after `since`, if given).

    Like the stored totals, only steps whose node still exists (node_id not NULL) count.
    """
    return _shape(metrics.step_metrics(conn, workflow_id, since))
