"""Benchmark: what a custom node type stored in the database costs per run, against a built-in node
doing the same small work, alternated in one process on one SQLite file.

Run by hand (not a test):  python benchmarks/bench_custom_types.py [--runs 200] [--rounds 5]

Two stored workflows START -> step -> END run with `execute_workflow` on one executor: the step is a
TRANSFORM rendering one template (a built-in: its plan is kept in the graph cache), or `DB_SHOUT`,
registered in the database with `execution_handler` `tests.support.node_handlers:shout` (renders
one template too), so each run reads its registration and compiles the plan again
(engine/custom_types.py). Two more sides call a child workflow (START -> END echoing its input):
a SUBWORKFLOW node (built in), and `DB_CHILD`, a stored custom type whose `execution_handler` is
`workflow:child` (a sub-workflow call through SUBWORKFLOW's handler, with the type's field as the
child's input). Each round runs `--runs` of each side in turn; the medians of the per-run wall and
CPU (user+sys of this process) times of each side, the ratios, and the load average are printed
(the machine is shared: read the ratios).
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

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from flowdesk.engine.executor import WorkflowExecutor  # noqa: E402
from flowdesk.services.node_types import NodeTypeService  # noqa: E402
from flowdesk.services.workflows import WorkflowService  # noqa: E402
from flowdesk.store import Database  # noqa: E402
from tests.support.graph_builder import chain, graph  # noqa: E402


def _workflow(db: Database, node_type: str, config: dict) -> int:
    nodes, conns = chain(("start", "START"), ("step", node_type, config), ("end", "END"))
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name=node_type)).workflow.id


async def _time_runs(ex: WorkflowExecutor, workflow_id: int, runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each of `runs` runs."""
    times = []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        handle = await ex.execute_workflow(workflow_id, {"text": "hi"})
        await handle.wait()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
        assert handle.status == "completed", handle.error_message
    return times


async def main_async(runs: int, rounds: int, path: str) -> dict[str, list[tuple[float, float]]]:
    db = Database(path)
    NodeTypeService(db).register_node_type(
        "DB_SHOUT", "", {"text": "string"}, "tests.support.node_handlers:shout"
    )
    NodeTypeService(db).register_node_type("DB_CHILD", "", {"text": "string"}, "workflow:child")
    child_nodes, child_conns = chain(
        ("start", "START"), ("end", "END", {"output": {"text": "{{input.text}}"}})
    )
    WorkflowService(db).create_from_graph(graph(child_nodes, child_conns, name="child"))
    sides = {
        "built-in TRANSFORM": _workflow(db, "TRANSFORM", {"template": {"shouted": "{{input.text}}"}}),
        "stored custom type": _workflow(db, "DB_SHOUT", {"text": "{{input.text}}"}),
        "SUBWORKFLOW call": _workflow(
            db, "SUBWORKFLOW", {"workflow": "child", "input": {"text": "{{input.text}}"}}
        ),
        "workflow: custom type": _workflow(db, "DB_CHILD", {"text": "{{input.text}}"}),
    }
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in sides}
    async with WorkflowExecutor(db=db, load_plugins=False) as ex:
        for wid in sides.values():
            await _time_runs(ex, wid, 5)  # warm up: imports, first plans
        for _ in range(rounds):
            for label, wid in sides.items():
                times[label].extend(await _time_runs(ex, wid, runs))
    db.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        times = asyncio.run(main_async(args.runs, args.rounds, os.path.join(folder, "bench.db")))
    medians = {label: statistics.median(w for w, _ in values) for label, values in times.items()}
    cpu = {label: statistics.median(c for _, c in values) for label, values in times.items()}
    for label, value in medians.items():
        print(
            f"{label:28s} median {value * 1000:.2f} ms per run, CPU {cpu[label] * 1000:.2f} ms "
            f"({len(times[label])} runs)"
        )
    base, stored, call, typed = medians.values()
    print(f"ratio stored custom / built-in: {stored / base:.2f}x, +{(stored - base) * 1000:.2f} ms per run")
    print(f"ratio workflow: type / SUBWORKFLOW: {typed / call:.2f}x, +{(typed - call) * 1000:.2f} ms per run")
    print("load average:", Path("/proc/loadavg").read_text().split()[:3])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
