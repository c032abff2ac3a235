"""Benchmark SUBWORKFLOW calls (issue 18, "Figures"). Run by hand, not a test:

    python benchmarks/bench_subworkflow.py [--runs 7] [--depth 100]

A chain of 100 workflows, each one doing one TRANSFORM step and then calling the next through a
SUBWORKFLOW node (100 runs in all, 99 of them child runs 1 to 99 levels deep), against the same
100 TRANSFORM steps inline in one workflow. Both are stored in one fresh SQLite file and run in the
same process, alternately, with their step rows persisted (each run waits for its rows to be
committed). The overhead per call is (median of the chain - median inline) / 99 calls. The load
average is printed with the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database


def _work(name: str) -> Node:
    return Node(name=name, node_type="TRANSFORM", config={"template": {"n": "{{input.n + 1}}"}})


def chain_level(i: int, depth: int) -> WorkflowGraph:
    """Level i: START -> work -> call level i+1 (the last level: START -> work -> END)."""
    nodes = [Node(name="start", node_type="START"), _work("work")]
    connections = [Connection(from_node="start", to_node="work")]
    last = "work"
    output = "{{work}}"
    if i < depth - 1:
        nodes.append(
            Node(
                name="call",
                node_type="SUBWORKFLOW",
                config={"workflow": f"level {i + 1:03d}", "input": {"n": "{{work.n}}"}},
            )
        )
        connections.append(Connection(from_node="work", to_node="call"))
        last, output = "call", "{{call}}"
    nodes.append(Node(name="end", node_type="END", config={"output": output}))
    connections.append(Connection(from_node=last, to_node="end"))
    config = {"max_subworkflow_depth": depth} if i == 0 else {}
    return WorkflowGraph(
        workflow=Workflow(name=f"level {i:03d}", config=config), nodes=nodes, connections=connections
    )


def inline(depth: int) -> WorkflowGraph:
    """The same work in one run: START -> work_000 -> ... -> work_099 -> END, each n + 1."""
    names = [f"work_{i:03d}" for i in range(depth)]
    nodes = [Node(name="start", node_type="START")]
    nodes += [
        Node(name=name, node_type="TRANSFORM", config={"template": {"n": f"{{{{{previous}.n + 1}}}}"}})
        for previous, name in zip(["input", *names], names, strict=False)
    ]
    nodes.append(Node(name="end", node_type="END", config={"output": f"{{{{{names[-1]}}}}}"}))
    order = ["start", *names, "end"]
    connections = [Connection(from_node=a, to_node=b) for a, b in zip(order, order[1:], strict=False)]
    return WorkflowGraph(workflow=Workflow(name="inline"), nodes=nodes, connections=connections)


async def timed(executor: WorkflowExecutor, workflow_id: int, depth: int) -> float:
    t0 = time.perf_counter()
    handle = await executor.execute_workflow(workflow_id, {"n": 0})
    await executor.flush()
    elapsed = time.perf_counter() - t0
    if handle.status != "completed" or handle.output_data != {"n": depth}:
        raise SystemExit(f"the run went wrong: {handle.status} {handle.error_message} {handle.output_data}")
    return elapsed


async def main(runs: int, depth: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.db")
        service = WorkflowService(db)
        chain_ids = [service.create_from_graph(chain_level(i, depth)).workflow.id for i in range(depth)]
        inline_id = service.create_from_graph(inline(depth)).workflow.id
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            await timed(executor, chain_ids[0], depth)  # warm-up: imports, plans, caches
            await timed(executor, inline_id, depth)
            chain_times: list[float] = []
            inline_times: list[float] = []
            for _ in range(runs):
                chain_times.append(await timed(executor, chain_ids[0], depth))
                inline_times.append(await timed(executor, inline_id, depth))
        db.close()
    chain_median = statistics.median(chain_times)
    inline_median = statistics.median(inline_times)
    calls = depth - 1
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}  cpus: {os.cpu_count()}")
    print(f"{depth}-deep SUBWORKFLOW chain: median {chain_median * 1e3:.1f} ms over {runs} runs")
    print(f"same {depth} TRANSFORM steps inline: median {inline_median * 1e3:.1f} ms")
    print(f"ratio chain / inline: {chain_median / inline_median:.2f}x")
    print(
        f"overhead per SUBWORKFLOW call: {(chain_median - inline_median) / calls * 1e3:.2f} ms ({calls} calls)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--depth", type=int, default=100)
    options = parser.parse_args()
    asyncio.run(main(options.runs, options.depth))
