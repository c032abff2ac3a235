"""START -> API_CALL (`call`) -> END run in memory by a WorkflowExecutor whose HTTP client sleeps on a
`FakeSleep` (the waits are recorded, not slept)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.http import HttpClient


class FakeSleep:
    """Records the waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def api_call_graph(
    config: dict[str, Any], *, workflow_config: dict[str, Any] | None = None, error_path: bool = False
):
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="call", node_type="API_CALL", config=config),
        Node(name="end", node_type="END"),
    ]
    connections = [Connection(from_node="start", to_node="call"), Connection(from_node="call", to_node="end")]
    if error_path:
        nodes.append(
            Node(name="handled", node_type="END", config={"output": {"status": "{{call.response.status}}"}})
        )
        connections.append(Connection(from_node="call", to_node="handled", connection_type="ERROR"))
    return WorkflowGraph(
        workflow=Workflow(name="api-call-test", config=workflow_config or {}),
        nodes=nodes,
        connections=connections,
    )


def execute(
    config, input_data=None, *, apis=(), secrets=None, workflow_config=None, sleep=None, error_path=False
):
    """Run the api_call_graph; returns (handle, the API_CALL step row, the sleep)."""
    sleep = sleep or FakeSleep()

    async def main():
        client = HttpClient(sleep=sleep, rng=random.Random(3))
        async with WorkflowExecutor(load_plugins=False, http=client) as executor:
            handle = await executor.execute_graph(
                api_call_graph(config, workflow_config=workflow_config, error_path=error_path),
                input_data or {},
                apis=list(apis),
                secrets=secrets or {},
            )
            return handle

    handle = asyncio.run(main())
    step = next(s for s in handle.steps if s["step_name"] == "call")
    return handle, step, sleep


def output(handle):
    """What the API_CALL node `call` put out."""
    return handle.output_data["call"]
