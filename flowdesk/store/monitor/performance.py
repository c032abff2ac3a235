"""Per-node step durations of a workflow (services/monitoring/performance.py).

Runs and total time per node come from `monitor_node_totals` (kept by triggers, migration 0003); a
duration at a rank from a walk of the (node_id, execution_time) index.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .dialect import index_walk, query

_RANKED = (
    "SELECT execution_time FROM workflow_execution_logs WHERE node_id = :node_id"
    " AND execution_time IS NOT NULL ORDER BY execution_time {direction} LIMIT 1 OFFSET :offset"
)


def workflow_nodes(conn: Connection, workflow_id: int) -> dict[int, tuple[str, str]]:
    """{node id: (name, node type)} of the workflow's current graph."""
    return {
        node_id: (name, node_type)
        for node_id, name, node_type in query(
            conn,
            "SELECT id, name, node_type FROM workflow_nodes WHERE workflow_id = :workflow_id",
            workflow_id=workflow_id,
        )
    }


def node_totals(conn: Connection, workflow_id: int) -> list[tuple[int, int, float]]:
    """(node id, step runs with a time, their total time in seconds) of the workflow's nodes that ran."""
    rows = query(
        conn,
        "SELECT t.node_id, t.runs, t.total_time FROM monitor_node_totals AS t"
        " JOIN workflow_nodes AS n ON n.id = t.node_id WHERE n.workflow_id = :workflow_id AND t.runs > 0",
        workflow_id=workflow_id,
    )
    return [(node_id, runs, total) for node_id, runs, total in rows]


def node_duration_at(conn: Connection, node_id: int, rank: int, runs: int) -> float | None:
    """The `rank`-th shortest (1-based) of a node's `runs` step durations, read from its index."""
    direction, offset = index_walk(runs, rank)
    row = query(conn, _RANKED.format(direction=direction), node_id=node_id, offset=offset).first()
    return float(row[0]) if row else None
