"""Benchmark of queued runs on `flowdesk worker` processes, side by side with one local process.

    python benchmarks/bench_workers.py [--runs 1000] [--calls 10] [--delay 0.05] [--workers 1,2,4]
                                       [--concurrency 50] [--trivial 500]

Starts its own redis-server, PostgreSQL cluster (tests/support) and local HTTP server (in a process
of its own, answering /delay/S after S seconds). For each worker count: a fresh database, N worker
processes (`flowdesk worker --concurrency C`), `--runs` executions of an I/O-bound workflow (START,
`--calls` API calls in a chain, END) submitted through the Python API, then waited for. Reports:
throughput (runs/s from the first submit to the last end), queue wait p50/p95 (created -> started),
end-to-end p50/p95 (created -> completed), database rows/s (execution + step rows written), and CPU
per run of each part (user+system seconds over the case): the workers, PostgreSQL (postmaster and
backends), redis-server, the HTTP server, this process (the submitter; for the local case, the
engine itself), and how busy the whole machine's CPUs were (all processes, the other users' too):
that is where saturation shows. Submission runs SUBMITTERS at once, so submitting is not what
limits the workers. The same runs in one local process (an executor with C runs at once) are the
baseline, in the same run of the script. Then the trivial START -> END workflow: runs/s through the
queue against local runs. Prints the machine's load next to the figures, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresServer, find_bindir  # noqa: E402
from tests.support.redis_server import RedisServer, find_redis_server  # noqa: E402
from tests.support.server_process import free_port, subprocess_env  # noqa: E402


def _workflow(name: str, base: str, calls: int, delay: float) -> str:
    nodes = [{"name": "start", "node_type": "START", "config": {}}]
    for i in range(calls):
        nodes.append(
            {"name": f"call{i}", "node_type": "API_CALL",
             "config": {"method": "GET", "url": f"{base}/delay/{delay}", "retry_count": 0, "timeout": 60}}
        )  # fmt: skip
    nodes.append({"name": "end", "node_type": "END", "config": {}})
    connections = [
        {"from": a["name"], "to": b["name"], "connection_type": "SEQUENCE"}
        for a, b in zip(nodes, nodes[1:], strict=False)
    ]
    return json.dumps({"flowdesk": 1, "workflow": {"name": name, "config": {}}, "nodes": nodes,
                       "connections": connections})  # fmt: skip


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def _store(db_url: str, text: str) -> int:
    from flowdesk.services.transfer import TransferService
    from flowdesk.store import Database

    db = Database(db_url)
    try:
        graph = TransferService(db).open_file(text).graph
        assert graph.workflow.id is not None
        return graph.workflow.id
    finally:
        db.close()


SUBMITTERS = 16
"""Submissions in flight at once (each: a pending row, then the broker message)."""


def _postgres_cpu(pg: PostgresServer) -> float:
    """CPU seconds of the cluster: the postmaster, its live backends, and the ended ones it reaped."""
    import psutil

    try:
        postmaster = psutil.Process(int((pg.data / "postmaster.pid").read_text().split()[0]))
        times = postmaster.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in postmaster.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total
    except (OSError, ValueError, psutil.Error):
        return float("nan")


def _machine_busy() -> float:
    """CPU seconds all CPUs spent not idle (every process on the machine)."""
    import psutil

    t = psutil.cpu_times()
    return (
        t.user
        + t.nice
        + t.system
        + getattr(t, "irq", 0.0)
        + getattr(t, "softirq", 0.0)
        + getattr(t, "steal", 0.0)
    )


class CpuMeter:
    """CPU seconds of each part between `start()` and `stop()`, per run, and the machine's busy share."""

    def __init__(self, pg: PostgresServer, redis_pid: int, http_pid: int, workers: list[int]) -> None:
        self.pg, self.parts = (
            pg,
            {"redis": [redis_pid], "http server": [http_pid], "bench process": [os.getpid()]},
        )
        self.parts["workers"] = workers

    def _read(self) -> dict[str, float]:
        read = {name: _cpu_of(pids) for name, pids in self.parts.items()}
        read["postgres"] = _postgres_cpu(self.pg)
        read["machine"] = _machine_busy()
        read["clock"] = time.perf_counter()
        return read

    def start(self) -> CpuMeter:
        self._first = self._read()
        return self

    def stop(self, runs: int) -> dict[str, float]:
        last = self._read()
        elapsed = last["clock"] - self._first["clock"]
        out = {
            f"cpu_ms_per_run_{name}": (last[name] - self._first[name]) / runs * 1000
            for name in (*self.parts, "postgres")
        }
        out["machine_busy_pct"] = (
            (last["machine"] - self._first["machine"]) / (elapsed * (os.cpu_count() or 1)) * 100
        )
        return out


def _figures(db_url: str, ids: list[int], t0: float, t1: float) -> dict[str, Any]:
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(db_url)
    try:
        service = ExecutionService(db)
        rows = [service.latest_attempt(i) for i in ids]
        steps = sum(len(service.get_logs(r.id)) for r in rows)
    finally:
        db.close()
    failed = [r for r in rows if str(r.status) != "completed"]
    waits = [(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at]
    ends = [(r.completed_at - r.created_at).total_seconds() for r in rows if r.completed_at]
    elapsed = t1 - t0
    return {
        "runs_per_s": len(ids) / elapsed,
        "queue_wait_p50_ms": _pct(waits, 50) * 1000,
        "queue_wait_p95_ms": _pct(waits, 95) * 1000,
        "e2e_p50_ms": _pct(ends, 50) * 1000,
        "e2e_p95_ms": _pct(ends, 95) * 1000,
        "db_rows_per_s": (len(rows) + steps) / elapsed,
        "not_completed": len(failed),
        "elapsed_s": elapsed,
    }


async def _submit_and_wait(db_url: str, broker: str, wid: int, runs: int) -> tuple[list[int], float, float]:
    from flowdesk.engine.executor import WorkflowExecutor

    async with WorkflowExecutor(db=db_url, broker=broker, load_plugins=False) as executor:
        gate = asyncio.Semaphore(SUBMITTERS)

        async def submit() -> Any:
            async with gate:
                return await executor.execute_workflow(wid, config={"queue": "bench"})

        t0 = time.perf_counter()
        queued = await asyncio.gather(*(submit() for _ in range(runs)))
        submitted = time.perf_counter()
        for handle in queued:
            await handle.wait(poll=0.2)
        t1 = time.perf_counter()
    print(f"  submitted {runs} in {submitted - t0:.1f} s ({runs / (submitted - t0):.0f} runs/s)", flush=True)
    return [q.id for q in queued], t0, t1


async def _submit_only(db_url: str, broker: str, wid: int, runs: int) -> list[int]:
    """Queue `runs` executions while no worker listens (the --prefill cases)."""
    from flowdesk.engine.executor import WorkflowExecutor

    async with WorkflowExecutor(db=db_url, broker=broker, load_plugins=False) as executor:
        gate = asyncio.Semaphore(SUBMITTERS)

        async def submit() -> Any:
            async with gate:
                return (await executor.execute_workflow(wid, config={"queue": "bench"})).id

        return list(await asyncio.gather(*(submit() for _ in range(runs))))


def _drain(db_url: str, ids: list[int]) -> float:
    """Wait until every queued execution (or the attempt that resumed it) has ended; the time then."""
    from sqlalchemy import text

    from flowdesk.store import Database

    db = Database(db_url)
    try:
        while True:
            with db.engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM workflow_executions WHERE status IN ('pending', 'running')")
                ).scalar_one()
            if left == 0:
                return time.perf_counter()
            time.sleep(0.05)
    finally:
        db.close()


async def _local(db_url: str, wid: int, runs: int, concurrency: int) -> tuple[list[int], float, float]:
    from flowdesk.engine.executor import WorkflowExecutor

    async with WorkflowExecutor(db=db_url, load_plugins=False) as executor:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> int:
            async with gate:
                handle = await executor.execute_workflow(wid)
                return int(handle.id)

        t0 = time.perf_counter()
        ids = await asyncio.gather(*(one() for _ in range(runs)))
        t1 = time.perf_counter()
    return list(ids), t0, t1


def _cpu_of(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _start_workers(db_url: str, broker: str, n: int, concurrency: int, logs: Path) -> list[subprocess.Popen]:
    import redis

    procs = []
    for i in range(n):
        out = open(logs / f"worker{i}.log", "wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "flowdesk",
                    "worker",
                    "--db",
                    db_url,
                    "--broker",
                    broker,
                    "--queues",
                    "bench",
                    "--concurrency",
                    str(concurrency),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=subprocess_env(),
            )  # fmt: skip
        )
    client = redis.Redis.from_url(broker)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        alive = sum(bool(client.keys(f"flowdesk:worker:*:{p.pid}")) for p in procs)
        if alive == n:
            break
        time.sleep(0.1)
    client.close()
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--trivial", type=int, default=500)
    parser.add_argument(
        "--prefill",
        action="store_true",
        help="also: fill the queue first, then start the workers and time the drain",
    )
    args = parser.parse_args()
    redis_program, bindir = find_redis_server(), find_bindir()
    if redis_program is None or bindir is None:
        sys.exit("bench_workers needs redis-server and the PostgreSQL server binaries installed.")
    import tempfile

    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    port = free_port()
    http = subprocess.Popen(
        [sys.executable, "-m", "tests.support.http_server", "--port", str(port)],
        cwd=str(ROOT), env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    redis_server = RedisServer(redis_program).start()
    pg = PostgresServer(bindir).start()
    print(f"load before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    results: dict[str, dict[str, Any]] = {}
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/json", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        io_flow = _workflow("bench io", base, args.calls, args.delay)
        trivial = _workflow("bench trivial", base, 0, 0)

        def meter(pids: list[int]) -> CpuMeter:
            return CpuMeter(pg, redis_pid, http.pid, pids).start()

        redis_pid = redis_server.process.pid if redis_server.process is not None else 0
        for n in [int(x) for x in args.workers.split(",") if x] if args.prefill else []:
            # The queue filled first, then the workers started: what the pool drains per second,
            # without the submitting process sharing the cores (queue waits include the filling).
            db_url = pg.create_database(f"bench_prefill_w{n}")
            wid = _store(db_url, io_flow)
            ids = asyncio.run(_submit_only(db_url, redis_server.url, wid, args.runs))
            procs = _start_workers(db_url, redis_server.url, n, args.concurrency, logs)
            cpu = meter([p.pid for p in procs])
            t0 = time.perf_counter()
            t1 = _drain(db_url, ids)
            figures = {**_figures(db_url, ids, t0, t1), **cpu.stop(args.runs), "load": os.getloadavg()[0]}
            results[f"io, {n} worker(s), queue filled first"] = figures
            _stop(procs)
            print(f"{n} worker(s), queue filled first: {figures}", flush=True)
        for n in [int(x) for x in args.workers.split(",") if x]:
            db_url = pg.create_database(f"bench_w{n}")
            wid = _store(db_url, io_flow)
            procs = _start_workers(db_url, redis_server.url, n, args.concurrency, logs)
            cpu = meter([p.pid for p in procs])
            ids, t0, t1 = asyncio.run(_submit_and_wait(db_url, redis_server.url, wid, args.runs))
            figures = {**_figures(db_url, ids, t0, t1), **cpu.stop(args.runs), "load": os.getloadavg()[0]}
            results[f"io, {n} worker(s)"] = figures
            if n == 1 and args.trivial:
                twid = _store(db_url, trivial)
                cpu = meter([p.pid for p in procs])
                ids, t0, t1 = asyncio.run(_submit_and_wait(db_url, redis_server.url, twid, args.trivial))
                results["trivial, 1 worker"] = {**_figures(db_url, ids, t0, t1), **cpu.stop(args.trivial)}
                results["trivial, 1 worker"]["load"] = os.getloadavg()[0]
            _stop(procs)
            print(f"{n} worker(s): {results[f'io, {n} worker(s)']}", flush=True)
        db_url = pg.create_database("bench_local")
        wid = _store(db_url, io_flow)
        cpu = meter([])
        ids, t0, t1 = asyncio.run(_local(db_url, wid, args.runs, args.concurrency))
        results["io, local process"] = {**_figures(db_url, ids, t0, t1), **cpu.stop(args.runs)}
        results["io, local process"]["load"] = os.getloadavg()[0]
        if args.trivial:
            twid = _store(db_url, trivial)
            cpu = meter([])
            ids, t0, t1 = asyncio.run(_local(db_url, twid, args.trivial, args.concurrency))
            results["trivial, local process"] = {**_figures(db_url, ids, t0, t1), **cpu.stop(args.trivial)}
            results["trivial, local process"]["load"] = os.getloadavg()[0]
    finally:
        pg.stop()
        redis_server.stop()
        http.terminate()
    print(f"load after: {os.getloadavg()}")
    keys = ["runs_per_s", "queue_wait_p50_ms", "queue_wait_p95_ms", "e2e_p50_ms", "e2e_p95_ms",
            "db_rows_per_s", "cpu_ms_per_run_workers", "cpu_ms_per_run_postgres", "cpu_ms_per_run_redis",
            "cpu_ms_per_run_http server", "cpu_ms_per_run_bench process", "machine_busy_pct", "load",
            "not_completed"]  # fmt: skip
    print("| case | " + " | ".join(k.replace("cpu_ms_per_run_", "CPU ms/run ") for k in keys) + " |")
    print("| --- " * (len(keys) + 1) + "|")
    for name, figures in results.items():
        cells = [
            f"{figures[k]:.1f}" if isinstance(figures.get(k), float) else str(figures.get(k, ""))
            for k in keys
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for suffix in (", queue filled first", ""):
        one = results.get(f"io, 1 worker(s){suffix}", {}).get("runs_per_s")
        for name, figures in results.items():
            if one and name.startswith("io") and (name.endswith(suffix) if suffix else "filled" not in name):
                print(f"{name}: {figures['runs_per_s'] / one:.2f}x one worker{suffix}")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
