"""LOOP with `concurrency` against PARALLEL (benchmark 4's shape), in the same run.

Starts the test server (tests/support/http_server.py under uvicorn) in its own process, then in this
process, alternating the cases in each round:

- PARALLEL: benchmark 4's stored workflow, START -> PARALLEL(max_concurrent C) -> N API_CALL -> END
  (bench_http.workflow_graph);
- LOOP: START -> LOOP(items = the run's N ids, concurrency C) -LOOP-> one API_CALL -> END, stored
  the same way: N iterations of one node;
- LOOP with `batch_size` 10 and concurrency C/10 (each iteration one call for ten items), to show
  what batching saves when the API takes a list;
- bare aiohttp at concurrency C, as the yardstick benchmark 4 uses.

Each workflow runs through WorkflowExecutor.execute_workflow, persisted to a temporary SQLite
database, the second run on the same executor (plan cached) measured. Prints the median requests/s
(iterations/s for the batched LOOP), each case's ratio to PARALLEL and to aiohttp, and the load
average before and after (the machine is shared).

    python benchmarks/bench_loop.py [--requests 1000] [--concurrency 50] [--runs 3]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_http import PATH, bench_aiohttp, free_port, start_server, workflow_graph  # noqa: E402


def loop_graph(url: str, concurrency: int, batch_size: int | None = None):
    """START -> each (LOOP over input.ids, `concurrency` at once) -LOOP-> call (API_CALL) -> END."""
    from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph

    config: dict = {"items": "{{input.ids}}", "concurrency": concurrency, "max_iterations": 10_000_000}
    if batch_size:
        config["batch_size"] = batch_size
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="each", node_type="LOOP", config=config),
        Node(name="call", node_type="API_CALL", config={"method": "GET", "url": url}),
        Node(name="end", node_type="END", config={"output": {"done": True}}),
    ]
    connections = [
        Connection(from_node="start", to_node="each"),
        Connection(from_node="each", to_node="call", connection_type="LOOP"),
        Connection(from_node="call", to_node="each"),
        Connection(from_node="each", to_node="end"),
    ]
    return WorkflowGraph(workflow=Workflow(name="bench-loop"), nodes=nodes, connections=connections)


async def run_stored(graph, db_path: str, input_data: dict) -> float:
    """Seconds of the second `execute_workflow` of `graph` (stored, persisted; plan cached)."""
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.store import Database

    db = Database(db_path)
    try:
        stored = WorkflowService(db).create_from_graph(graph)
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            elapsed = 0.0
            for _ in range(2):
                started = time.perf_counter()
                execution = await executor.execute_workflow(stored.workflow.id, input_data)
                elapsed = time.perf_counter() - started
                status = str(getattr(execution.status, "value", execution.status))
                if status != "completed":
                    raise SystemExit(f"the benchmark workflow ended {status}: {execution.error_message}")
            return elapsed
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    load_before = os.getloadavg()
    port = free_port()
    server = start_server(port, "auto")
    url = f"http://127.0.0.1:{port}{PATH}"
    ids = {"ids": list(range(n))}
    tmp = tempfile.TemporaryDirectory()
    counter = iter(range(10**6))

    def db() -> str:
        return os.path.join(tmp.name, f"bench-{next(counter)}.db")

    batch = 10
    cases = {
        "aiohttp": (n, lambda: bench_aiohttp(url, n, c)),
        f"PARALLEL, max_concurrent {c}": (n, lambda: run_stored(workflow_graph(url, n, c), db(), {})),
        f"LOOP, concurrency {c}": (n, lambda: run_stored(loop_graph(url, c), db(), ids)),
        f"LOOP, batch_size {batch}, concurrency {max(1, c // batch)} (iterations/s)": (
            -(-n // batch),
            lambda: run_stored(loop_graph(url, max(1, c // batch), batch), db(), ids),
        ),
    }
    rates: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for _ in range(args.runs):
            for name, (count, case) in cases.items():
                rates[name].append(count / asyncio.run(case()))
    finally:
        server.terminate()
        server.wait(timeout=10)
        tmp.cleanup()
    load_after = os.getloadavg()
    print(
        f"{n} GET {PATH} at concurrency {c}, local uvicorn server in its own process, {os.cpu_count()} cores; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    parallel = medians[f"PARALLEL, max_concurrent {c}"]
    print(f"median of {args.runs} rounds (each round runs every case once, in this order):")
    for name, med in medians.items():
        runs = ", ".join(f"{v:,.0f}" for v in rates[name])
        print(
            f"  {name:52s} {med:8,.0f}/s  ({med / parallel:5.0%} of PARALLEL, "
            f"{med / medians['aiohttp']:5.0%} of aiohttp)   runs: {runs}"
        )


if __name__ == "__main__":
    main()
