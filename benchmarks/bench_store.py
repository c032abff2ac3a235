"""Benchmark the store: open, save and load of a 2,000-node / 3,000-connection graph, step-log batches.

Run by hand (not a test):  python benchmarks/bench_store.py [--runs 7] [--db URL]
Prints the median (and min/max) of several runs of each operation on a fresh SQLite file in a
temporary folder, or on the database `--db` names (e.g. an empty PostgreSQL database:
postgresql+psycopg://user@127.0.0.1/bench; it is migrated if new, and the rows it gets are left there).
Targets (issue 2): save and load each under 200 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flowdesk.domain import Connection, ExecutionLog, Node, Workflow, WorkflowGraph
from flowdesk.services import ExecutionService, WorkflowService
from flowdesk.store import Database
from flowdesk.store.database import masked_url

NODES, CONNECTIONS = 2_000, 3_000


def make_graph(seed: int = 1) -> WorkflowGraph:
    """A START, 1,998 API_CALL/DELAY nodes and an END; a spine plus random forward edges (3,000 in all)."""
    rng = random.Random(seed)
    names = ["start"] + [f"step {i:04d}" for i in range(1, NODES - 1)] + ["end"]
    nodes = []
    for i, name in enumerate(names):
        kind = "START" if i == 0 else "END" if i == NODES - 1 else rng.choice(["API_CALL", "DELAY"])
        config = (
            {"api_id": rng.randint(1, 50), "parameters": {"id": f"{{{{input.id_{i}}}}}"}}
            if kind == "API_CALL"
            else {}
        )
        nodes.append(
            Node(
                name=name, node_type=kind, config=config, position_x=i * 40.0, position_y=rng.uniform(0, 800)
            )
        )
    edges = [(names[i], names[i + 1]) for i in range(NODES - 1)]
    seen = set(edges)
    while len(edges) < CONNECTIONS:
        a = rng.randrange(0, NODES - 2)
        b = rng.randrange(a + 1, NODES)
        if (names[a], names[b]) not in seen:
            seen.add((names[a], names[b]))
            edges.append((names[a], names[b]))
    connections = [Connection(from_node=a, to_node=b) for a, b in edges]
    return WorkflowGraph(
        workflow=Workflow(name="benchmark", config={"timeout": 300}), nodes=nodes, connections=connections
    )


def edit(graph: WorkflowGraph, rng: random.Random) -> WorkflowGraph:
    """What an editor save looks like: every node sent back, 50 moved, 10 removed, 10 added."""
    drop = set(rng.sample([n.name for n in graph.nodes[1:-1]], 10))
    nodes = [
        n.model_copy(update={"position_x": n.position_x + 1}) if i % 40 == 0 else n
        for i, n in enumerate(graph.nodes)
        if n.name not in drop
    ]
    fresh = [Node(name=f"new {rng.random():.12f}", node_type="DELAY") for _ in range(10)]
    nodes += fresh
    connections = [c for c in graph.connections if c.from_node not in drop and c.to_node not in drop]
    connections += [Connection(from_node="start", to_node=n.name) for n in fresh]
    return graph.model_copy(update={"nodes": nodes, "connections": connections})


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process) milliseconds of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def report(label: str, times: tuple[list[float], list[float]], target: float | None = None) -> None:
    wall, cpu = times
    median = statistics.median(wall)
    verdict = "" if target is None else ("  ok" if median < target else f"  over {target:.0f} ms")
    print(
        f"{label:<44} wall median {median:7.1f} ms (min {min(wall):6.1f})   "
        f"cpu median {statistics.median(cpu):7.1f} ms{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", help="a database URL to measure instead of a fresh SQLite file")
    args = parser.parse_args()
    rng = random.Random(7)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.1f} at start; {args.runs} runs each")
    with tempfile.TemporaryDirectory() as tmp:
        path: Path | str = args.db or Path(tmp) / "bench.db"
        print(f"database: {masked_url(args.db) if args.db else 'a fresh SQLite file'}")
        start = time.perf_counter()
        Database(path).close()
        print(
            f"{'create (or open) + migrate the database':<44} {((time.perf_counter() - start) * 1000):8.1f} ms (once)"
        )
        report("open an up-to-date database", timed(lambda: Database(path).close(), args.runs * 3))

        db = Database(path)
        service = WorkflowService(db)
        graph = make_graph()
        print(f"graph: {len(graph.nodes)} nodes, {len(graph.connections)} connections")
        report(
            "create_from_graph (insert all)", timed(lambda: service.create_from_graph(graph), args.runs), 200
        )
        stored = service.create_from_graph(graph)
        wid = stored.workflow.id
        report("load_graph", timed(lambda: service.load_graph(wid), args.runs), 200)
        report(
            "save_graph, unchanged (editor sends all)",
            timed(lambda: service.save_graph(stored), args.runs),
            200,
        )
        current = [service.load_graph(wid)]

        def save_edited() -> None:
            current[0] = service.save_graph(edit(current[0], rng))

        report("save_graph, 50 moved/10 removed/10 added", timed(save_edited, args.runs), 200)

        executions = ExecutionService(db)
        run = executions.create_execution(wid)
        seq = iter(range(10**9))

        def batch() -> None:
            executions.add_logs(
                [
                    ExecutionLog(
                        execution_id=run.id,
                        step_name="s",
                        node_name="s",
                        status="success",
                        sequence=next(seq),
                        output_data={"status": 200, "body": {"ok": True}},
                        execution_time=0.01,
                    )
                    for _ in range(200)
                ]
            )

        report("add_logs, batch of 200 step rows", timed(batch, args.runs))
        report("get_logs, all rows of the run", timed(lambda: executions.get_logs(run.id), args.runs))
        db.close()


if __name__ == "__main__":
    main()
