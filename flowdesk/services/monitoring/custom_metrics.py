"""Named custom metrics nodes recorded (`ctx.record_metric`), aggregated per workflow.

Reading the metrics JSON of hundreds of thousands of steps costs about half a second in SQLite, so
the monitoring migration keeps running totals in `monitor_metric_totals` (count, sum, min, max per
node and metric name), maintained by triggers on workflow_execution_logs. Deleting a step can make a
stored min/max wrong (the extreme may be gone); the trigger then marks the row stale and the next
read (or the retention job) recomputes that node's totals from its steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .sql_time import to_db_time

TOTALS_TABLE = "monitor_metric_totals"

_NUMERIC_METRICS = (
    "l.metrics IS NOT NULL AND json_valid(l.metrics) AND json_type(l.metrics) = 'object'"
    " AND j.type IN ('integer', 'real')"
)


def _shape(rows: Any) -> dict[str, dict[str, Any]]:
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


def stale_nodes(conn: Connection, workflow_id: int) -> list[int]:
    """Nodes of the workflow whose stored totals must be recomputed before they are read."""
    return [
        r[0]
        for r in conn.exec_driver_sql(
            f"SELECT DISTINCT t.node_id FROM {TOTALS_TABLE} AS t JOIN workflow_nodes AS n ON n.id = t.node_id"
            " WHERE n.workflow_id = ? AND t.stale",
            (workflow_id,),
        )
    ]


def refresh_totals(conn: Connection, node_ids: list[int]) -> None:
    """Recompute the stored totals of `node_ids` from their steps (inside the caller's write transaction)."""
    for start in range(0, len(node_ids), 500):
        chunk = node_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        conn.exec_driver_sql(f"DELETE FROM {TOTALS_TABLE} WHERE node_id IN ({marks})", tuple(chunk))
        conn.exec_driver_sql(
            f"INSERT INTO {TOTALS_TABLE} (node_id, name, count, total, min_value, max_value, stale)"
            " SELECT l.node_id, j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value), 0"
            " FROM workflow_execution_logs AS l, json_each(l.metrics) AS j"
            f" WHERE l.node_id IN ({marks}) AND {_NUMERIC_METRICS}"
            " GROUP BY l.node_id, j.key",
            tuple(chunk),
        )


def custom_metrics_from_totals(conn: Connection, workflow_id: int) -> dict[str, dict[str, Any]]:
    """{name: {count, sum, avg, min, max}} over all of the workflow's steps, from the stored totals."""
    return _shape(
        conn.exec_driver_sql(
            f"SELECT t.name, SUM(t.count), SUM(t.total), MIN(t.min_value), MAX(t.max_value)"
            f" FROM {TOTALS_TABLE} AS t JOIN workflow_nodes AS n ON n.id = t.node_id"
            " WHERE n.workflow_id = ? AND t.count > 0 GROUP BY t.name",
            (workflow_id,),
        )
    )


def custom_metrics_from_steps(
    conn: Connection, workflow_id: int, since: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """The same figures read straight from the steps' JSON (runs started at or after `since`, if given).

    Like the stored totals, only steps whose node still exists (node_id not NULL) count.
    """
    params: list[Any] = [workflow_id]
    where = ""
    if since is not None:
        where = " AND e.started_at >= ?"
        params.append(to_db_time(since))
    return _shape(
        conn.exec_driver_sql(
            "SELECT j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value)"
            " FROM workflow_executions AS e JOIN workflow_execution_logs AS l ON l.execution_id = e.id,"
            " json_each(l.metrics) AS j"
            f" WHERE e.workflow_id = ?{where} AND l.node_id IS NOT NULL AND {_NUMERIC_METRICS}"
            " GROUP BY j.key",
            tuple(params),
        )
    )
