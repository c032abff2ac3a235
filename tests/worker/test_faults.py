"""Worker faults with real processes: kill -9 mid-run, SIGTERM with a grace period."""

from __future__ import annotations

import asyncio
import hashlib
import signal

from flowdesk.domain.enums import ExecutionStatus

from .conftest import api_call, wait_until, workflow_file


def _submit(worker_db: str, broker: str, workflow_id: int, queue: str) -> int:
    from flowdesk.engine.executor import WorkflowExecutor

    async def submit() -> int:
        async with WorkflowExecutor(db=worker_db, broker=broker) as executor:
            return (await executor.execute_workflow(workflow_id, config={"queue": queue})).id

    return asyncio.run(submit())


def _latest(worker_db: str, execution_id: int):
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(worker_db)
    try:
        return ExecutionService(db).latest_attempt(execution_id)
    finally:
        db.close()


def _steps(worker_db: str, execution_id: int) -> dict[str, str]:
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(worker_db)
    try:
        return {log.step_name: str(log.status) for log in ExecutionService(db).get_logs(execution_id)}
    finally:
        db.close()


def test_kill_9_mid_run_another_worker_resumes_without_resending_succeeded_calls(
    start_worker, worker_db, redis_server, http_server, store
):
    done_key, held_key = "kill9-done", "kill9-held"
    wid = store(
        workflow_file(
            "killed mid-run",
            [
                api_call("first", f"{http_server.url}/hit/{done_key}"),
                api_call("held", f"{http_server.url}/hold/{held_key}?times=1", idempotency_key=True),
            ],
        )
    )
    victim = start_worker("--queues", "kill9", "--concurrency", "4")
    execution_id = _submit(worker_db, redis_server.url, wid, "kill9")
    wait_until(lambda: http_server.count(held_key) == 1, "the second call to be in flight")
    assert _latest(worker_db, execution_id).runner_pid == victim.pid
    wait_until(lambda: _steps(worker_db, execution_id).get("first") == "success", "the first step's row")

    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=60)
    rescuer = start_worker("--queues", "kill9", "--concurrency", "4")

    final = wait_until(
        lambda: (e := _latest(worker_db, execution_id)).status == "completed" and e,
        "the run to be resumed and end",
    )
    assert final.id != execution_id and final.resumed_from_id == execution_id
    assert final.runner_pid == rescuer.pid
    assert http_server.count(done_key) == 1  # the succeeded call was not sent again
    assert http_server.count(held_key) == 2  # the call in flight ran again: at least once per node
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = Database(worker_db)
    try:
        old = ExecutionService(db).get_execution(execution_id)
        held = {log.step_name: log for log in ExecutionService(db).get_logs(final.id)}["held"]
    finally:
        db.close()
    # The call sent again carries the key of the first attempt (origin execution + step name).
    expected = hashlib.sha256(f"flowdesk:{execution_id}:held".encode()).hexdigest()[:32]
    sent = {k.lower(): v for k, v in held.output_data["response"]["data"]["headers"].items()}
    assert sent["idempotency-key"] == expected
    assert old.status == ExecutionStatus.RESUMED and old.resumed_as_id == final.id  # claimed once
    assert f"pid {victim.pid}) stopped" in (old.error_message or "")


def test_sigterm_hands_a_run_that_outlasts_the_grace_period_back_to_the_queue(
    start_worker, worker_db, redis_server, http_server, store
):
    done_key, held_key = "term-done", "term-held"
    wid = store(
        workflow_file(
            "stopped worker",
            [
                api_call("first", f"{http_server.url}/hit/{done_key}"),
                api_call("held", f"{http_server.url}/hold/{held_key}?times=1"),
            ],
        )
    )
    stopping = start_worker("--queues", "term", "--concurrency", "4", "--grace", "0.5")
    execution_id = _submit(worker_db, redis_server.url, wid, "term")
    wait_until(lambda: http_server.count(held_key) == 1, "the second call to be in flight")

    stopping.process.send_signal(signal.SIGTERM)
    assert stopping.process.wait(timeout=120) == 0, stopping.log()
    handed_back = _latest(worker_db, execution_id)
    assert handed_back.id == execution_id and handed_back.status == "interrupted"
    assert "queued again" in (handed_back.error_message or "")

    taker = start_worker("--queues", "term", "--concurrency", "4")
    final = wait_until(
        lambda: (e := _latest(worker_db, execution_id)).status == "completed" and e,
        "another worker to finish it",
    )
    assert final.resumed_from_id == execution_id and final.runner_pid == taker.pid
    assert http_server.count(done_key) == 1
    assert http_server.count(held_key) == 2
