"""Benchmark: what one API_CALL step costs when the response cache answers it, against the same call
sent to the local test server and against a no-op step, alternated in one process.

Run by hand (not a test):  python benchmarks/bench_cache.py [--steps 100] [--rounds 7]

The test server (tests/support/http_server.py under uvicorn) runs in its own process, so this
process's CPU time is flowdesk's alone. Four in-memory chains START -> STEPS steps -> END run on one
ephemeral executor (`persist=False`: no step rows, the step path itself is measured) over a SQLite
file that only the database cache writes to:

- no-op: DELAY(0) steps;
- uncached: GET /hit/bench?i=N, one distinct URL per step, no cache;
- memory hit: the same calls with `cache: {"ttl": 3600}`, all answered from the engine's memory
  (warmed before the rounds);
- database hit: the same with `"persist": true`, the memory cache emptied before each run, so every
  step finds its answer in the database (the run after a restart).

Each round runs each chain once, in turn; per step: the run's wall time and CPU time (user+sys of
this process) divided by STEPS. Printed: medians over the rounds, ratios to the no-op step and to the
uncached call, and the load average before and after (the machine is shared: read the ratios).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import free_port, start_server  # noqa: E402

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph  # noqa: E402
from flowdesk.engine.executor import WorkflowExecutor  # noqa: E402


def chain(name: str, steps: list[Node]) -> WorkflowGraph:
    nodes = [Node(name="start", node_type="START"), *steps, Node(name="end", node_type="END")]
    connections = [
        Connection(from_node=a.name, to_node=b.name) for a, b in zip(nodes, nodes[1:], strict=False)
    ]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=connections)


def calls(base: str, count: int, cache: dict | None) -> list[Node]:
    config = {"method": "GET"} | ({"cache": cache} if cache else {})
    return [
        Node(name=f"s{i}", node_type="API_CALL", config={**config, "url": f"{base}/hit/bench?i={i}"})
        for i in range(count)
    ]


async def timed(executor: WorkflowExecutor, graph: WorkflowGraph, steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds per step of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    handle = await executor.execute_graph(graph, {})
    await handle.wait()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert handle.status == "completed", handle.error_message
    return wall / steps, cpu / steps


async def main_async(
    base: str, steps: int, rounds: int, db_path: str
) -> dict[str, list[tuple[float, float]]]:
    sides = {
        "no-op step (DELAY 0)": chain(
            "noop", [Node(name=f"s{i}", node_type="DELAY", config={"seconds": 0}) for i in range(steps)]
        ),
        "uncached call": chain("uncached", calls(base, steps, None)),
        "memory cache hit": chain("memory", calls(base, steps, {"ttl": 3600})),
        "database cache hit": chain("database", calls(base, steps, {"ttl": 3600, "persist": True})),
    }
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in sides}
    async with WorkflowExecutor(db=db_path, load_plugins=False, persist=False) as executor:
        for graph in sides.values():  # warm up: imports, plans, pool connections, both caches
            await timed(executor, graph, steps)
        for _ in range(rounds):
            for label, graph in sides.items():
                if label.startswith("database"):
                    executor.clear_response_cache()
                times[label].append(await timed(executor, graph, steps))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port, "auto")
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as folder:
            times = asyncio.run(
                main_async(
                    f"http://127.0.0.1:{port}", args.steps, args.rounds, os.path.join(folder, "cache.db")
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    load_after = os.getloadavg()
    medians = {
        label: (statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs))
        for label, pairs in times.items()
    }
    noop, uncached = medians["no-op step (DELAY 0)"], medians["uncached call"]
    print(f"{args.steps} steps per run, {args.rounds} rounds, medians per step (wall / CPU of this process)")
    for label, (wall, cpu) in medians.items():
        print(
            f"  {label:<22} {wall * 1e6:8.1f} µs / {cpu * 1e6:8.1f} µs"
            f"   {wall / noop[0]:5.2f}x the no-op step, {wall / uncached[0]:5.2f}x the uncached call"
        )
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f},"
        f" after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
