"""The response cache's hit rate through the Python API (`WorkflowMonitor.get_cache_hit_rates`) and
REST (`GET /workflows/{id}/metrics?type=cache`), after real runs against the local test server."""

from __future__ import annotations

import asyncio

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.monitor import WorkflowMonitor
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database


def _graph(url: str) -> WorkflowGraph:
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="users", node_type="API_CALL", config={"method": "GET", "url": url, "cache": {"ttl": 600}}),
        Node(name="end", node_type="END"),
    ]
    connections = [
        Connection(from_node="start", to_node="users"),
        Connection(from_node="users", to_node="end"),
    ]
    return WorkflowGraph(workflow=Workflow(name="cached"), nodes=nodes, connections=connections)


def test_workflow_monitor_gives_the_hit_rate_and_none_before_any_lookup(http_server, tmp_path):
    db = Database(tmp_path / "cache.db")
    workflow_id = WorkflowService(db).create_from_graph(_graph(f"{http_server.url}/hit/wm")).workflow.id
    db.close()

    async def main():
        async with WorkflowMonitor(db=tmp_path / "cache.db") as monitor:
            before = await monitor.get_cache_hit_rates(workflow_id)
            async with WorkflowExecutor(db=tmp_path / "cache.db", load_plugins=False) as executor:
                for _ in range(4):
                    assert (await executor.execute_workflow(workflow_id, {})).status == "completed"
            return before, await monitor.get_cache_hit_rates(workflow_id)

    before, after = asyncio.run(main())
    assert before == {"hit_rate": None, "lookups": 0, "hits": 0, "nodes": {}}
    assert after == {
        "hit_rate": 0.75,
        "lookups": 4,
        "hits": 3,
        "nodes": {"users": {"lookups": 4, "hits": 3, "rate": 0.75}},
    }
    assert http_server.count("wm") == 1
