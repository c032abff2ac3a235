"""Benchmark the execution engine (issue 3, benchmarks 1-3). Run by hand, not a test:

    python benchmarks/bench_engine.py [--runs 5] [--against ../main [--rounds 5]] [--node-red [--rounds 5]]

1. A chain of 1,000 DELAY(0) nodes, steps persisted: median overhead per node against a bare asyncio
   loop doing the same 1,000 awaits (target: at most 100 us per node).
2. PARALLEL with 1,000 DELAY(0) branches, persisted (target: at most 150 ms in all).
3. 500 runs of START -> END one after another, persisted (target: at least 500 executions per second).
4. Benchmarks 1 and 2 in the ephemeral mode (`WorkflowExecutor(persist=False)`: no execution row, no
   step rows), beside a bare asyncio baseline in the same run: 1,000 awaits in a row, and 1,000 tasks
   gathered (issue 15's targets: persisted chain <= 25 ms, fan-out <= 35 ms; ephemeral <= 12 ms and
   <= 20 ms). `--only-ephemeral` runs just this part (it needs the ephemeral mode; the others run on
   older code too, for a side-by-side comparison).

Each figure is the median of several runs on a fresh SQLite file in a temporary folder; each run
waits for its step rows to be committed. The rows go through the ExecutionWriter thread; batches of
200 or more go on to the step sink process (engine/step_sink.py). Process CPU time (event loop +
writer thread) and the step sink's CPU time are printed beside the wall time: on a shared, loaded
machine the wall time grows with the load average while the CPU times stay close to the idle
figures. Benchmarks 1 and 2 are run again with every insert on the writer thread
(`step_sink=False`), side by side in the same process, as the baseline the sink is judged by.

`--against TREE` compares this checkout's engine with another's (e.g. main's) instead: each round
starts one child process per tree (`PYTHONPATH=TREE`, this script with `--child`), in alternating
order, each timing the persisted and the ephemeral chain and fan-out and the bare asyncio baselines
`--runs` times after a warm-up (and, of a persisted run, the part after its last node had ended: the
wait for its rows to be committed); the medians over the rounds are printed per tree with their ratios,
wall time beside CPU time (the process's: event loop and writer thread; and the step sink's mean,
its clock counting 10 ms ticks), and the load average of every round.

`--node-red` measures Node-RED on this machine beside flowdesk's ephemeral mode (benchmark 4), for
issue 15's comparison: each round runs `node benchmarks/node_red/bench.js --runs R` (Node-RED 4.x
embedded, as benchmarks/node_red/package-lock.json pins it; `npm ci` there first when it is not
installed) and this script as a child (`--ephemeral-child`: benchmark 4's runs in a fresh process),
in alternating order. Node-RED's side is a chain of 1,000 `junction` nodes (the cheapest real node
that passes a message on: `send(msg); done()`) between an entry node and a sink, and one junction
wired to 1,000 junctions wired to one sink, with Node-RED's default delivery (one setImmediate per
hop); its bare baseline is 1,000 awaits of a setImmediate promise in a row and 1,000 in one
Promise.all (bench.js's header says why and how). The medians of all runs are printed side by side
with the ratios flowdesk / Node-RED: wall time and process CPU time of the chain and the fan-out,
each side's bare baseline, each shape against its own baseline, and the ratios of each round's
medians, with the load average of every round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_sink_cpu import sink_cpu_seconds  # noqa: E402

N = 1_000
RUNS_3 = 500


def chain_graph(n: int = N) -> WorkflowGraph:
    names = ["start"] + [f"wait {i:04d}" for i in range(n)] + ["end"]
    nodes = [Node(name="start", node_type="START")]
    nodes += [Node(name=name, node_type="DELAY", config={"seconds": 0}) for name in names[1:-1]]
    nodes.append(Node(name="end", node_type="END", config={"output": {"done": True}}))
    connections = [Connection(from_node=a, to_node=b) for a, b in zip(names, names[1:], strict=False)]
    return WorkflowGraph(workflow=Workflow(name=f"chain of {n}"), nodes=nodes, connections=connections)


def fan_out_graph(n: int = N) -> WorkflowGraph:
    nodes = [
        Node(name="start", node_type="START"),
        Node(name="fan", node_type="PARALLEL", config={"max_concurrent": 0}),
    ]
    connections = [Connection(from_node="start", to_node="fan"), Connection(from_node="fan", to_node="end")]
    for i in range(n):
        nodes.append(Node(name=f"branch {i:04d}", node_type="DELAY", config={"seconds": 0}))
        connections.append(Connection(from_node="fan", to_node=f"branch {i:04d}", connection_type="PARALLEL"))
    nodes.append(Node(name="end", node_type="END", config={"output": {"done": True}}))
    return WorkflowGraph(workflow=Workflow(name=f"parallel of {n}"), nodes=nodes, connections=connections)


def tiny_graph() -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name="start to end"),
        nodes=[Node(name="start", node_type="START"), Node(name="end", node_type="END")],
        connections=[Connection(from_node="start", to_node="end")],
    )


async def bare_awaits(n: int = N) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await asyncio.sleep(0)
    return time.perf_counter() - t0


async def bare_fan_out(n: int = N) -> float:
    """n tasks of one await each, started and gathered: the bare asyncio shape of a fan-out."""
    t0 = time.perf_counter()
    await asyncio.gather(*(asyncio.sleep(0) for _ in range(n)))
    return time.perf_counter() - t0


async def ephemeral_figures(db: Database, chain: int, fan: int, runs: int) -> dict[str, list[float]]:
    """Benchmark 4's runs: chain and fan-out with no rows written, beside bare asyncio, in seconds
    (wall time; "chain CPU" and "fan CPU": the process's CPU time of the same runs)."""
    executor = WorkflowExecutor(db=db, load_plugins=False, persist=False)
    await executor.execute_workflow(chain, {"n": 1})  # warm up: graph cache, plan
    await executor.execute_workflow(fan, {"n": 1})
    figures: dict[str, list[float]] = {
        "chain": [],
        "bare chain": [],
        "fan": [],
        "bare fan": [],
        "chain CPU": [],
        "fan CPU": [],
    }
    for _ in range(runs):
        gc.collect()
        figures["bare chain"].append(await bare_awaits())
        figures["chain"].append(await timed_run(executor, chain))
        figures["chain CPU"].append(CPU[-1])
        gc.collect()
        figures["bare fan"].append(await bare_fan_out())
        figures["fan"].append(await timed_run(executor, fan))
        figures["fan CPU"].append(CPU[-1])
    await executor.aclose()
    return figures


async def ephemeral(db: Database, chain: int, fan: int, runs: int) -> None:
    """Benchmark 4: chain and fan-out with no rows written, beside bare asyncio."""
    m = {k: statistics.median(v) * 1e3 for k, v in (await ephemeral_figures(db, chain, fan, runs)).items()}
    print(
        f"4. ephemeral (persist=False), median of {runs}: chain of {N} {m['chain']:.1f} ms (target <= 12), "
        f"bare asyncio {m['bare chain']:.2f} ms, ratio {m['chain'] / m['bare chain']:.0f}x; "
        f"PARALLEL {N} {m['fan']:.1f} ms (target <= 20), bare gather {m['bare fan']:.2f} ms, "
        f"ratio {m['fan'] / m['bare fan']:.0f}x; load average {os.getloadavg()[0]:.2f}"
    )


CPU: list[float] = []  # process CPU seconds (event loop + writer thread) of each timed run
SINK: list[float] = []  # step sink process CPU seconds of each timed run


async def timed_run(executor: WorkflowExecutor, workflow_id: int) -> float:
    s0 = sink_cpu_seconds(executor)
    c0 = time.process_time()
    t0 = time.perf_counter()
    handle = await executor.execute_workflow(workflow_id, {"n": 1})
    took = time.perf_counter() - t0
    CPU.append(time.process_time() - c0)
    SINK.append(sink_cpu_seconds(executor) - s0)
    assert handle.status == "completed", (handle.status, handle.error_message)
    return took


async def chain_and_fan(
    executor: WorkflowExecutor, db: Database, chain: int, fan: int, runs: int, label: str
) -> tuple[float, float]:
    """Benchmarks 1 and 2 on `executor`, printed under `label`."""
    engine_times, bare_times = [], []
    CPU.clear()
    SINK.clear()
    for _ in range(runs):
        gc.collect()
        bare_times.append(await bare_awaits())
        engine_times.append(await timed_run(executor, chain))
    engine, bare = statistics.median(engine_times), statistics.median(bare_times)
    per_node = (engine - bare) / N * 1e6
    print(f"[{label}]")
    print(
        f"1. chain of {N} DELAY(0), persisted: {engine * 1e3:.1f} ms per run (median of {runs}); "
        f"bare asyncio {bare * 1e3:.2f} ms"
    )
    print(f"   overhead {per_node:.1f} us per node (target <= 100 us); engine / bare = {engine / bare:.0f}x")
    print(
        f"   CPU per node: {statistics.median(CPU) / N * 1e6:.1f} us this process (loop + writer thread), "
        f"{sum(SINK) / len(SINK) / N * 1e6:.1f} us step sink process (mean: its clock counts 10 ms ticks)"
    )
    rows = len(
        ExecutionService(db).get_logs(ExecutionService(db).list_executions(workflow_id=chain, limit=1)[0].id)
    )
    print(f"   ({rows} step rows in the last run's log)")
    fan_times = []
    CPU.clear()
    SINK.clear()
    for _ in range(runs):
        gc.collect()
        fan_times.append(await timed_run(executor, fan))
    fan_median = statistics.median(fan_times)
    print(
        f"2. PARALLEL with {N} DELAY(0) branches, persisted: {fan_median * 1e3:.1f} ms (median of {runs}; "
        f"target <= 150 ms); {fan_median / N * 1e6:.0f} us per branch; CPU {statistics.median(CPU) * 1e3:.1f} ms "
        f"this process, {sum(SINK) / len(SINK) * 1e3:.1f} ms step sink process (mean)"
    )
    return engine, fan_median


def watch_last_node() -> list[float]:
    """A one-item list that holds the moment the last run's nodes had all ended (Run.run_top
    returned; every tree has it); the rest of a run's time is its end: mostly the wait for its
    step rows to be committed."""
    from flowdesk.engine import scheduler

    moment = [0.0]
    run_top = scheduler.Run.run_top

    async def timed_top(self: Any) -> None:
        await run_top(self)
        moment[0] = time.perf_counter()

    scheduler.Run.run_top = timed_top  # type: ignore[method-assign]
    return moment


def bench_database(folder: Path) -> tuple[Database, WorkflowService, int, int]:
    """A fresh SQLite file in `folder` holding the chain and the fan-out: (db, service, chain id, fan-out id)."""
    db = Database(folder / "bench.db")
    service = WorkflowService(db)
    chain = service.create_from_graph(chain_graph()).workflow.id
    fan = service.create_from_graph(fan_out_graph()).workflow.id
    assert chain is not None and fan is not None
    return db, service, chain, fan


async def child(folder: Path, runs: int) -> dict[str, list[float]]:
    """One round of `--against`: each figure timed `runs` times in this process (one tree's code)."""
    db, _, chain, fan = bench_database(folder)
    persisted = WorkflowExecutor(db=db, load_plugins=False)
    executors = {"persisted": persisted}
    if "persist" in inspect.signature(WorkflowExecutor).parameters:
        executors["ephemeral"] = WorkflowExecutor(db=db, load_plugins=False, persist=False)
    for executor in executors.values():  # warm up: graph cache, plan, writer thread, step sink
        await timed_run(executor, chain)
        await timed_run(executor, fan)
    figures: dict[str, list[float]] = {}
    last_node = watch_last_node()

    def note(name: str, wall: float, cpu: float, sink: float | None = None) -> None:
        figures.setdefault(f"{name} ms", []).append(wall * 1e3)
        figures.setdefault(f"{name} CPU ms", []).append(cpu * 1e3)
        if sink is not None:  # the sink's clock counts 10 ms ticks: its mean is printed, not a median
            figures.setdefault(f"{name} sink CPU ms (mean)", []).append(sink * 1e3)

    for _ in range(runs):
        for mode, executor in executors.items():
            for shape, workflow_id in (("chain", chain), ("PARALLEL", fan)):
                gc.collect()
                CPU.clear()
                SINK.clear()
                t0 = time.perf_counter()
                wall = await timed_run(executor, workflow_id)
                note(f"{mode} {shape}", wall, CPU[0], SINK[0] if mode == "persisted" else None)
                if mode == "persisted":  # what the run waited for once its last node had ended
                    after = t0 + wall - last_node[0]
                    figures.setdefault(f"{mode} {shape}: after the last node ms", []).append(after * 1e3)
        gc.collect()
        c0 = time.process_time()
        note("bare asyncio chain", await bare_awaits(), time.process_time() - c0)
        c0 = time.process_time()
        note("bare asyncio gather", await bare_fan_out(), time.process_time() - c0)
    for executor in executors.values():
        await executor.aclose()
    db.close()
    return figures


def against(other: Path, rounds: int, runs: int) -> None:
    """This checkout's engine and `other`'s, in alternating child processes (see the module doc)."""
    here = Path(__file__).resolve().parents[1]
    trees = {"this": here, other.name if other.name != here.name else "other": other.resolve()}
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    loads = []
    for i in range(rounds):
        order = list(trees.items()) if i % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--runs", str(runs)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for key, values in json.loads(out.splitlines()[-1]).items():
                figures[name].setdefault(key, []).extend(values)
        loads.append(os.getloadavg()[0])
    names = list(trees)
    print(
        f"{rounds} rounds x {runs} runs, alternating; load average per round: {', '.join(f'{x:.1f}' for x in loads)}"
    )
    print(f"{'median':44} " + " ".join(f"{n:>12}" for n in names) + f" {'ratio':>7}")
    for key in figures[names[0]]:
        average = statistics.mean if "(mean)" in key else statistics.median
        values = [average(figures[n][key]) if figures[n].get(key) else float("nan") for n in names]
        ratio = values[0] / values[1] if len(values) > 1 and values[1] else float("nan")
        print(f"{key:44} " + " ".join(f"{v:12.1f}" for v in values) + f" {ratio:7.2f}")
    print(
        "targets (issue 15): persisted chain <= 25 ms, PARALLEL <= 35 ms; ephemeral chain <= 12 ms, "
        f"PARALLEL <= 20 ms; load average {os.getloadavg()[0]:.2f} at the end"
    )


NODE_RED = Path(__file__).resolve().parent / "node_red"  # package.json, bench.js (see its header)


def node_red_ready() -> str:
    """The path of `node`, once Node-RED is installed in benchmarks/node_red (`npm ci` if it is not)."""
    node = shutil.which("node")
    if node is None:
        sys.exit("--node-red needs Node.js 18.5 or later, and no `node` command was found on PATH.")
    if not (NODE_RED / "node_modules" / "node-red").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit(
                f"--node-red needs npm to install Node-RED into {NODE_RED}, and no `npm` was found on PATH."
            )
        print(f"installing Node-RED as package-lock.json pins it: npm ci in {NODE_RED}", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_RED, check=True)
    return node


async def ephemeral_child(folder: Path, runs: int) -> dict[str, list[float]]:
    """One round of `--node-red`, flowdesk's side: benchmark 4's runs in this process, in ms."""
    db, _, chain, fan = bench_database(folder)
    figures = await ephemeral_figures(db, chain, fan, runs)
    db.close()
    return {k: [x * 1e3 for x in v] for k, v in figures.items()}


# The figures of a round, by the names bench.js's samples and ephemeral_figures give them: (Node-RED, flowdesk).
NODE_RED_ROWS = {
    f"chain of {N:,} ms": ("chain", "chain"),
    f"chain of {N:,} CPU ms": ("chain_cpu", "chain CPU"),
    f"fan-out of {N:,} ms": ("fan", "fan"),
    f"fan-out of {N:,} CPU ms": ("fan_cpu", "fan CPU"),
    "bare chain ms (setImmediate | asyncio.sleep(0))": ("bare_chain", "bare chain"),
    "bare fan-out ms (Promise.all | asyncio.gather)": ("bare_fan", "bare fan"),
}


def node_red(rounds: int, runs: int) -> None:
    """Node-RED (benchmarks/node_red/bench.js) and flowdesk's ephemeral mode, side by side (module doc)."""
    node = node_red_ready()
    sides: dict[str, list[str]] = {
        "Node-RED": [node, str(NODE_RED / "bench.js"), "--runs", str(runs)],
        "flowdesk": [sys.executable, __file__, "--ephemeral-child", "--runs", str(runs)],
    }
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in sides}
    per_round: list[dict[str, float]] = []
    loads: list[float] = []
    about: dict[str, Any] = {}  # bench.js's versions and settings
    for i in range(rounds):
        order = list(sides.items()) if i % 2 == 0 else list(reversed(sides.items()))
        medians = {}
        for name, command in order:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                sys.exit(f"{name}'s side failed ({' '.join(command)}):\n{done.stderr or done.stdout}")
            figures = json.loads(done.stdout.splitlines()[-1])
            if name == "Node-RED":
                about = figures
                figures = about.pop("samples")
            for key, values in figures.items():
                samples[name].setdefault(key, []).extend(values)
            medians[f"{name} chain"] = statistics.median(figures["chain"])
            medians[f"{name} fan"] = statistics.median(figures["fan"])
        per_round.append(medians)
        loads.append(os.getloadavg()[0])
    print(
        f"Node-RED {about['node_red']} (Node.js {about['node']}, {about['noop']} nodes, default delivery: "
        f"setImmediate per hop) against flowdesk's ephemeral mode (persist=False; Python "
        f"{platform.python_version()}); {os.cpu_count()} cores"
    )
    print(
        f"{rounds} rounds x {runs} runs, one process of each per round, alternating; load average per round: "
        + ", ".join(f"{x:.1f}" for x in loads)
    )
    names = list(sides)
    print(f"{'median of all runs':48} " + " ".join(f"{n:>10}" for n in names) + f" {'flowdesk/Node-RED':>18}")
    m: dict[str, dict[str, float]] = {name: {} for name in names}
    for row, keys in NODE_RED_ROWS.items():
        for name, key in zip(names, keys, strict=True):
            m[name][row] = statistics.median(samples[name][key])
        nr, fd = m["Node-RED"][row], m["flowdesk"][row]
        print(f"{row:48} {nr:10.2f} {fd:10.2f} {fd / nr:17.1f}x")
    for shape, bare in ((f"chain of {N:,} ms", "bare chain"), (f"fan-out of {N:,} ms", "bare fan-out")):
        row = next(r for r in NODE_RED_ROWS if r.startswith(bare))
        ratios = [m[name][shape] / m[name][row] for name in names]
        print(
            f"{shape.removesuffix(' ms') + ' / its bare baseline':48} "
            + " ".join(f"{r:9.1f}x" for r in ratios)
        )
    for shape in ("chain", "fan"):
        each = ", ".join(f"{r[f'flowdesk {shape}'] / r[f'Node-RED {shape}']:.1f}" for r in per_round)
        print(f"flowdesk/Node-RED {'fan-out' if shape == 'fan' else shape}, each round's medians: {each}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


async def main(runs: int, folder: Path, only_ephemeral: bool = False) -> None:
    db, service, chain, fan = bench_database(folder)
    tiny = service.create_from_graph(tiny_graph()).workflow.id
    if only_ephemeral:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
        await ephemeral(db, chain, fan, runs)
        db.close()
        return
    executor = WorkflowExecutor(db=db, load_plugins=False)
    await timed_run(executor, tiny)  # warm up: imports, thread, caches
    await timed_run(executor, chain)
    await timed_run(executor, fan)
    baseline = WorkflowExecutor(db=db, load_plugins=False, step_sink=False)  # every insert on the thread
    await timed_run(baseline, chain)
    await timed_run(baseline, fan)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    chain_s, fan_s = await chain_and_fan(
        executor, db, chain, fan, runs, "the engine as shipped: bulk inserts in the step sink"
    )
    chain_b, fan_b = await chain_and_fan(
        baseline, db, chain, fan, runs, "baseline: every insert on the writer thread"
    )
    print(f"ratio baseline / shipped: chain {chain_b / chain_s:.2f}x, PARALLEL {fan_b / fan_s:.2f}x")
    await baseline.aclose()

    # 3. many small runs
    rates, cpu_rates = [], []
    for _ in range(max(3, runs // 2)):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(RUNS_3):
            await executor.execute_workflow(tiny, {"n": 1})
        rates.append(RUNS_3 / (time.perf_counter() - t0))
        cpu_rates.append((time.process_time() - c0) / RUNS_3)
    rate = statistics.median(rates)
    print(
        f"3. {RUNS_3} runs of START -> END one after another, persisted: {rate:.0f} executions/s "
        f"(median of {len(rates)}; target >= 500), {1e3 / rate:.2f} ms per run; process CPU "
        f"{statistics.median(cpu_rates) * 1e3:.2f} ms per run"
    )
    await executor.aclose()
    if "persist" in inspect.signature(WorkflowExecutor).parameters:
        await ephemeral(db, chain, fan, runs)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only-ephemeral", action="store_true", help="benchmark 4 only")
    parser.add_argument("--against", metavar="TREE", type=Path, help="compare with another checkout's engine")
    parser.add_argument(
        "--node-red",
        action="store_true",
        help="Node-RED (benchmarks/node_red) beside flowdesk's ephemeral mode",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of child processes with --against or --node-red"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ephemeral-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against is not None:
        against(args.against, args.rounds, args.runs)
        sys.exit(0)
    if args.node_red:
        node_red(args.rounds, args.runs)
        sys.exit(0)
    if args.ephemeral_child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(ephemeral_child(Path(tmp), args.runs))))
        sys.exit(0)
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(child(Path(tmp), args.runs))))
        sys.exit(0)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.runs, Path(tmp), args.only_ephemeral))
