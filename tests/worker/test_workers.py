"""Queued runs on real `flowdesk worker` processes: Python API, CLI, cancel, concurrency on one loop."""

from __future__ import annotations

import asyncio
import re

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.store.database import this_host

from .conftest import api_call, flowdesk, wait_until, workflow_file


def test_python_api_queues_a_pending_run_that_a_worker_runs(
    worker, worker_db, redis_server, http_server, store, execution_of
):
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.engine.queue import QueuedExecution

    key = "workers-python-api"
    wid = store(workflow_file("queued hit", [api_call("call", f"{http_server.url}/hit/{key}")]))

    async def submit() -> QueuedExecution:
        async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
            queued = await executor.execute_workflow(wid, {"n": 1}, config={"queue": "default"})
            assert isinstance(queued, QueuedExecution)
            assert queued.status == ExecutionStatus.PENDING and queued.queue == "default"
            return await queued.wait()

    queued = asyncio.run(submit())
    assert queued.status == ExecutionStatus.COMPLETED, queued.error_message
    row = execution_of(queued.id)
    assert row.config["queue"] == "default"
    assert (row.runner_host, row.runner_pid) == (this_host(), worker.pid)  # run by the worker process
    assert http_server.count(key) == 1


def test_cli_run_queue_prints_the_id_and_wait_prints_the_local_report(
    worker, worker_db, redis_server, http_server, tmp_path
):
    key = "workers-cli"
    path = tmp_path / "flow.json"
    path.write_text(workflow_file("cli queued", [api_call("call", f"{http_server.url}/hit/{key}")]))
    common = ["--db", worker_db, "--broker", redis_server.url]
    waited = flowdesk("run", str(path), "--queue", "--wait", *common)
    assert waited.returncode == 0, waited.stderr
    lines = waited.stdout.splitlines()
    queued = re.fullmatch(r"Execution (\d+) queued on 'default'\.", lines[0])
    assert queued, waited.stdout
    assert [line.split()[0] for line in lines[1:4]] == ["success"] * 3  # start, call, end
    assert re.match(rf"Execution {queued.group(1)} of workflow \d+: completed\.", lines[4]), waited.stdout

    submitted = flowdesk("run", str(path), "--queue", "reports", *common)  # no --wait: the id, at once
    assert submitted.returncode == 0, submitted.stderr
    execution_id = int(re.fullmatch(r"Execution (\d+) queued on 'reports'\.\n", submitted.stdout).group(1))
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(worker_db)
    try:
        done = wait_until(
            lambda: ExecutionService(db).get_execution(execution_id).status == "completed",
            "the run on 'reports'",
        )
        assert done
    finally:
        db.close()
    assert http_server.count(key) == 2


def test_one_worker_process_runs_executions_at_once_and_cancel_reaches_it(
    worker, worker_db, redis_server, http_server, store, execution_of
):
    from flowdesk.engine.executor import WorkflowExecutor

    key = "workers-concurrent"
    wid = store(
        workflow_file(
            "held", [api_call("hold", f"{http_server.url}/hold/{key}?times=100&seconds=600", timeout=600)]
        )
    )

    async def submit(n: int) -> list[int]:
        async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
            return [(await executor.execute_workflow(wid, config={"queue": "default"})).id for _ in range(n)]

    ids = asyncio.run(submit(3))
    # Three calls in flight at once: the three runs share the worker's one event loop.
    wait_until(lambda: http_server.count(key) == 3, "three held calls in flight")
    assert {execution_of(i).runner_pid for i in ids} == {worker.pid}
    for execution_id in ids:
        result = flowdesk("cancel", str(execution_id), "--db", worker_db, "--broker", redis_server.url)
        assert result.returncode == 0, result.stderr
        assert f"Asked the workers to cancel execution {execution_id}" in result.stdout
    wait_until(
        lambda: all(execution_of(i).status == "cancelled" for i in ids), "the three runs to be cancelled"
    )
    assert all(execution_of(i).error_message == "cancelled by the user" for i in ids)


def test_cancel_of_a_still_queued_run_marks_it_and_no_worker_runs_it(
    worker, worker_db, redis_server, http_server, store, execution_of
):
    from flowdesk.engine.executor import WorkflowExecutor

    key = "workers-never"
    wid = store(workflow_file("never", [api_call("call", f"{http_server.url}/hit/{key}")]))

    async def submit() -> int:
        async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
            return (await executor.execute_workflow(wid, config={"queue": "nobody-listens"})).id

    execution_id = asyncio.run(submit())
    assert execution_of(execution_id).status == "pending"
    result = flowdesk("cancel", str(execution_id), "--db", worker_db, "--broker", redis_server.url)
    assert result.returncode == 0, result.stderr
    assert "was still queued; it is cancelled" in result.stdout
    assert execution_of(execution_id).status == "cancelled"
    assert http_server.count(key) == 0


def test_a_queue_name_and_a_missing_broker_are_refused_in_one_sentence(
    worker_db, store, http_server, monkeypatch
):
    from flowdesk.domain.errors import InvalidInputError
    from flowdesk.engine.executor import WorkflowExecutor

    monkeypatch.delenv("FLOWDESK_BROKER", raising=False)
    wid = store(workflow_file("refused", [api_call("call", f"{http_server.url}/hit/refused")]))

    async def submit(queue: object, broker: str | None) -> None:
        async with WorkflowExecutor(db=worker_db, broker=broker) as executor:
            await executor.execute_workflow(wid, config={"queue": queue})

    import pytest

    with pytest.raises(InvalidInputError, match="No broker to hand the run to"):
        asyncio.run(submit("default", None))
    with pytest.raises(InvalidInputError, match="config.queue must be a queue name"):
        asyncio.run(submit("bad queue!", "redis://127.0.0.1:1/0"))


def test_max_concurrent_executions_holds_a_second_run_back_until_the_first_ends(
    worker, worker_db, redis_server, http_server, store, execution_of
):
    from flowdesk.engine.executor import WorkflowExecutor

    key = "workers-limit"
    text = workflow_file(
        "limited", [api_call("hold", f"{http_server.url}/hold/{key}?times=100&seconds=600", timeout=600)]
    )
    import json

    data = json.loads(text)
    data["workflow"]["config"] = {"max_concurrent_executions": 1}
    wid = store(json.dumps(data))

    async def submit(n: int) -> list[int]:
        async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
            return [(await executor.execute_workflow(wid, config={"queue": "default"})).id for _ in range(n)]

    first, second = asyncio.run(submit(2))
    wait_until(lambda: http_server.count(key) == 1, "the first run's call in flight")
    # The worker has looked at the second run and sent it back for later (Celery logs the retry).
    wait_until(
        lambda: f"waits: workflow {wid} already runs 1 execution(s)" in worker.log(),
        "the second run held back",
    )
    assert http_server.count(key) == 1
    running = [i for i in (first, second) if execution_of(i).status == "running"]
    assert len(running) == 1 and {execution_of(i).status for i in (first, second)} == {"running", "pending"}
    waiting = second if running == [first] else first
    flowdesk("cancel", str(running[0]), "--db", worker_db, "--broker", redis_server.url)
    wait_until(lambda: http_server.count(key) == 2, "the held-back run to start once the first ended")
    assert execution_of(waiting).status == "running"
    flowdesk("cancel", str(waiting), "--db", worker_db, "--broker", redis_server.url)
    wait_until(lambda: execution_of(waiting).status == "cancelled", "the second run cancelled")


def test_flowdesk_workers_lists_the_live_workers_and_queue_lengths(worker, worker_db, redis_server):
    import json

    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.rpush("a-queue-nobody-reads", "x", "y")  # two messages waiting
    client.close()
    result = flowdesk(
        "workers",
        "--json",
        "--broker",
        redis_server.url,
        "--queues",
        "a-queue-nobody-reads",
        "--db",
        worker_db,
    )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    mine = [w for w in status["workers"] if w["pid"] == worker.pid]
    assert mine and mine[0]["queues"] == ["default", "reports"] and mine[0]["concurrency"] == 8
    assert status["queues"]["a-queue-nobody-reads"] == 2
    assert "default" in status["queues"] and "reports" in status["queues"]
    assert isinstance(status["pending_executions"], dict)
    text = flowdesk("workers", "--broker", redis_server.url, "--db", worker_db)
    assert f"pid {worker.pid}: queues default, reports" in text.stdout


def test_a_queue_rate_limit_holds_runs_past_it_back(
    start_worker, worker_db, redis_server, http_server, store, execution_of
):
    from flowdesk.engine.executor import WorkflowExecutor

    key = "workers-rate"
    limited = start_worker("--queues", "rated", "--rate-limit", "rated=1/3600")
    wid = store(workflow_file("rated", [api_call("call", f"{http_server.url}/hit/{key}")]))

    async def submit(n: int) -> list[int]:
        async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
            return [(await executor.execute_workflow(wid, config={"queue": "rated"})).id for _ in range(n)]

    ids = asyncio.run(submit(2))
    wait_until(lambda: "is at its rate limit" in limited.log(), "the second run held back by the rate limit")
    wait_until(
        lambda: sorted(execution_of(i).status for i in ids) == ["completed", "pending"], "one run done"
    )
    assert http_server.count(key) == 1
    held = next(i for i in ids if execution_of(i).status == "pending")
    result = flowdesk("cancel", str(held), "--db", worker_db, "--broker", redis_server.url)
    assert "was still queued" in result.stdout
    bad = flowdesk("worker", "--broker", redis_server.url, "--db", worker_db, "--rate-limit", "rated=fast")
    assert bad.returncode == 2 and "--rate-limit 'rated=fast' is not QUEUE=N" in bad.stderr


def test_processes_starts_that_many_worker_processes_and_sigterm_stops_them_all(
    worker_db, redis_server, tmp_path
):
    import json
    import signal

    from .conftest import WorkerProcess

    parent = WorkerProcess(
        worker_db, redis_server.url, "--queues", "procs", "--processes", "2", log=tmp_path / "p.log"
    )

    def children() -> list[dict]:
        result = flowdesk("workers", "--json", "--broker", redis_server.url, "--db", worker_db)
        return [
            w for w in json.loads(result.stdout)["workers"] if w["queues"] == ["procs"] and not w["stopping"]
        ]

    found = wait_until(lambda: len(children()) == 2 and children(), "two worker processes alive")
    assert len({w["pid"] for w in found}) == 2 and parent.pid not in {w["pid"] for w in found}
    parent.process.send_signal(signal.SIGTERM)
    assert parent.process.wait(timeout=120) == 0, parent.log()
    wait_until(lambda: not children(), "both worker processes gone")
