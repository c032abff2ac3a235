"""Where a workflow spends its time: per-node step durations, shares of total step time, p95.

Counted per node of the workflow's current graph (logs are joined by `node_id`; steps of a node that
was deleted since drop out), over every step run that recorded an `execution_time` — successful,
failed or cancelled, each loop iteration a run of its own. Runs and total time come from
`monitor_node_totals` (kept by triggers); min, max, p50 and p95 from walks of the
(node_id, execution_time) index; the SQL is the store's (store/monitor/performance.py). A node's
*share* is its total step time over the total of all its workflow's nodes, in percent; parallel
branches overlap in wall-clock time, so shares describe where work is spent, not the critical path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.monitor import performance

from .percentile import nearest_rank


def node_duration_at_rank(conn: Connection, node_id: int, rank: int, runs: int) -> float | None:
    """The `rank`-th shortest of a node's `runs` step durations, read from its (node_id, execution_time) index."""
    if runs < 1:
        return None
    return performance.node_duration_at(conn, node_id, rank, runs)


def performance_analysis(conn: Connection, workflow_id: int) -> dict[str, Any]:
    """`slowest_node` (highest average), `bottlenecks` (by share, descending) and `node_averages`."""
    names = performance.workflow_nodes(conn, workflow_id)
    # Runs and total time per node are kept by triggers (monitor_node_totals, migration 0003).
    rows = performance.node_totals(conn, workflow_id)
    grand_total = sum(float(r[2] or 0.0) for r in rows)
    nodes: list[dict[str, Any]] = []
    for node_id, runs, total in rows:
        name, node_type = names[node_id]
        nodes.append(
            {
                "node": name,
                "node_id": node_id,
                "node_type": node_type,
                "runs": runs,
                "total_time": float(total),
                "share": round(float(total) * 100.0 / grand_total, 2) if grand_total > 0 else 0.0,
                "avg_duration": float(total) / runs,
                "min_duration": node_duration_at_rank(conn, node_id, 1, runs),
                "max_duration": node_duration_at_rank(conn, node_id, runs, runs),
                "p50_duration": node_duration_at_rank(conn, node_id, nearest_rank(50, runs), runs),
                "p95_duration": node_duration_at_rank(conn, node_id, nearest_rank(95, runs), runs),
            }
        )
    bottlenecks = sorted(nodes, key=lambda n: (-n["total_time"], n["node"]))
    slowest = max(nodes, key=lambda n: (n["avg_duration"], n["node"]), default=None)
    return {
        "workflow_id": workflow_id,
        "slowest_node": slowest["node"] if slowest else None,
        "slowest_node_avg_duration": slowest["avg_duration"] if slowest else None,
        "total_step_time": grand_total,
        "bottlenecks": bottlenecks,
        "node_averages": {n["node"]: n["avg_duration"] for n in sorted(nodes, key=lambda n: n["node"])},
    }
