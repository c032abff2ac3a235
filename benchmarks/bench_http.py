"""Benchmark 4: API calls at concurrency 50 against a local keep-alive server.

Runs the test server (tests/support/http_server.py, plain ASGI under uvicorn) in a separate process
so it does not share the GIL with the clients, then in this one process, 3 runs each:

- bare httpx.AsyncClient (httpx's default httpcore transport),
- bare aiohttp.ClientSession,
- httpx.AsyncClient on the httpx-aiohttp package's transport,
- flowdesk's HttpClient.send: its default (flowdesk's own HTTP/1.1 pool, engine/http/http1.py),
  through a pooled aiohttp session (transport="aiohttp"), and as httpx.Request/Response through
  flowdesk's httpx transport on the HTTP/1.1 pool (transport="httpx"),
- flowdesk: a stored workflow START -> PARALLEL(max_concurrent 50) -> 1,000 API_CALL -> END run by
  the WorkflowExecutor's execute_workflow (persisted to a temporary SQLite database): its first run
  (loading, validating and compiling the graph included) and a second run on the same executor
  (compiled plan cached);
- the same workflow with a cookie jar active (a login node before the fan-out sets a cookie that
  every call then carries), against bare aiohttp;
- with `--proxy` (needs tinyproxy): bare aiohttp through tinyproxy on 127.0.0.1, and the workflow
  through the same proxy (the environment's `http.proxy`), the workflow reported against that
  aiohttp figure.

Each does 1,000 GET requests at concurrency 50 and prints requests/s (median of 3 runs), the CPU
time per request of this process (and, for the workflow, of its event-loop thread alone and of the
step sink process that writes the step rows), and flowdesk's ratio to bare aiohttp (target: at
least 50%).

    python benchmarks/bench_http.py [--requests 1000] [--concurrency 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from step_sink_cpu import sink_cpu_seconds  # noqa: E402

PATH = "/json"
CPU: list[float] = []  # process CPU seconds of the last measured part of each case
LOOP_CPU: dict[str, list[float]] = {}  # the workflow cases: event-loop thread CPU seconds per run
SINK_CPU: dict[str, list[float]] = {}  # the workflow cases: step sink process CPU seconds per run
COLD = "flowdesk workflow, first run"
WARM = "flowdesk workflow, plan cached"
COOKIES = "flowdesk workflow, cookie jar, plan cached"
PROXIED_AIOHTTP = "aiohttp through the proxy"
PROXIED = "flowdesk workflow through the proxy, plan cached"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, http: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.http_server", "--port", str(port), "--http", http],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the benchmark server did not start")


async def run_concurrently(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> float:
    """Seconds taken by n calls of `one`, at most `concurrency` at a time (workers pulling work)."""
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    started = time.perf_counter()
    cpu_started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    CPU.append(time.process_time() - cpu_started)
    return time.perf_counter() - started


async def bench_httpx(url: str, n: int, concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> None:
            r = await client.get(url)
            assert r.status_code == 200

        await run_concurrently(concurrency, concurrency, one)  # warm the pool
        return await run_concurrently(n, concurrency, one)


async def bench_aiohttp(url: str, n: int, concurrency: int, proxy: str | None = None) -> float:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one() -> None:
            for attempt in (1, 2):
                try:
                    async with session.get(url, proxy=proxy) as r:
                        await r.read()
                        assert r.status == 200
                        return
                except aiohttp.ServerDisconnectedError:
                    # tinyproxy closes kept-alive connections under load; flowdesk sends such a
                    # GET once more, so the baseline does too
                    if proxy is None or attempt == 2:
                        raise

        await run_concurrently(concurrency, concurrency, one)
        return await run_concurrently(n, concurrency, one)


async def bench_httpx_aiohttp(url: str, n: int, concurrency: int) -> float:
    import httpx
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits), limits=limits) as client:

        async def one() -> None:
            r = await client.get(url)
            assert r.status_code == 200

        await run_concurrently(concurrency, concurrency, one)
        return await run_concurrently(n, concurrency, one)


async def bench_flowdesk_client(url: str, n: int, concurrency: int, transport: str = "http1") -> float:
    from flowdesk.engine.http import HttpClient, HttpRequest

    client = HttpClient(max_connections=concurrency, transport=transport)
    request = HttpRequest(method="GET", url=url)

    async def one() -> None:
        r = await client.send(request)
        assert r.status == 200
        r.to_dict()

    try:
        await run_concurrently(concurrency, concurrency, one)
        return await run_concurrently(n, concurrency, one)
    finally:
        await client.aclose()


def workflow_graph(url: str, n: int, concurrency: int, login_url: str | None = None):
    from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph

    nodes = [
        Node(name="start", node_type="START"),
        Node(name="fan", node_type="PARALLEL", config={"max_concurrent": concurrency}),
        Node(name="end", node_type="END", config={"output": {"done": True}}),
    ]
    connections = [Connection(from_node="start", to_node="fan"), Connection(from_node="fan", to_node="end")]
    if login_url is not None:  # START -> login (sets a cookie) -> fan
        nodes.append(Node(name="login", node_type="API_CALL", config={"method": "GET", "url": login_url}))
        connections[0] = Connection(from_node="start", to_node="login")
        connections.append(Connection(from_node="login", to_node="fan"))
    for i in range(n):
        name = f"call{i}"
        nodes.append(Node(name=name, node_type="API_CALL", config={"method": "GET", "url": url}))
        connections.append(Connection(from_node="fan", to_node=name, connection_type="PARALLEL"))
    return WorkflowGraph(workflow=Workflow(name=f"bench-http-{n}"), nodes=nodes, connections=connections)


async def bench_flowdesk_workflow(
    url: str,
    n: int,
    concurrency: int,
    db_path: str,
    *,
    warm: bool,
    key: str | None = None,
    login_url: str | None = None,
    environment: dict[str, str] | None = None,
) -> float:
    """Seconds of `execute_workflow` for the stored workflow, persisted.

    Cold: the executor's first run of it (loading, validating and compiling the 1,000-node graph
    included). Warm: a second run on the same executor (the compiled plan is cached). `login_url`
    puts a call that sets a cookie before the fan-out; `environment` is the run's (`http.proxy`).
    """
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.store import Database

    db = Database(db_path)
    try:
        graph = WorkflowService(db).create_from_graph(workflow_graph(url, n, concurrency, login_url))
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            elapsed = 0.0
            for _ in range(2 if warm else 1):
                sink_started = sink_cpu_seconds(executor)
                started = time.perf_counter()
                cpu_started = time.process_time()
                loop_started = time.thread_time()
                execution = await executor.execute_workflow(graph.workflow.id, {}, environment=environment)
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                loop_cpu = time.thread_time() - loop_started
                sink_cpu = sink_cpu_seconds(executor) - sink_started
                status = getattr(execution, "status", None)
                if str(getattr(status, "value", status)) != "completed":
                    raise SystemExit(f"the benchmark workflow ended {status}: {execution.error_message}")
            CPU.append(cpu)
            key = key or (WARM if warm else COLD)
            LOOP_CPU.setdefault(key, []).append(loop_cpu)
            SINK_CPU.setdefault(key, []).append(sink_cpu)
            return elapsed
    finally:
        db.close()


def executor_available() -> bool:
    try:
        import flowdesk.engine.executor  # noqa: F401
        import flowdesk.services.workflows  # noqa: F401
        import flowdesk.store  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--server-http", default="auto", help="uvicorn HTTP implementation (auto, h11, httptools)"
    )
    parser.add_argument("--no-workflow", action="store_true", help="skip the full-workflow measurement")
    parser.add_argument(
        "--proxy", action="store_true", help="also measure through tinyproxy on 127.0.0.1 (must be installed)"
    )
    args = parser.parse_args()
    n, c = args.requests, args.concurrency

    port = free_port()
    server = start_server(port, args.server_http)
    url = f"http://127.0.0.1:{port}{PATH}"
    cases: dict[str, Callable[[], Awaitable[float]]] = {
        "httpx (default transport)": lambda: bench_httpx(url, n, c),
        "aiohttp": lambda: bench_aiohttp(url, n, c),
        "httpx + httpx-aiohttp transport": lambda: bench_httpx_aiohttp(url, n, c),
        "flowdesk HttpClient.send": lambda: bench_flowdesk_client(url, n, c),
        "flowdesk HttpClient.send, aiohttp pool": lambda: bench_flowdesk_client(url, n, c, "aiohttp"),
        "flowdesk HttpClient.send, httpx types": lambda: bench_flowdesk_client(url, n, c, "httpx"),
    }
    tmp = tempfile.TemporaryDirectory()
    if not args.no_workflow and executor_available():
        runs = itertools.count()
        cases[COLD] = lambda: bench_flowdesk_workflow(
            url, n, c, os.path.join(tmp.name, f"bench-{next(runs)}.db"), warm=False
        )
        cases[WARM] = lambda: bench_flowdesk_workflow(
            url, n, c, os.path.join(tmp.name, f"bench-{next(runs)}.db"), warm=True
        )
        login = f"http://127.0.0.1:{port}/cookies/set?sid=bench-session-1"
        cases[COOKIES] = lambda: bench_flowdesk_workflow(
            url,
            n,
            c,
            os.path.join(tmp.name, f"bench-c{next(runs)}.db"),
            warm=True,
            key=COOKIES,
            login_url=login,
        )
    proxy_process = None
    if args.proxy:
        from tests.support.proxy import TinyProxy

        proxy_process = TinyProxy(Path(tmp.name) / "tinyproxy").start()
        proxy_url = proxy_process.url
        cases[PROXIED_AIOHTTP] = lambda: bench_aiohttp(url, n, c, proxy=proxy_url)
        if not args.no_workflow and executor_available():
            cases[PROXIED] = lambda: bench_flowdesk_workflow(
                url,
                n,
                c,
                os.path.join(tmp.name, f"bench-p{next(runs)}.db"),
                warm=True,
                key=PROXIED,
                environment={"http.proxy": proxy_url},
            )
    results: dict[str, list[float]] = {name: [] for name in cases}
    cpu_per_request: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for _ in range(args.runs):
            for name, case in cases.items():
                seconds = asyncio.run(case())
                results[name].append(n / seconds)
                cpu_per_request[name].append(CPU[-1] / n * 1e6)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if proxy_process is not None:
            proxy_process.stop()
        tmp.cleanup()

    print(
        f"{n} GET {PATH} at concurrency {c}, local uvicorn server in its own process, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"median of {args.runs} runs (requests/s):")
    base = statistics.median(results["aiohttp"])
    for name, values in results.items():
        med = statistics.median(values)
        runs = ", ".join(f"{v:,.0f}" for v in values)
        cpu = statistics.median(cpu_per_request[name])
        print(
            f"  {name:42s} {med:8,.0f} req/s  ({med / base:5.0%} of aiohttp)  {cpu:6.0f} µs CPU/req   runs: {runs}"
        )
    for name in (WARM, COLD, COOKIES, PROXIED):
        if name in LOOP_CPU:
            loop = statistics.median(LOOP_CPU[name]) / n * 1e6
            sink = statistics.median(SINK_CPU[name]) / n * 1e6
            print(
                f"  {name}: event-loop thread {loop:.0f} µs CPU/req, step sink process {sink:.0f} µs CPU/req"
            )
    for name in (WARM, COLD, "flowdesk HttpClient.send", COOKIES):
        if name in results:
            ratio = statistics.median(results[name]) / base
            verdict = "meets" if ratio >= 0.5 else "MISSES"
            print(f"{name}: {ratio:.0%} of bare aiohttp ({verdict} the 50% target)")
    if PROXIED in results and PROXIED_AIOHTTP in results:
        ratio = statistics.median(results[PROXIED]) / statistics.median(results[PROXIED_AIOHTTP])
        print(f"{PROXIED}: {ratio:.0%} of bare aiohttp through the same proxy")


if __name__ == "__main__":
    main()
