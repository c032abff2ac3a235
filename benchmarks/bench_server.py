"""Benchmark of `flowdesk serve`, side by side with a bare FastAPI app in the same run.

    python benchmarks/bench_server.py [--requests 4000] [--concurrency 32] [--runs 600] [--repeat 3]

1. GET /executions/{id}: requests/s of flowdesk against a bare FastAPI app answering a constant
   (both under uvicorn in a process of their own, the same aiohttp client driving both).
   Target: >= 50 % of the bare app. Also each server's CPU time per request (from its process's
   CPU counters), which holds steadier than requests/s while other work shares the cores.
2. POST /workflows/{id}/execute of START -> END with async false, one after another from 8 clients:
   runs/s on SQLite. Target: >= 300 runs/s.
3. Event delivery, engine to WebSocket client: the time from an event's creation in the engine (its
   `time` field) to its arrival at a client subscribed to /events, median and p99. Target: p99 <= 20 ms.

Prints medians of --repeat rounds, the machine's load, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server_process import ServerProcess, free_port, subprocess_env  # noqa: E402

BARE_APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/executions/{execution_id}")
    async def constant(execution_id: int):
        return {"id": execution_id, "workflow_id": 1, "status": "completed", "progress": 100.0,
                "current_step": "end", "execution_name": None, "input_data": {}, "output_data": {}}
    """
)


def _cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _hammer_with_cpu(url: str, total: int, concurrency: int, pid: int) -> tuple[float, float]:
    """(requests/s, server CPU microseconds per request): the CPU figure holds steady on a busy machine."""
    before = _cpu(pid)
    rate = asyncio.run(_hammer(url, total, concurrency))
    return rate, (_cpu(pid) - before) / (total + concurrency) * 1e6


async def _hammer(url: str, total: int, concurrency: int) -> float:
    """Requests per second of `total` GETs of `url` from `concurrency` keep-alive connections."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def warm() -> None:
            async with session.get(url) as r:
                await r.read()

        await asyncio.gather(*(warm() for _ in range(concurrency)))
        remaining = total

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.get(url) as r:
                    assert r.status == 200, r.status
                    await r.read()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - t0)


def _start_bare(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    (folder / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level", "warning"],
        cwd=folder,
        env=subprocess_env(),
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(600):
        try:
            httpx.get(url + "/executions/1", timeout=5)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return process, url


def _make_workflow(client) -> int:
    wid = client.post("/workflows", json={"name": f"bench {time.time_ns()}"}).json()["id"]
    a = client.post(f"/workflows/{wid}/nodes", json={"name": "start", "node_type": "START"}).json()["id"]
    b = client.post(f"/workflows/{wid}/nodes", json={"name": "end", "node_type": "END"}).json()["id"]
    client.post(f"/workflows/{wid}/connections", json={"from_node_id": a, "to_node_id": b})
    return wid


async def _runs_per_second(url: str, workflow_id: int, runs: int, clients: int = 8) -> float:
    async with aiohttp.ClientSession() as session:
        remaining = runs

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.post(f"{url}/workflows/{workflow_id}/execute", json={}) as r:
                    body = await r.json()
                    assert body["status"] == "completed", body

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return runs / (time.perf_counter() - t0)


async def _event_latencies(url: str, workflow_id: int, runs: int) -> list[float]:
    latencies: list[float] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http", "ws") + "/events") as ws,
    ):
        await ws.receive()  # the current state
        done = asyncio.Event()
        finished = 0

        async def reader() -> None:
            nonlocal finished
            async for message in ws:
                now = time.time()
                event = json.loads(message.data)
                if "time" in event and event["type"] != "state":
                    latencies.append((now - event["time"]) * 1000)
                if event["type"] == "execution_finished":
                    finished += 1
                    if finished == runs:
                        done.set()
                        return

        task = asyncio.create_task(reader())
        for _ in range(runs):
            async with session.post(f"{url}/workflows/{workflow_id}/execute", json={}) as r:
                await r.read()
            await asyncio.sleep(0.005)  # runs one at a time, as a user watches them
        await done.wait()
        task.cancel()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-server-"))
    server = ServerProcess(str(folder / "bench.db"), log_dir=folder).start()
    bare, bare_url = _start_bare(folder)
    try:
        with server.client() as client:
            workflow_id = _make_workflow(client)
            execution = client.post(f"/workflows/{workflow_id}/execute", json={}).json()["id"]
        flow_rates, bare_rates, run_rates, latencies = [], [], [], []
        flow_cpu, bare_cpu = [], []
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            rate, cpu = _hammer_with_cpu(
                f"{bare_url}/executions/{execution}", args.requests, args.concurrency, bare.pid
            )
            bare_rates.append(rate)
            bare_cpu.append(cpu)
            assert server.process is not None
            rate, cpu = _hammer_with_cpu(
                f"{server.url}/executions/{execution}", args.requests, args.concurrency, server.process.pid
            )
            flow_rates.append(rate)
            flow_cpu.append(cpu)
            run_rates.append(asyncio.run(_runs_per_second(server.url, workflow_id, args.runs)))
            latencies.extend(asyncio.run(_event_latencies(server.url, workflow_id, 100)))
    finally:
        server.stop()
        bare.terminate()
        bare.wait()
    flow, plain = statistics.median(flow_rates), statistics.median(bare_rates)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end; medians of {args.repeat} rounds"
    )
    print(
        f"1. GET /executions/{{id}}: flowdesk {flow:,.0f} req/s, bare FastAPI {plain:,.0f} req/s = {flow / plain:.0%}  (target >= 50 %)"
    )
    flow_us, bare_us = statistics.median(flow_cpu), statistics.median(bare_cpu)
    print(
        f"   server CPU per request: flowdesk {flow_us:.0f} us, bare FastAPI {bare_us:.0f} us "
        f"(flowdesk does {bare_us / flow_us:.0%} of the bare app's requests per CPU second)"
    )
    print(
        f"2. POST execute START->END, async false: {statistics.median(run_rates):,.0f} runs/s  (target >= 300)"
    )
    print(
        f"3. event delivery engine -> WebSocket: median {statistics.median(latencies):.2f} ms, "
        f"p99 {p99:.2f} ms over {len(latencies)} events  (target p99 <= 20 ms)"
    )


if __name__ == "__main__":
    main()
