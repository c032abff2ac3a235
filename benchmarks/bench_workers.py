"""Benchmark of queued runs on `flowdesk worker` processes, side by side with one local process.

    python benchmarks/bench_workers.py [--runs 1000] [--calls 10] [--delay 0.05] [--workers 1,2,4]
                                       [--concurrency 50] [--trivial 500]

Starts its own redis-server, PostgreSQL cluster (tests/support) and local HTTP server (in a process
of its own, answering /delay/S after S seconds). For each worker count: a fresh database, N worker
processes (`flowdesk worker --concurrency C`), `--runs` executions of an I/O-bound workflow (START,
`--calls` API calls in a chain, END) submitted through the Python API, then waited for. Reports:
throughput (runs/s from the first submit to the last end), queue wait p50/p95 (created -> started),
end-to-end p50/p95 (created -> completed), worker CPU per run (user+system of the worker processes),
database rows/s (execution + step rows written). The same runs in one local process (an executor
with C runs at once) are the baseline. Then the trivial START -> END workflow: runs/s through the
queue against local runs. Prints the machine's load next to the figures.
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
    from flowdesk.engine.headless import store_or_reuse
    from flowdesk.store import Database

    db = Database(db_url)
    try:
        graph, _ = store_or_reuse(db, text)
        assert graph.workflow.id is not None
        return graph.workflow.id
    finally:
        db.close()


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
        t0 = time.perf_counter()
        queued = []
        for _ in range(runs):
            queued.append(await executor.execute_workflow(wid, config={"queue": "bench"}))
        for handle in queued:
            await handle.wait(poll=0.2)
        t1 = time.perf_counter()
    return [q.id for q in queued], t0, t1


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
        for n in [int(x) for x in args.workers.split(",") if x]:
            db_url = pg.create_database(f"bench_w{n}")
            wid = _store(db_url, io_flow)
            procs = _start_workers(db_url, redis_server.url, n, args.concurrency, logs)
            cpu0 = _cpu_of([p.pid for p in procs])
            ids, t0, t1 = asyncio.run(_submit_and_wait(db_url, redis_server.url, wid, args.runs))
            cpu = _cpu_of([p.pid for p in procs]) - cpu0
            figures = _figures(db_url, ids, t0, t1)
            figures["worker_cpu_ms_per_run"] = cpu / args.runs * 1000
            results[f"io, {n} worker(s)"] = figures
            if n == 1 and args.trivial:
                twid = _store(db_url, trivial)
                ids, t0, t1 = asyncio.run(_submit_and_wait(db_url, redis_server.url, twid, args.trivial))
                results["trivial, 1 worker"] = _figures(db_url, ids, t0, t1)
            _stop(procs)
            print(f"{n} worker(s): {results[f'io, {n} worker(s)']}  load {os.getloadavg()}", flush=True)
        db_url = pg.create_database("bench_local")
        wid = _store(db_url, io_flow)
        ids, t0, t1 = asyncio.run(_local(db_url, wid, args.runs, args.concurrency))
        results["io, local process"] = _figures(db_url, ids, t0, t1)
        if args.trivial:
            twid = _store(db_url, trivial)
            ids, t0, t1 = asyncio.run(_local(db_url, twid, args.trivial, args.concurrency))
            results["trivial, local process"] = _figures(db_url, ids, t0, t1)
    finally:
        pg.stop()
        redis_server.stop()
        http.terminate()
    print(f"load after: {os.getloadavg()}")
    keys = ["runs_per_s", "queue_wait_p50_ms", "queue_wait_p95_ms", "e2e_p50_ms", "e2e_p95_ms",
            "worker_cpu_ms_per_run", "db_rows_per_s", "not_completed"]  # fmt: skip
    print("| case | " + " | ".join(keys) + " |")
    print("| --- " * (len(keys) + 1) + "|")
    for name, figures in results.items():
        cells = [
            f"{figures[k]:.1f}" if isinstance(figures.get(k), float) else str(figures.get(k, ""))
            for k in keys
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
