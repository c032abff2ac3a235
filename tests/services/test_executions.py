"""ExecutionService: runs and step logs round-trip, bulk paths, deletion, node deletion keeps history."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from flowdesk.domain import (
    ExecutionLog,
    ExecutionStatus,
    InvalidInputError,
    NodeType,
    NotFoundError,
    StepStatus,
)
from flowdesk.store.database import this_host


def test_execution_round_trip(executions, small_workflow):
    wf, _, _ = small_workflow
    run = executions.create_execution(
        wf.id,
        execution_name="nightly",
        input_data={"user_id": 7, "名字": "值"},
        config={"concurrency": 4},
        environment="staging",
    )
    assert run.status == ExecutionStatus.PENDING
    assert (run.runner_pid, run.runner_host) == (os.getpid(), this_host())
    assert run.created_at.tzinfo is UTC
    assert executions.get_execution(run.id) == run
    assert (run.input_data, run.config, run.environment, run.execution_name) == (
        {"user_id": 7, "名字": "值"},
        {"concurrency": 4},
        "staging",
        "nightly",
    )


def test_update_execution_stamps_times(executions, small_workflow):
    wf, _, _ = small_workflow
    run = executions.create_execution(wf.id)
    running = executions.update_execution(run.id, status="running", current_node="call", progress=0.5)
    assert running.started_at is not None and running.completed_at is None
    assert (running.current_node, running.progress) == ("call", 0.5)
    done = executions.update_execution(run.id, status=ExecutionStatus.COMPLETED, output_data=[1, 2])
    assert done.completed_at >= done.started_at and done.output_data == [1, 2]
    assert executions.get_execution(run.id) == done
    with pytest.raises(InvalidInputError, match="'exploded' is not an execution status"):
        executions.update_execution(run.id, status="exploded")
    with pytest.raises(InvalidInputError, match="no field colour"):
        executions.update_execution(run.id, colour="red")
    with pytest.raises(NotFoundError, match="Execution 999 does not exist."):
        executions.update_execution(999, progress=1)


def test_resumed_from_and_mark_interrupted(executions, small_workflow):
    wf, _, _ = small_workflow
    first = executions.create_execution(wf.id, status="running")
    stopped = executions.mark_interrupted(first.id, "Interrupted: the app was closed.")
    assert stopped.status == "interrupted" and stopped.error_message == "Interrupted: the app was closed."
    second = executions.create_execution(wf.id, resumed_from_id=first.id)
    assert executions.get_execution(second.id).resumed_from_id == first.id
    executions.delete_executions([first.id])
    assert executions.get_execution(second.id).resumed_from_id is None  # SET NULL


def test_list_executions_filters_and_pages(executions, workflows, small_workflow):
    wf, _, _ = small_workflow
    other = workflows.create_workflow("other")
    ids = [executions.create_execution(wf.id).id for _ in range(5)]
    executions.create_execution(other.id)
    executions.update_execution(ids[1], status="failed", error_message="boom")
    assert [e.id for e in executions.list_executions(workflow_id=wf.id)] == ids[::-1]
    assert [e.id for e in executions.list_executions(workflow_id=wf.id, limit=2, offset=1)] == [
        ids[3],
        ids[2],
    ]
    assert [e.id for e in executions.list_executions(status="failed")] == [ids[1]]
    assert len(executions.list_executions()) == 6


def _log(run_id: int, seq: int, **extra) -> ExecutionLog:
    return ExecutionLog(execution_id=run_id, step_name=f"step {seq}", sequence=seq, **extra)


def test_logs_round_trip_in_sequence_order(executions, small_workflow):
    wf, (start, call, end), _ = small_workflow
    run = executions.create_execution(wf.id)
    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    full = _log(
        run.id,
        1,
        node_id=call.id,
        node_name="call",
        node_type="API_CALL",
        status=StepStatus.FAILED,
        input_data={"url": "http://127.0.0.1/x"},
        output_data={"status": 503},
        error_message="HTTP 503",
        error_type="http_5xx",
        attempts=3,
        execution_time=0.25,
        warnings=["slow"],
        metrics={"rows": 10},
        iteration_path=[2, 0],
        started_at=t0,
        completed_at=t0 + timedelta(seconds=1),
    )
    ids = executions.add_logs([_log(run.id, 2, node_id=end.id), full, _log(run.id, 0, node_id=start.id)])
    assert len(ids) == 3 and len(set(ids)) == 3
    logs = executions.get_logs(run.id)
    assert [log.sequence for log in logs] == [0, 1, 2]
    got = logs[1]
    assert got.id == ids[1]
    assert got.model_dump(exclude={"id", "created_at"}) == full.model_dump(exclude={"id", "created_at"})
    assert got.started_at == t0 and got.started_at.tzinfo is UTC


def test_add_logs_across_executions_keeps_order_of_ids(executions, small_workflow):
    wf, _, _ = small_workflow
    a, b = executions.create_execution(wf.id), executions.create_execution(wf.id)
    batch = [_log(a.id if i % 2 else b.id, i) for i in range(300)]
    ids = executions.add_logs(batch)
    assert ids == sorted(ids)
    for log_id, entry in zip(ids, batch, strict=True):
        assert executions.get_log(log_id).step_name == entry.step_name
    assert executions.add_logs([]) == []


def test_update_logs_in_bulk(executions, small_workflow):
    wf, _, _ = small_workflow
    run = executions.create_execution(wf.id)
    ids = executions.add_logs([_log(run.id, i, status="running") for i in range(4)])
    done = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    executions.update_logs(
        [
            (
                ids[0],
                {"status": "success", "output_data": {"a": 1}, "completed_at": done, "execution_time": 0.1},
            ),
            (
                ids[1],
                {"status": "failed", "error_message": "timed out", "error_type": "timeout", "attempts": 2},
            ),
            (ids[2], {"status": "success", "output_data": [1], "completed_at": done, "execution_time": 0.2}),
        ]
    )
    logs = executions.get_logs(run.id)
    assert [log.status for log in logs] == ["success", "failed", "success", "running"]
    assert logs[0].output_data == {"a": 1} and logs[0].completed_at == done
    assert (logs[1].error_type, logs[1].attempts) == ("timeout", 2)
    assert logs[2].output_data == [1]
    with pytest.raises(InvalidInputError, match="'done' is not a step status"):
        executions.update_logs([(ids[3], {"status": "done"})])
    with pytest.raises(InvalidInputError, match="no field mood"):
        executions.update_logs([(ids[3], {"mood": "happy"})])


def test_delete_executions_cascades_to_logs(db, executions, small_workflow):
    from sqlalchemy import func, select

    from flowdesk.store.tables import ExecutionLogRow

    wf, _, _ = small_workflow
    a, b = executions.create_execution(wf.id), executions.create_execution(wf.id)
    executions.add_logs([_log(a.id, 0), _log(a.id, 1), _log(b.id, 0)])
    assert executions.delete_executions([a.id, 12345]) == 1
    with db.session(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(ExecutionLogRow)) == 1
    with pytest.raises(NotFoundError):
        executions.get_execution(a.id)
    assert executions.delete_executions([]) == 0


def test_deleting_a_node_keeps_its_logs_with_null_node_id(executions, workflows, small_workflow):
    wf, (start, call, end), _ = small_workflow
    run = executions.create_execution(wf.id)
    executions.add_logs([_log(run.id, 0, node_id=call.id, node_name="call")])
    workflows.delete_node(call.id)
    (log,) = executions.get_logs(run.id)
    assert log.node_id is None and log.step_name == "step 0" and log.node_name == "call"


def test_writer_thread_and_reader_work_side_by_side(executions, small_workflow):
    """The engine's writer flushes batches from a thread while the UI thread reads."""
    wf, _, _ = small_workflow
    run = executions.create_execution(wf.id)
    errors: list[BaseException] = []

    def writer():
        try:
            for batch in range(20):
                executions.add_logs([_log(run.id, batch * 10 + i) for i in range(10)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        executions.get_logs(run.id)
    thread.join()
    assert errors == []
    assert [log.sequence for log in executions.get_logs(run.id)] == list(range(200))


def test_runs_are_audited_but_step_rows_are_not(audit, executions, small_workflow):
    wf, _, _ = small_workflow
    before = len(audit.list_entries(limit=1000))
    run = executions.create_execution(wf.id, execution_name="r")
    executions.add_logs([_log(run.id, 0)])
    executions.update_execution(run.id, progress=0.5)
    executions.update_execution(run.id, status="failed", error_message="boom")
    executions.delete_executions([run.id])
    entries = audit.list_entries(entity="execution")
    assert [e.action for e in reversed(entries)] == ["create", "update", "delete"]
    assert entries[1].summary == f"Run {run.id} went from pending to failed (boom)."
    assert len(audit.list_entries(limit=1000)) == before + 3


def test_node_type_enum_values_are_stored_as_plain_strings(workflows):
    wf = workflows.create_workflow("w")
    node = workflows.add_node(wf.id, "s", NodeType.START)
    assert workflows.get_node(node.id).node_type == "START"


def test_the_row_reader_reads_what_the_store_reads(db, backend, executions, small_workflow):
    """The server's GET /executions/{id} reads SQLite through its own connection: the same Execution
    as ExecutionService, each commit seen at once; on PostgreSQL it leaves every read to the store."""
    from flowdesk.store.row_reader import ExecutionReader

    wf, _, _ = small_workflow
    run = executions.create_execution(
        wf.id, execution_name="nightly", input_data={"名字": "值", "n": [1, 2.5, None]}, environment="staging"
    )
    reader = ExecutionReader(db)
    try:
        if backend == "postgresql":
            assert reader.execution(run.id) is None and reader.data_version() is None
            return
        assert reader.execution(run.id) == executions.get_execution(run.id)
        version = reader.data_version()
        assert reader.data_version() == version  # nothing committed since
        executions.update_execution(run.id, status="running", current_node="call", progress=50)
        executions.update_execution(run.id, status="failed", output_data={"x": 1}, error_message="boom")
        assert reader.data_version() != version  # commits through another connection move it
        seen = reader.execution(run.id)
        assert seen == executions.get_execution(run.id)
        assert (seen.status, seen.progress, seen.error_message) == (ExecutionStatus.FAILED, 50.0, "boom")
        assert seen.started_at.tzinfo is UTC and seen.completed_at >= seen.started_at
        assert reader.execution(run.id + 1000) is None  # no such row: the store says so
    finally:
        reader.close()


@pytest.mark.sqlite_only
def test_the_row_reader_never_waits_for_a_locked_file(db_path):
    """A file another connection holds exclusively: the reader answers None at once (the server then
    asks the store, which waits its busy timeout and says what is wrong); an in-memory database has
    no reader."""
    import sqlite3

    from flowdesk.services import ExecutionService, WorkflowService
    from flowdesk.store import Database
    from flowdesk.store.row_reader import ExecutionReader

    db = Database(db_path)
    run = ExecutionService(db).create_execution(WorkflowService(db).create_workflow("w").id)
    db.close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE workflow_executions SET progress = 0.25 WHERE id = ?", (run.id,))
    holder.execute("COMMIT")  # exclusive locking mode: the lock stays until the connection closes
    reader = ExecutionReader(db)
    try:
        assert reader.execution(run.id) is None
        holder.close()
        assert reader.execution(run.id).progress == 25.0
    finally:
        reader.close()
    memory = Database("sqlite://")
    try:
        assert ExecutionReader(memory).execution(run.id) is None
    finally:
        memory.close()
