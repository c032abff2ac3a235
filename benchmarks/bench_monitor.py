"""Benchmark of the monitor: every WorkflowMonitor call against 100,000 runs and 1,000,000 step logs.

    python benchmarks/bench_monitor.py [--db PATH] [--executions N] [--reuse]
    python benchmarks/bench_monitor.py --reuse --baseline TREE [--rounds 3]

Creates (or, with --reuse, reuses) a SQLite database through flowdesk's Database, seeds it with
benchmarks/monitor_seed.py (four workflows, ten step logs per run, one transaction), then times each
call as the app makes it (awaited, SQL in a worker thread): the first call, then the median of 5.
The budget is 200 ms per call; the script exits 1 if a median is over it.

`--baseline TREE` compares this tree's flowdesk with another one's (TREE holds a `flowdesk/`
package, e.g. `git archive main flowdesk | tar -x -C TREE`) side by side in one run: each round
measures both on the same database in fresh processes, in alternating order; the table gives the
medians over the rounds (wall and CPU time) and their ratios, with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The flowdesk measured: this tree's, or the baseline tree a side-by-side run starts a process on.
sys.path.insert(0, os.environ.get("FLOWDESK_BENCH_TREE") or str(Path(__file__).resolve().parent.parent))

from monitor_seed import SeedWorkflow, node_names, seed_history  # noqa: E402

from flowdesk.services.monitor import WorkflowMonitor  # noqa: E402
from flowdesk.store import Database  # noqa: E402
from flowdesk.store.tables import NodeRow, WorkflowRow  # noqa: E402

BUDGET_MS = 200.0
#: (workflow name, node prefix, share of runs, speed factor)
WORKFLOWS = (
    ("Order sync", "orders", 4.0, 1.0),
    ("Billing export", "billing", 3.0, 1.4),
    ("CRM enrichment", "crm", 2.0, 0.7),
    ("Nightly reports", "reports", 1.0, 2.0),
)


def create_workflows(db: Database) -> list[SeedWorkflow]:
    """Store the benchmark's workflows and their nodes; return what the seeder needs."""
    seeds = []
    with db.session() as session:
        for name, prefix, weight, speed in WORKFLOWS:
            wf = WorkflowRow(name=name, description="benchmark", version="1.0", is_active=True)
            session.add(wf)
            session.flush()
            ids = {}
            for i, (node, node_type) in enumerate(node_names(prefix)):
                row = NodeRow(workflow_id=wf.id, name=node, node_type=node_type, position_x=i * 180.0)
                session.add(row)
                session.flush()
                ids[node] = row.id
            seeds.append(SeedWorkflow(wf.id, prefix, ids, weight, speed))
    return seeds


def build(path: Path, executions: int, now: datetime, analyze: bool = False) -> tuple[int, float]:
    """Create and seed the database at `path`; returns (id of the largest workflow, seconds taken)."""
    db = Database(path)
    seeds = create_workflows(db)
    db.close()
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("BEGIN")
    seed_history(conn, seeds, executions=executions, now=now.replace(tzinfo=None))
    conn.execute("COMMIT")
    if analyze:
        conn.execute("ANALYZE")
    conn.close()
    return seeds[0].workflow_id, time.perf_counter() - start


async def measure(
    monitor: WorkflowMonitor, workflow_id: int, execution_id: int
) -> list[tuple[str, float, float, float]]:
    """(call, first call ms, median of 5 ms) for every monitor call."""
    calls = {
        "get_execution_stats": lambda: monitor.get_execution_stats(workflow_id),
        "get_execution_stats(since=30d)": lambda: monitor.get_execution_stats(
            workflow_id, since=datetime.now(UTC).replace(microsecond=0) - _days(30)
        ),
        "get_execution_trend(day, 30d)": lambda: monitor.get_execution_trend(workflow_id, "day"),
        "get_execution_trend(hour, 48h)": lambda: monitor.get_execution_trend(workflow_id, "hour"),
        "get_performance_analysis": lambda: monitor.get_performance_analysis(workflow_id),
        "get_error_analysis": lambda: monitor.get_error_analysis(workflow_id),
        "get_error_executions(http_404)": lambda: monitor.get_error_executions(workflow_id, "http_404"),
        "get_active_executions": monitor.get_active_executions,
        "get_real_time_metrics": monitor.get_real_time_metrics,
        "get_execution_logs": lambda: monitor.get_execution_logs(execution_id),
        "get_custom_metrics": lambda: monitor.get_custom_metrics(workflow_id),
    }
    results = []
    for name, call in calls.items():
        t0 = time.perf_counter()
        await call()
        first = (time.perf_counter() - t0) * 1000
        times = []
        cpu = []
        for _ in range(5):
            t0 = time.perf_counter()
            c0 = time.process_time()
            await call()
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        results.append((name, first, statistics.median(times), statistics.median(cpu)))
    return results


def _days(n: float):
    from datetime import timedelta

    return timedelta(days=n)


def time_cleanup(path: Path, now: datetime) -> tuple[dict[str, int], float, float]:
    """Run cleanup(older_than_days=60, keep_last=1000) on a copy; returns counts, seconds, longest batch ms."""
    import shutil

    copy = path.with_name(path.stem + "-cleanup.db")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            shutil.copyfile(src, Path(str(copy) + suffix))
    from flowdesk.services.monitoring.retention import cleanup

    db = Database(copy)
    longest = 0.0
    last = time.perf_counter()

    def on_batch(_e: int, _l: int) -> None:
        nonlocal longest, last
        now_t = time.perf_counter()
        longest = max(longest, now_t - last)
        last = now_t + 0.005  # the pause between batches is not lock time

    start = time.perf_counter()
    counts = cleanup(db, older_than_days=60, keep_last=1000, now=now, on_batch=on_batch)
    total = time.perf_counter() - start
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    return counts, total, longest * 1000


def measure_db(db: Path, workflow_id: int, execution_id: int) -> list[tuple[str, float, float, float]]:
    """`measure` on a WorkflowMonitor of `db`, closed afterwards."""

    async def run() -> list[tuple[str, float, float, float]]:
        monitor = WorkflowMonitor(db=db)
        try:
            return await measure(monitor, workflow_id, execution_id)
        finally:
            monitor.close()

    return asyncio.run(run())


def measure_once(
    db: Path, workflow_id: int, execution_id: int, cleanup_now: datetime | None
) -> dict[str, Any]:
    """One measurement of the flowdesk this process imported: {call: [median ms, CPU ms]}, cleanup's."""

    found: dict[str, Any] = {
        "calls": {name: [median, cpu] for name, _f, median, cpu in measure_db(db, workflow_id, execution_id)}
    }
    if cleanup_now is not None:
        _counts, total, longest = time_cleanup(db, cleanup_now)
        found["cleanup"] = [total * 1000, longest]
    return found


def side_by_side(
    db: Path, baseline: Path, rounds: int, workflow_id: int, execution_id: int, cleanup: bool
) -> None:
    """Measure this tree and `baseline` in alternating fresh processes; print medians and ratios."""
    trees = {"before": str(baseline.resolve()), "after": str(Path(__file__).resolve().parent.parent)}
    found: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    load_before = os.getloadavg()
    for r in range(rounds):
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for label in order:
            command = [
                sys.executable,
                __file__,
                "--db",
                str(db),
                "--reuse",
                "--child",
                f"{workflow_id},{execution_id}",
            ]
            if not (cleanup and r == 0):
                command.append("--no-cleanup")
            env = {**os.environ, "FLOWDESK_BENCH_TREE": trees[label], "PYTHONPATH": trees[label]}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            found[label].append(json.loads(out.splitlines()[-1]))
    load_after = os.getloadavg()
    print(f"side by side, {rounds} rounds alternating; before = {trees['before']}, after = {trees['after']}")
    print(
        "load average "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + " before, "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + " after"
    )
    names = list(found["after"][0]["calls"])
    width = max(len(n) for n in names)
    print(
        f"\n{'call':<{width}}  {'before ms':>9}  {'after ms':>9}  {'ratio':>6}  {'CPU before':>10}  {'CPU after':>9}  {'ratio':>6}"
    )
    for name in names:
        wall = [
            statistics.median(run["calls"][name][0] for run in found[label]) for label in ("before", "after")
        ]
        cpu = [
            statistics.median(run["calls"][name][1] for run in found[label]) for label in ("before", "after")
        ]
        print(
            f"{name:<{width}}  {wall[0]:9.1f}  {wall[1]:9.1f}  {wall[1] / wall[0]:6.2f}"
            f"  {cpu[0]:10.1f}  {cpu[1]:9.1f}  {cpu[1] / cpu[0]:6.2f}"
        )
    if cleanup:
        (b_total, b_long), (a_total, a_long) = (found[label][0]["cleanup"] for label in ("before", "after"))
        print(
            f"cleanup(older_than_days=60, keep_last=1000), one run each: {b_total / 1000:.1f} s before, "
            f"{a_total / 1000:.1f} s after; longest batch {b_long:.0f} ms before, {a_long:.0f} ms after"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "flowdesk-bench-monitor.db")
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded --db")
    parser.add_argument(
        "--analyze", action="store_true", help="run ANALYZE after seeding (plans must not depend on it)"
    )
    parser.add_argument("--no-cleanup", action="store_true", help="skip timing cleanup (it copies the file)")
    parser.add_argument("--baseline", type=Path, help="a tree with another flowdesk/ to compare side by side")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a side-by-side run (default 3)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one measurement, as JSON (side-by-side runs)
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    if args.child:
        workflow_id, execution_id = (int(x) for x in args.child.split(","))
        print(json.dumps(measure_once(args.db, workflow_id, execution_id, None if args.no_cleanup else now)))
        return 0
    if args.reuse and args.db.exists():
        workflow_id = 1
        print(f"reusing {args.db}")
        if args.analyze:
            conn = sqlite3.connect(args.db)
            conn.execute("ANALYZE")
            conn.close()
            print("ran ANALYZE")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        workflow_id, seconds = build(args.db, args.executions, now, args.analyze)
        print(
            f"seeded {args.db}: {args.executions:,} executions, {args.executions * 10:,} step logs in {seconds:.1f} s"
        )
    conn = sqlite3.connect(args.db)
    n_exec, n_logs = conn.execute(
        "SELECT (SELECT COUNT(*) FROM workflow_executions), (SELECT COUNT(*) FROM workflow_execution_logs)"
    ).fetchone()
    wf_runs = conn.execute(
        "SELECT COUNT(*) FROM workflow_executions WHERE workflow_id = ?", (workflow_id,)
    ).fetchone()[0]
    execution_id = conn.execute(
        "SELECT MAX(id) FROM workflow_executions WHERE workflow_id = ? AND status = 'completed'",
        (workflow_id,),
    ).fetchone()[0]
    conn.close()
    print(
        f"database: {n_exec:,} executions, {n_logs:,} step logs; measured workflow {workflow_id} has {wf_runs:,} runs"
    )
    if args.baseline is not None:
        side_by_side(args.db, args.baseline, args.rounds, workflow_id, execution_id, not args.no_cleanup)
        return 0

    results = measure_db(args.db, workflow_id, execution_id)
    width = max(len(r[0]) for r in results)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} before timing")
    print(f"\n{'call':<{width}}  {'first ms':>9}  {'median ms':>9}  {'CPU ms':>7}  budget")
    over = False
    for name, first, median, cpu in results:
        ok = median < BUDGET_MS
        over = over or not ok
        print(f"{name:<{width}}  {first:9.1f}  {median:9.1f}  {cpu:7.1f}  {'ok' if ok else 'OVER'}")
    if not args.no_cleanup:
        counts, total, longest = time_cleanup(args.db, now)
        print(
            f"\ncleanup(older_than_days=60, keep_last=1000): {counts['deleted_executions']:,} executions and "
            f"{counts['deleted_logs']:,} logs in {counts['batches']} batches, {total:.1f} s in all, "
            f"longest batch transaction {longest:.0f} ms"
        )
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
