"""Redis restarted (append-only persistence, the documented setup): queued runs survive, workers reconnect."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.redis_server import RedisServer, find_redis_server

from .conftest import WorkerProcess, api_call, wait_until, workflow_file


@pytest.fixture
def persistent_redis(redis_server):  # redis_server: the same skip-or-fail rule when it is missing
    server = RedisServer(find_redis_server() or "redis-server", appendonly=True).start()
    yield server
    server.stop()


def test_queued_runs_survive_a_redis_restart_and_workers_reconnect(
    persistent_redis, worker_db, http_server, store, execution_of, tmp_path
):
    from flowdesk.engine.executor import WorkflowExecutor

    key, held = "workers-redis-restart", "workers-redis-restart-held"
    wid = store(workflow_file("survives", [api_call("call", f"{http_server.url}/hit/{key}")]))
    held_wid = store(
        workflow_file("survives held", [api_call("held", f"{http_server.url}/hold/{held}?times=4&seconds=3")])
    )
    broker = persistent_redis.url

    async def submit(n: int, workflow: int = wid) -> list[int]:
        async with WorkflowExecutor(db=worker_db, broker=broker) as executor:
            return [
                (await executor.execute_workflow(workflow, config={"queue": "persist"})).id for _ in range(n)
            ]

    queued = asyncio.run(submit(2))  # no worker yet: the messages wait in Redis
    persistent_redis.restart()
    worker = WorkerProcess(worker_db, broker, "--queues", "persist", log=tmp_path / "worker.log").ready()
    try:
        wait_until(
            lambda: all(execution_of(i).status == "completed" for i in queued), "the queued runs to end"
        )
        # Under load: four runs in flight (their calls held) and three just submitted when Redis
        # restarts under the running worker. It reconnects by itself (starting its Celery worker
        # again if the lost connection stopped it), and every run ends once, each call sent once.
        busy = asyncio.run(submit(4, held_wid))
        wait_until(lambda: http_server.count(held) == 4, "four runs in flight")
        waiting = asyncio.run(submit(3))
        persistent_redis.restart()
        later = asyncio.run(submit(1))
        every = [*busy, *waiting, *later]
        wait_until(
            lambda: (
                all(execution_of(i).status == "completed" for i in every) or worker.process.poll() is not None
            ),
            "the runs in flight, queued and submitted after the restart to end",
        )
        assert worker.process.poll() is None, worker.log()
        assert http_server.count(key) == 6 and http_server.count(held) == 4
    finally:
        worker.stop()


def test_a_redis_outage_while_a_runs_acknowledgement_is_due_leaves_the_worker_serving(
    persistent_redis, worker_db, http_server, store, execution_of, tmp_path
):
    from flowdesk.engine.executor import WorkflowExecutor

    held, after = "ack-outage-held", "ack-outage-after"
    held_wid = store(
        workflow_file("ack held", [api_call("held", f"{http_server.url}/hold/{held}?seconds=5")])
    )
    later_wid = store(workflow_file("ack after", [api_call("call", f"{http_server.url}/hit/{after}")]))
    broker = persistent_redis.url

    async def submit(wid: int) -> int:
        async with WorkflowExecutor(db=worker_db, broker=broker) as executor:
            return (await executor.execute_workflow(wid, config={"queue": "ackout"})).id

    worker = WorkerProcess(worker_db, broker, "--queues", "ackout", log=tmp_path / "worker.log").ready()
    try:
        first = asyncio.run(submit(held_wid))
        wait_until(lambda: http_server.count(held) == 1, "the held call to be in flight")
        persistent_redis.halt()
        wait_until(lambda: execution_of(first).status == "completed", "the held run to end with Redis away")
        persistent_redis.start(keep_port=True)
        second = asyncio.run(submit(later_wid))
        wait_until(
            lambda: execution_of(second).status == "completed" or worker.process.poll() is not None,
            "a run submitted after Redis came back",
        )
        assert worker.process.poll() is None, worker.log()
        assert http_server.count(held) == 1 and http_server.count(after) == 1  # nothing sent twice
        log = worker.log_path.read_text(errors="replace")
        # The outage did hit the path that stops Celery; flowdesk worker started it again, once.
        assert "Unrecoverable error" in log
        assert log.count("starts it again (restart 1)") == 1
    finally:
        worker.stop()
