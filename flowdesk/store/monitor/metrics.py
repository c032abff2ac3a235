"""Custom metrics (`ctx.record_metric`) per workflow: the stored totals and the steps' own JSON
(services/monitoring/custom_metrics.py).

`monitor_metric_totals` keeps count, sum, min and max per node and metric name, maintained by
triggers on workflow_execution_logs (migration 0003); deleting a step can make a stored min/max wrong,
so the trigger marks the row stale and `refresh_totals` recomputes that node's totals from its steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import dialect_sql, query, since_clause

TOTALS_TABLE = "monitor_metric_totals"

#: (name, count, sum, min, max) of one metric.
MetricRow = tuple[str, int, float, float, float]


def stale_nodes(conn: Connection, workflow_id: int) -> list[int]:
    """Nodes of the workflow whose stored totals must be recomputed before they are read."""
    return [
        r[0]
        for r in query(
            conn,
            f"SELECT DISTINCT t.node_id FROM {TOTALS_TABLE} AS t JOIN workflow_nodes AS n ON n.id = t.node_id"
            " WHERE n.workflow_id = :workflow_id AND t.stale",
            workflow_id=workflow_id,
        )
    ]


def all_stale_nodes(conn: Connection) -> list[int]:
    """Every node, of any workflow, whose stored totals are marked stale, in id order."""
    return sorted(r[0] for r in query(conn, f"SELECT DISTINCT node_id FROM {TOTALS_TABLE} WHERE stale"))


def refresh_totals(conn: Connection, node_ids: list[int]) -> None:
    """Recompute the stored totals of `node_ids` from their steps (inside the caller's write transaction)."""
    sql = dialect_sql(conn)
    for start in range(0, len(node_ids), 500):
        chunk = node_ids[start : start + 500]
        query(conn, f"DELETE FROM {TOTALS_TABLE} WHERE node_id IN :ids", ids=chunk)
        query(
            conn,
            f"INSERT INTO {TOTALS_TABLE} (node_id, name, count, total, min_value, max_value, stale)"
            f" SELECT l.node_id, j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value), {sql.false}"
            f" FROM workflow_execution_logs AS l, {sql.metric_values('l')}"
            f" WHERE l.node_id IN :ids AND {sql.metric_filter('l')}"
            " GROUP BY l.node_id, j.key",
            ids=chunk,
        )


def metric_totals(conn: Connection, workflow_id: int) -> list[MetricRow]:
    """(name, count, sum, min, max) per metric over all of the workflow's steps, from the stored totals."""
    rows = query(
        conn,
        f"SELECT t.name, SUM(t.count), SUM(t.total), MIN(t.min_value), MAX(t.max_value)"
        f" FROM {TOTALS_TABLE} AS t JOIN workflow_nodes AS n ON n.id = t.node_id"
        " WHERE n.workflow_id = :workflow_id AND t.count > 0 GROUP BY t.name",
        workflow_id=workflow_id,
    )
    return [(name, count, total, low, high) for name, count, total, low, high in rows]


def step_metrics(conn: Connection, workflow_id: int, since: datetime | None) -> list[MetricRow]:
    """The same rows read straight from the steps' JSON (runs started at or after `since`, if given);
    like the stored totals, only steps whose node still exists (node_id not NULL) count."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id}
    where = since_clause(sql, since, params, "e.started_at")
    rows = query(
        conn,
        "SELECT j.key, COUNT(*), SUM(j.value), MIN(j.value), MAX(j.value)"
        " FROM workflow_executions AS e JOIN workflow_execution_logs AS l ON l.execution_id = e.id,"
        f" {sql.metric_values('l')}"
        f" WHERE e.workflow_id = :workflow_id{where} AND l.node_id IS NOT NULL AND {sql.metric_filter('l')}"
        " GROUP BY j.key",
        **params,
    )
    return [(name, count, total, low, high) for name, count, total, low, high in rows]
