"""Small builders for engine tests: graphs from tuples, a run in memory, step rows by name."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.errors import NodeFailure
from flowdesk.engine.executor import WorkflowExecutor


def graph(
    nodes: list[tuple], connections: list[tuple], *, config: dict | None = None, name: str = "w"
) -> WorkflowGraph:
    """nodes: (name, type[, config]); connections: (from, to[, type[, condition]])."""
    return WorkflowGraph(
        workflow=Workflow(name=name, config=config or {}),
        nodes=[Node(name=n[0], node_type=n[1], config=n[2] if len(n) > 2 else {}) for n in nodes],
        connections=[
            Connection(
                from_node=c[0],
                to_node=c[1],
                connection_type=c[2] if len(c) > 2 else "SEQUENCE",
                condition=c[3] if len(c) > 3 else None,
            )
            for c in connections
        ],
    )


def chain(*names_types: tuple) -> tuple[list[tuple], list[tuple]]:
    """A linear chain of nodes: returns (nodes, connections)."""
    nodes = list(names_types)
    return nodes, [(a[0], b[0]) for a, b in zip(nodes, nodes[1:], strict=False)]


async def fail_handler(ctx: Any) -> dict:
    """FAIL nodes fail with config.message (error_type config.error_type)."""
    raise NodeFailure(ctx.config.get("message", "boom"), error_type=ctx.config.get("error_type", "other"))


async def echo_handler(ctx: Any) -> dict:
    """ECHO nodes output their rendered config `value` (under "value")."""
    return {"value": ctx.render(ctx.config.get("value"))}


def executor(**kwargs: Any) -> WorkflowExecutor:
    """An executor without entry-point plugins, with the FAIL and ECHO test node types."""
    kwargs.setdefault("load_plugins", False)
    ex = WorkflowExecutor(**kwargs)
    ex.register_node_handler("FAIL", fail_handler)
    ex.register_node_handler("ECHO", echo_handler)
    return ex


def run_graph(g: WorkflowGraph, input_data: Any = None, **kwargs: Any) -> Any:
    """Run `g` in memory to its end with a fresh executor; returns the handle."""

    async def main() -> Any:
        ex = executor()
        try:
            return await ex.execute_graph(g, input_data, **kwargs)
        finally:
            await ex.aclose()

    return asyncio.run(main())


def steps(handle: Any) -> dict[str, dict]:
    """Step rows of an in-memory run by step name."""
    return {row["step_name"]: row for row in handle.steps}


def order(handle: Any) -> list[tuple[str, str]]:
    """(step_name, status) in start order."""
    return [(r["step_name"], r["status"]) for r in sorted(handle.steps, key=lambda r: r["sequence"])]
