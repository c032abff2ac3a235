"""The monitor's "Cache hits" card: the response cache's hit rate of a workflow whose stored runs
called the local test server, each node's rate in the card's tooltip (docs/monitoring.md)."""

from __future__ import annotations

import asyncio

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from flowdesk.ui.monitor import MonitorView
from tests.support.waiting import EVENTUALLY_MS


def _cached_calls(url: str) -> WorkflowGraph:
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="users", node_type="API_CALL", config={"method": "GET", "url": url, "cache": {"ttl": 600}}),
        Node(name="fresh", node_type="API_CALL", config={"method": "GET", "url": url}),
        Node(name="end", node_type="END"),
    ]
    connections = [
        Connection(from_node="start", to_node="users"),
        Connection(from_node="users", to_node="fresh"),
        Connection(from_node="fresh", to_node="end"),
    ]
    return WorkflowGraph(workflow=Workflow(name="cached monitor"), nodes=nodes, connections=connections)


def test_the_monitor_shows_the_cache_hit_rate(qtbot, http_server, tmp_path):
    db = Database(tmp_path / "monitor.db")
    workflow_id = (
        WorkflowService(db).create_from_graph(_cached_calls(f"{http_server.url}/hit/m1")).workflow.id
    )
    assert workflow_id is not None

    async def three_runs():
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            for _ in range(3):
                handle = await executor.execute_workflow(workflow_id, {})
                assert handle.status == "completed"

    asyncio.run(three_runs())
    assert http_server.count("m1") == 4  # users once, fresh (no cache) three times
    view = MonitorView(db, workflow_id)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        view.refresh()
    card = view.cards["cache"]
    assert (card.value.text(), card.note.text()) == ("67 %", "2 of 3 lookups")
    assert card.toolTip() == "users: 67 % (2 of 3)"
    db.close()
