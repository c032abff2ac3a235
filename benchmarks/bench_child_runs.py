"""What telling child runs apart costs the monitor's headline figures.

    python benchmarks/bench_child_runs.py [--executions N] [--rounds R]

Seeds a SQLite database as bench_monitor.py does (benchmarks/monitor_seed.py: four workflows, ten
step logs per run), marks every tenth run of the largest workflow as a SUBWORKFLOW child run, then
times, alternated in rounds in this one process on the largest workflow: the figures as they were
(`execution_stats`, the baseline); the baseline with `child_figures` (store/child_runs.py), also
with `top_level_only=True` (the top-level runs' figures, `execution_stats(top_level=True)`); and
the whole `MonitorQueries.execution_stats` the monitor view calls (one read transaction); and the
baseline and the baseline with `child_figures` on the second workflow, which has neither (the common case).
Prints the median wall and CPU (this process's CPU time) milliseconds of each, the ratio to the
baseline and the load average.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_monitor import build  # noqa: E402

from flowdesk.services.monitoring import MonitorQueries  # noqa: E402
from flowdesk.services.monitoring.execution_stats import execution_stats  # noqa: E402
from flowdesk.store import Database  # noqa: E402
from flowdesk.store.child_runs import child_figures  # noqa: E402


def mark_children(path: Path, workflow_id: int) -> int:
    """Every tenth run of the workflow becomes a child run of the run before it (how many), and
    one of its API nodes a SUBWORKFLOW node."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "UPDATE workflow_executions SET parent_execution_id = id - 1, parent_step = 'call'"
            " WHERE workflow_id = ? AND id % 10 = 0",
            (workflow_id,),
        )
        children = int(conn.execute("SELECT changes()").fetchone()[0])
        conn.execute(  # one API node becomes a SUBWORKFLOW: its steps are the time spent in children
            "UPDATE workflow_nodes SET node_type = 'SUBWORKFLOW' WHERE id = (SELECT MIN(id) FROM"
            " workflow_nodes WHERE workflow_id = ? AND node_type = 'API_CALL')",
            (workflow_id,),
        )
        return children
    finally:
        conn.close()


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of `fn()` (the SQL runs in this thread: process CPU time counts it)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        workflow_id, seconds = build(path, args.executions, datetime.now(UTC))
        children = mark_children(path, workflow_id)
        db = Database(path)
        queries = MonitorQueries(db)

        plain = workflow_id + 1  # the second workflow: no child run, no SUBWORKFLOW node

        def read(fn: Callable[..., object], wid: int = workflow_id) -> Callable[[], object]:
            def call() -> object:
                with db.session(read_only=True) as session:
                    return fn(session.connection(), wid)

            return call

        def figures(conn: Any, wid: int, top_level_only: bool = False) -> object:
            stats = execution_stats(conn, wid)
            stats.update(child_figures(conn, stats, wid))
            if top_level_only and stats["child_executions"]:
                stats.update(execution_stats(conn, wid, top_level=True))
            return stats

        calls = {
            "execution_stats (baseline)": read(execution_stats),
            "+ child_figures": read(figures),
            "... top_level_only=True": read(lambda conn, wid: figures(conn, wid, True)),
            "MonitorQueries.execution_stats": lambda: queries.execution_stats(workflow_id),
            "plain workflow: baseline": read(execution_stats, plain),
            "plain workflow: + child_figures": read(figures, plain),
        }
        for call in calls.values():
            call()  # warm the page cache
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, call in calls.items():
                samples[name].append(timed(call))
        runs = queries.execution_stats(workflow_id)["total_executions"]
        db.close()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"seeded {args.executions:,} runs in {seconds:.1f} s; the workflow timed has {runs:,} runs,")
    print(f"{children:,} of them child runs; {args.rounds} rounds; load average {' '.join(load)}")
    base = statistics.median(w for w, _ in samples["execution_stats (baseline)"])
    print(f"{'call':34} {'wall ms':>9} {'CPU ms':>8} {'× baseline':>11}")
    for name, values in samples.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"{name:34} {wall:9.1f} {cpu:8.1f} {wall / base:11.2f}")


if __name__ == "__main__":
    main()
