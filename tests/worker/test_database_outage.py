"""PostgreSQL unreachable for a while under real worker processes: runs pause, writes are made
again once it answers, nothing is lost, written twice or sent twice; a worker started while the
database is away waits for it with one line in its log."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer

from .conftest import WorkerProcess, api_call, wait_until, workflow_file


@pytest.fixture
def own_postgres(postgres_server) -> Iterator[PostgresServer]:
    """A cluster of the test's own (halted and started again), so other tests' databases stay up;
    `postgres_server` brings the same skip-or-fail rule when PostgreSQL is missing."""
    server = PostgresServer(postgres_server.bindir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def outage_db(own_postgres) -> str:
    from flowdesk.store import Database

    url = own_postgres.create_database("outage")
    Database(url).close()  # migrated
    return url


def _store(db_url: str, text: str) -> int:
    from flowdesk.services.transfer import TransferService
    from flowdesk.store import Database

    db = Database(db_url)
    try:
        wid = TransferService(db).open_file(text).graph.workflow.id
        assert wid is not None
        return wid
    finally:
        db.close()


def _submit(db_url: str, broker: str, workflow_id: int, queue: str) -> int:
    from flowdesk.engine.executor import WorkflowExecutor

    async def submit() -> int:
        async with WorkflowExecutor(db=db_url, broker=broker) as executor:
            return (await executor.execute_workflow(workflow_id, config={"queue": queue})).id

    return asyncio.run(submit())


class EventTap:
    """Collects the workers' engine events from Redis pub/sub (flowdesk:events) in a thread."""

    def __init__(self, broker: str) -> None:
        import redis

        from flowdesk.engine.queue import EVENTS_CHANNEL

        self.events: list[dict] = []
        self._client = redis.Redis.from_url(broker)
        self._pubsub = self._client.pubsub()
        self._pubsub.subscribe(EVENTS_CHANNEL)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.2)
            if message and message.get("type") == "message":
                self.events.append(json.loads(message["data"]))

    def of(self, kind: str, execution_id: int) -> list[dict]:
        return [e for e in list(self.events) if e["type"] == kind and e["execution_id"] == execution_id]

    def in_flight(self, execution_id: int) -> set[str]:
        """Steps of the execution that have started and not finished."""
        started = {e["step_name"] for e in self.of("node_started", execution_id)}
        return started - {e["step_name"] for e in self.of("node_finished", execution_id)}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._pubsub.close()
        self._client.close()


def test_a_run_pauses_while_postgresql_is_down_and_ends_with_every_step_once(
    own_postgres, outage_db, redis_server, http_server, tmp_path
):
    from flowdesk.engine.executor import STORE_OUTAGE_PAUSE

    keys = ["outage-first", "outage-slow", "outage-third", "outage-fourth"]
    wid = _store(
        outage_db,
        workflow_file(
            "outlives an outage",
            [
                api_call("first", f"{http_server.url}/delay/2?key={keys[0]}"),
                api_call("slow", f"{http_server.url}/delay/4?key={keys[1]}"),
                api_call("third", f"{http_server.url}/hit/{keys[2]}"),
                api_call("fourth", f"{http_server.url}/hit/{keys[3]}"),
            ],
        ),
    )
    worker = WorkerProcess(
        outage_db, redis_server.url, "--queues", "outage", "--concurrency", "4", log=tmp_path / "w.log"
    ).ready()
    tap = EventTap(redis_server.url)
    try:
        execution_id = _submit(outage_db, redis_server.url, wid, "outage")
        wait_until(lambda: http_server.count(keys[0]) == 1, "the first call to be in flight")
        own_postgres.halt()  # the first call answers while the database is down: its row waits
        paused = wait_until(lambda: tap.of("execution_paused", execution_id), "the run to pause")
        assert paused[0]["reason"] == STORE_OUTAGE_PAUSE
        assert "cannot be reached" in worker.log()
        # Whatever was in flight when the run paused ends (the first call, or also the slow one
        # when the writer noticed the outage only at the first call's row); the next node waits.
        wait_until(lambda: not tap.in_flight(execution_id), "the calls in flight to end")
        sent = [http_server.count(key) for key in keys]
        assert sent in ([1, 0, 0, 0], [1, 1, 0, 0]), sent
        assert not tap.of("execution_finished", execution_id)
        own_postgres.start_again()
        wait_until(lambda: tap.of("execution_finished", execution_id), "the run to end")
        assert tap.of("execution_resumed", execution_id)
        assert tap.of("execution_finished", execution_id)[0]["status"] == "completed", worker.log()
    finally:
        tap.close()
        worker.stop()
    assert [http_server.count(key) for key in keys] == [1, 1, 1, 1]  # no call sent twice
    rows = own_postgres.query(
        "outage",
        "SELECT step_name, status FROM workflow_execution_logs WHERE execution_id = %s ORDER BY sequence",
        (execution_id,),
    )
    assert rows == [(name, "success") for name in ("start", "first", "slow", "third", "fourth", "end")]
    (status, pid), = own_postgres.query(
        "outage", "SELECT status, runner_pid FROM workflow_executions WHERE id = %s", (execution_id,)
    )  # fmt: skip
    assert (status, pid) == ("completed", worker.pid)
    assert "Traceback" not in worker.log()


def test_a_worker_started_while_postgresql_is_down_waits_for_it_with_one_line(
    own_postgres, outage_db, redis_server, http_server, tmp_path
):
    key = "outage-late-start"
    wid = _store(
        outage_db, workflow_file("after the wait", [api_call("call", f"{http_server.url}/hit/{key}")])
    )
    own_postgres.halt()
    worker = WorkerProcess(outage_db, redis_server.url, "--queues", "late", log=tmp_path / "w.log")
    try:
        wait_until(lambda: "The worker waits for it" in worker.log(), "the worker to say it waits")
        assert worker.process.poll() is None and not worker.alive_key()
        own_postgres.start_again()
        worker.ready()
        execution_id = _submit(outage_db, redis_server.url, wid, "late")
        wait_until(
            lambda: own_postgres.query("outage", "SELECT status FROM workflow_executions WHERE id = %s",
                                       (execution_id,)) == [("completed",)],
            "the run on the worker that waited",
        )  # fmt: skip
        log = worker.log()
    finally:
        worker.stop()
    waiting = [line for line in log.splitlines() if "The worker waits for it" in line]
    assert len(waiting) == 1 and "Cannot connect to the database" in waiting[0], log
    assert "Traceback" not in log
    assert http_server.count(key) == 1


def test_a_database_that_refuses_the_worker_is_no_outage_the_worker_stops_at_once(own_postgres, redis_server):
    from .conftest import flowdesk

    missing = own_postgres.url("no_such_database")
    result = flowdesk("worker", "--db", missing, "--broker", redis_server.url)
    assert result.returncode == 2
    assert 'database "no_such_database" does not exist' in result.stderr
    assert "waits for it" not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_a_claim_committed_while_its_answer_is_lost_is_handed_back_and_run_once(
    own_postgres, outage_db, redis_server, http_server, tmp_path
):
    """The claim's commit is made but the worker never hears so: its session waits for a
    synchronous standby that does not exist (the commit is written, the answer held back), and
    the cluster is halted then. The run is recorded `running` under a live worker that does not
    run it; once the database answers again the worker hands it back and it runs, once."""
    key = "claim-window"
    wid = _store(outage_db, workflow_file("claim window", [api_call("call", f"{http_server.url}/hit/{key}")]))
    # Only the worker's sessions wait for the standby (the test cluster runs synchronous_commit=off).
    own_postgres.run_outside_transaction("CREATE ROLE flowdesk_worker SUPERUSER LOGIN")
    own_postgres.run_outside_transaction("ALTER ROLE flowdesk_worker SET synchronous_commit = on")
    worker_url = outage_db.replace("//postgres@", "//flowdesk_worker@")
    worker = WorkerProcess(
        worker_url, redis_server.url, "--queues", "claimwin", log=tmp_path / "w.log"
    ).ready()
    try:
        own_postgres.run_outside_transaction("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        own_postgres.run_outside_transaction("SELECT pg_reload_conf()")
        execution_id = _submit(outage_db, redis_server.url, wid, "claimwin")
        wait_until(
            lambda: own_postgres.query(
                "postgres",
                "SELECT 1 FROM pg_stat_activity WHERE usename = 'flowdesk_worker' AND wait_event = 'SyncRep'",
            ),
            "the worker's claim to wait for its commit's answer",
        )
        own_postgres.halt()  # the claim is committed; the worker's connection is cut before the answer
        settings = own_postgres.data / "postgresql.auto.conf"
        settings.write_text(
            "".join(
                line for line in settings.read_text().splitlines(True) if "synchronous_standby" not in line
            )
        )
        own_postgres.start_again()
        (status, pid), = own_postgres.query(
            "outage", "SELECT status, runner_pid FROM workflow_executions WHERE id = %s", (execution_id,)
        )  # fmt: skip
        assert pid == worker.pid  # the claim did land: the window was hit
        final = wait_until(
            lambda: own_postgres.query(
                "outage",
                "SELECT status, runner_pid FROM workflow_executions WHERE resumed_from_id = %s"
                " AND status = 'completed'",
                (execution_id,),
            ),
            "the handed-back run to run and end",
        )
        log = worker.log()
    finally:
        worker.stop()
    assert final == [("completed", worker.pid)]
    (first,) = own_postgres.query(
        "outage", "SELECT status FROM workflow_executions WHERE id = %s", (execution_id,)
    )
    assert first == ("resumed",)
    assert http_server.count(key) == 1  # run once
    assert "handed back" in log


def test_after_an_outage_a_worker_hands_back_runs_recorded_under_it_that_it_does_not_hold(
    own_postgres, outage_db, redis_server, http_server, tmp_path
):
    """A message reaches the worker while the database is away; once it answers again, the worker
    looks for every run recorded `running` under its host and pid, and hands back (and queues
    again) those it does not hold, though no message of theirs is left (a claim made as its
    message was lost)."""
    import socket

    from flowdesk.engine.queue import enqueue

    done_key, lost_key = "sweep-done", "sweep-lost"
    done_wid = _store(
        outage_db, workflow_file("sweep done", [api_call("c", f"{http_server.url}/hit/{done_key}")])
    )
    lost_wid = _store(
        outage_db, workflow_file("sweep lost", [api_call("c", f"{http_server.url}/hit/{lost_key}")])
    )
    worker = WorkerProcess(outage_db, redis_server.url, "--queues", "sweep", log=tmp_path / "w.log").ready()
    try:
        done = _submit(outage_db, redis_server.url, done_wid, "sweep")
        # The state a lost claim leaves: recorded as this worker's, no message of it anywhere.
        lost = _submit(outage_db, redis_server.url, lost_wid, "nobody-consumes-this")
        own_postgres.query(
            "outage",
            "UPDATE workflow_executions SET status = 'running', runner_host = %s, runner_pid = %s,"
            ' config = \'{"queue": "sweep"}\' WHERE id = %s',
            (socket.gethostname(), worker.pid, lost),
        )
        wait_until(
            lambda: (
                own_postgres.query("outage", "SELECT status FROM workflow_executions WHERE id = %s", (done,))
                == [("completed",)]
            ),
            "the first run to end",
        )
        own_postgres.halt()
        enqueue(redis_server.url, done, "sweep")  # a message looked at while the database is away
        wait_until(lambda: "cannot be reached" in worker.log(), "the worker to meet the outage")
        own_postgres.start_again()
        final = wait_until(
            lambda: own_postgres.query(
                "outage",
                "SELECT status, runner_pid FROM workflow_executions WHERE resumed_from_id = %s AND status = 'completed'",
                (lost,),
            ),
            "the run recorded under the worker to be handed back and end",
        )
    finally:
        worker.stop()
    assert final == [("completed", worker.pid)]
    assert http_server.count(lost_key) == 1 and http_server.count(done_key) == 1
