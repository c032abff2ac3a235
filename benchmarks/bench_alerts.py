"""Benchmark what alerts cost a run: the evaluation at each recorded run's end (docs/monitoring.md, "Alerts").

Run by hand (not a test):  python benchmarks/bench_alerts.py [--rounds 5] [--runs 100] [--history 5000]

On a fresh SQLite file with `--history` finished runs of the workflow already stored, it times:

1. START -> END runs, interleaved round by round in this one process: the evaluation switched off
   (the baseline), on for a workflow without rules, and on with four rules (one of each kind);
   medians of the per-run times and their ratios to the baseline;
2. `AlertService.evaluate_after_run` alone: no rules, four rules over the last 20 runs, four rules
   over the last day (every stored run in the window).

The load average is printed with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.alerts import AlertService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from flowdesk.store.tables import TABLES, utcnow


def load_average() -> str:
    source = Path("/proc/loadavg")
    return " ".join(source.read_text().split()[:3]) if source.exists() else "?"


def store_workflow(db: Database, name: str) -> int:
    graph = WorkflowGraph(
        workflow=Workflow(name=name),
        nodes=[Node(name="start", node_type="START"), Node(name="end", node_type="END")],
        connections=[Connection(from_node="start", to_node="end")],
    )
    stored = WorkflowService(db).create_from_graph(graph).workflow
    assert stored.id is not None
    return stored.id


def seed_history(db: Database, workflow_id: int, count: int) -> None:
    """`count` finished runs of the last day (one in ten failed), each with a step of node 'start'."""
    now = utcnow()
    runs = TABLES["workflow_executions"]
    steps = TABLES["workflow_execution_logs"]
    with db.engine.begin() as conn:
        first = conn.execute(runs.select().order_by(runs.c.id.desc()).limit(1)).first()
        base = (first.id if first else 0) + 1
        rows, step_rows = [], []
        for i in range(count):
            ended = now - timedelta(seconds=(count - i) * 86_000 / count)
            status = "failed" if i % 10 == 0 else "completed"
            rows.append(
                {
                    "id": base + i,
                    "workflow_id": workflow_id,
                    "status": status,
                    "progress": 1.0,
                    "started_at": ended - timedelta(seconds=0.5 + (i % 7)),
                    "completed_at": ended,
                    "created_at": ended,
                }
            )
            step_rows.append(
                {
                    "execution_id": base + i,
                    "step_name": "start",
                    "node_name": "start",
                    "node_type": "START",
                    "status": "failed" if status == "failed" else "success",
                    "attempts": 1,
                    "sequence": 0,
                    "created_at": ended,
                }
            )
        conn.execute(runs.insert(), rows)
        conn.execute(steps.insert(), step_rows)


def add_four_rules(service: AlertService, workflow_id: int, **window: Any) -> None:
    service.add_rule(workflow_id, "success_rate", 50, **window)
    service.add_rule(workflow_id, "p95_duration", 60, **window)
    service.add_rule(workflow_id, "failures_in_row", 50)
    service.add_rule(workflow_id, "node_error_rate", 90, node="start", **window)


async def run_many(executor: WorkflowExecutor, workflow_id: int, count: int) -> float:
    """Milliseconds per run of `count` runs one after another."""
    start = time.perf_counter()
    for _ in range(count):
        handle = await executor.execute_workflow(workflow_id, {})
        assert handle.status.value == "completed", handle.error_message
    return (time.perf_counter() - start) * 1000 / count


async def end_to_end(db: Database, ids: dict[str, int], rounds: int, runs: int) -> dict[str, list[float]]:
    executor = WorkflowExecutor(db=db, load_plugins=False)
    evaluate = executor._alert_after_run

    def switched_off(handle: Any) -> None:
        return None

    times: dict[str, list[float]] = {"baseline (evaluation off)": [], "no rules": [], "four rules": []}
    try:
        await run_many(executor, ids["none"], 20)  # warm up: plans, writer thread, imports
        await run_many(executor, ids["four"], 20)
        for _ in range(rounds):
            executor._alert_after_run = switched_off  # type: ignore[method-assign]
            times["baseline (evaluation off)"].append(await run_many(executor, ids["none"], runs))
            executor._alert_after_run = evaluate  # type: ignore[method-assign]
            times["no rules"].append(await run_many(executor, ids["none"], runs))
            times["four rules"].append(await run_many(executor, ids["four"], runs))
    finally:
        await executor.aclose()
    return times


def direct(db: Database, ids: dict[str, int], rounds: int) -> dict[str, list[float]]:
    service = AlertService(db)
    cases = {
        "no rules": ids["none"],
        "four rules, last 20 runs": ids["four"],
        "four rules, last day": ids["day"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, workflow_id in cases.items():
            start = time.perf_counter()
            for _ in range(20):
                service.evaluate_after_run(workflow_id, None)
            times[name].append((time.perf_counter() - start) * 1000 / 20)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100, help="runs per variant and round")
    parser.add_argument("--history", type=int, default=5000, help="finished runs stored per workflow")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "alerts-bench.db")
        ids = {name: store_workflow(db, f"bench {name}") for name in ("none", "four", "day")}
        for workflow_id in ids.values():
            seed_history(db, workflow_id, args.history)
        service = AlertService(db)
        add_four_rules(service, ids["four"], runs=20)
        add_four_rules(service, ids["day"], period=86_400)
        print(f"load average before: {load_average()}")
        runs = asyncio.run(end_to_end(db, ids, args.rounds, args.runs))
        base = statistics.median(runs["baseline (evaluation off)"])
        print(
            f"\nSTART -> END runs, ms per run (median of {args.rounds} rounds of {args.runs}; {args.history:,} stored runs)"
        )
        for name, values in runs.items():
            median = statistics.median(values)
            print(
                f"  {name:28s} {median:7.3f} ms   x{median / base:5.2f}   (min {min(values):.3f}, max {max(values):.3f})"
            )
        print(f"load average: {load_average()}")
        evaluations = direct(db, ids, args.rounds)
        print("\nAlertService.evaluate_after_run alone, ms per call (median)")
        for name, values in evaluations.items():
            print(f"  {name:28s} {statistics.median(values):7.3f} ms")
        print(f"load average after: {load_average()}")
        db.close()


if __name__ == "__main__":
    main()
