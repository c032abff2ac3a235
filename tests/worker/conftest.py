"""Real worker processes (`flowdesk worker`) on a test redis-server and a test PostgreSQL database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 120.0
"""Seconds after which a condition that never came is a failure (a bound, not a speed target)."""


def wait_until(condition: Callable[[], Any], what: str, patience: float = PATIENCE) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` if it never is."""
    deadline = time.monotonic() + patience
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def flowdesk_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLOWDESK_DB", None)
    env.pop("FLOWDESK_BROKER", None)
    return env


def flowdesk(*args: str, timeout: float = PATIENCE) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end."""
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        capture_output=True, text=True, env=flowdesk_env(), cwd=str(ROOT), timeout=timeout,
    )  # fmt: skip


class WorkerProcess:
    """One `flowdesk worker` process; `ready()` waits for its liveness key in Redis."""

    def __init__(self, db: str, broker: str, *extra: str, log: Path) -> None:
        self.broker = broker
        self.log_path = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flowdesk", "worker", "--db", db, "--broker", broker,
                 "--visibility-timeout", "2", "--heartbeat", "0.5", "--loglevel", "INFO", *extra],
                stdout=out, stderr=subprocess.STDOUT, env=flowdesk_env(), cwd=str(ROOT),
            )  # fmt: skip
        self.pid = self.process.pid

    def alive_key(self) -> bool:
        import redis

        client = redis.Redis.from_url(self.broker)
        try:
            return bool(client.keys(f"flowdesk:worker:*:{self.pid}"))
        finally:
            client.close()

    def ready(self) -> WorkerProcess:
        wait_until(lambda: self.alive_key() or self.process.poll() is not None, "the worker to start")
        assert self.process.poll() is None, self.log()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker_db(postgres_server, postgres_template) -> Iterator[str]:
    """A migrated PostgreSQL database shared by the module's tests and workers."""
    from tests.support.plugin import database_name

    name = database_name("workers")
    url = postgres_server.create_database(name, template=postgres_template)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def start_worker(worker_db, redis_server, tmp_path_factory) -> Iterator[Callable[..., WorkerProcess]]:
    """`start(*options) -> WorkerProcess` (ready); every worker started is stopped at the module's end."""
    started: list[WorkerProcess] = []
    folder = tmp_path_factory.mktemp("workers")

    def start(*options: str) -> WorkerProcess:
        worker = WorkerProcess(
            worker_db, redis_server.url, *options, log=folder / f"worker{len(started)}.log"
        )
        started.append(worker)
        return worker.ready()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def worker(start_worker) -> WorkerProcess:
    """The module's shared worker on the queues `default` and `reports`, 8 executions at once."""
    return start_worker("--queues", "default,reports", "--concurrency", "8")


def workflow_file(name: str, nodes: list[dict[str, Any]]) -> str:
    """A workflow file (text): START, the given nodes in a chain, END returning the last output."""
    chain = [{"name": "start", "node_type": "START", "config": {}}, *nodes,
             {"name": "end", "node_type": "END", "config": {}}]  # fmt: skip
    connections = [
        {"from": a["name"], "to": b["name"], "connection_type": "SEQUENCE"}
        for a, b in zip(chain, chain[1:], strict=False)
    ]
    return json.dumps({"flowdesk": 1, "workflow": {"name": name, "config": {}}, "nodes": chain,
                       "connections": connections})  # fmt: skip


def api_call(name: str, url: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "node_type": "API_CALL",
            "config": {"method": "GET", "url": url, "retry_count": 0, "timeout": 60, **config}}  # fmt: skip


@pytest.fixture
def store(worker_db) -> Callable[[str], int]:
    """`store(file_text) -> workflow id` in the module's database."""
    from flowdesk.services.transfer import TransferService
    from flowdesk.store import Database

    def put(text: str) -> int:
        db = Database(worker_db)
        try:
            graph = TransferService(db).open_file(text).graph
            assert graph.workflow.id is not None
            return graph.workflow.id
        finally:
            db.close()

    return put


@pytest.fixture
def execution_of(worker_db) -> Callable[[int], Any]:
    """`execution_of(id)`: the execution row now (a fresh read)."""
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(worker_db)
    yield lambda execution_id: ExecutionService(db).get_execution(execution_id)
    db.close()
