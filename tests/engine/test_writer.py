"""ExecutionWriter: rows encoded by its fast path read back exactly as the store's own path writes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from flowdesk.domain.models import ExecutionLog
from flowdesk.engine import records
from flowdesk.engine.writer import ExecutionWriter, json_safe
from flowdesk.services.executions import ExecutionService
from tests.support.graph_builder import graph
from tests.support.stored_graph import store_graph
from tests.support.waiting import until


def _row(step: str, seq: int) -> dict:
    when = datetime(2026, 1, 2, 3, 4, 5, 0 if seq == 1 else 123456, tzinfo=UTC)
    return {
        "node_id": None,
        "step_name": step,
        "node_name": "循环体",
        "node_type": "DELAY",
        "status": "success" if seq == 1 else "failed",
        "input_data": {"seconds": "{{input.x}}", "中文": [1, 2.5, None, True]},
        "output_data": None if seq == 2 else {"seconds": 0},
        "error_message": None if seq == 1 else "boom",
        "error_type": None if seq == 1 else "other",
        "attempts": seq,
        "execution_time": 0.25,
        "warnings": [] if seq == 1 else ["input.x is not defined"],
        "sequence": seq,
        "metrics": {} if seq == 1 else {"http_status": 500, "attempts": [{"n": 1}]},
        "iteration_path": [seq],
        "started_at": when,
        "completed_at": when,
    }


def _execution(db, workflow_id: int) -> int:
    with db.engine.begin() as conn:
        execution_id, _ = records.create_execution(
            conn,
            workflow_id,
            execution_name=None,
            input_data={},
            config={},
            status="running",
            resumed_from_id=None,
        )
    return execution_id


def test_fast_step_rows_read_back_like_the_stores_own(db):
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    fast_id = _execution(db, stored.workflow.id)
    slow_id = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)

    async def main():
        for seq, step in ((1, "循环体[1]"), (2, "循环体[2]")):
            writer.add_step(fast_id, _row(step, seq))
        writer.update_execution(fast_id, status="completed", progress=1.0, _audit="done")
        await writer.flush()

    asyncio.run(main())
    writer.close()
    service = ExecutionService(db)
    service.add_logs(
        [
            ExecutionLog(execution_id=slow_id, **{**_row(s, q), "created_at": _row(s, q)["completed_at"]})
            for q, s in ((1, "循环体[1]"), (2, "循环体[2]"))
        ]
    )
    fast = [log.model_dump(exclude={"id", "execution_id"}) for log in service.get_logs(fast_id)]
    slow = [log.model_dump(exclude={"id", "execution_id"}) for log in service.get_logs(slow_id)]
    assert fast == slow
    assert str(service.get_execution(fast_id).status) == "completed"


def test_rows_that_are_not_json_are_made_json_safe(db):
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)

    async def main():
        row = _row("odd", 1)
        row["output_data"] = {
            "when": datetime(2026, 1, 1, tzinfo=UTC),
            "obj": object(),
            "raw": b"bytes",
            "set": {1},
        }
        writer.add_step(eid, row)
        await writer.flush()

    asyncio.run(main())
    writer.close()
    (log,) = ExecutionService(db).get_logs(eid)
    assert log.output_data["when"] == "2026-01-01T00:00:00+00:00"
    assert log.output_data["raw"] == "bytes" and log.output_data["set"] == [1]
    assert json_safe({1: (1, 2)}) == {"1": [1, 2]}


def test_a_failing_call_reaches_the_caller_and_the_writer_goes_on(db):
    writer = ExecutionWriter(db)

    def broken():
        raise ValueError("no")

    async def main():
        try:
            await writer.call(broken)
        except ValueError as exc:
            first = str(exc)
        second = await writer.call(lambda: 42)
        return first, second

    assert asyncio.run(main()) == ("no", 42)
    writer.close()


def test_execution_rows_written_by_the_engine_read_back_like_the_stores_own(db):
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    service = ExecutionService(db)
    with db.engine.begin() as conn:
        fast_id, _ = records.create_execution(
            conn,
            stored.workflow.id,
            execution_name="名字",
            input_data={"中文": [1, None]},
            config={"timeout": 5},
            status="running",
            resumed_from_id=None,
        )
    slow = service.create_execution(
        stored.workflow.id,
        execution_name="名字",
        input_data={"中文": [1, None]},
        config={"timeout": 5},
        status="running",
    )
    done = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    fields = {
        "status": "failed",
        "output_data": {"x": "ü"},
        "error_message": "e",
        "progress": 0.5,
        "completed_at": done,
    }
    with db.engine.begin() as conn:
        records.update_execution(conn, fast_id, dict(fields))  # the column's own unit: a fraction
    service.update_execution(slow.id, **{**fields, "progress": 50})  # the service's: 0-100, as read
    ignore = {"id", "started_at", "created_at"}
    assert service.get_execution(fast_id).model_dump(exclude=ignore) == service.get_execution(
        slow.id
    ).model_dump(exclude=ignore)
    fast = service.get_execution(fast_id)
    assert fast.started_at is not None and fast.started_at.tzinfo is not None


def _many_rows(n: int) -> list[dict]:
    return [_row(f"step[{i}]", 1 if i % 2 else 2) | {"sequence": i} for i in range(n)]


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_bulk_steps_go_through_the_step_sink_and_read_back_like_the_stores_own(db, monkeypatch):
    from flowdesk.engine.writer import SINK_THRESHOLD

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    fast_id = _execution(db, stored.workflow.id)
    slow_id = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)
    rows = _many_rows(2 * SINK_THRESHOLD + 50)

    async def main():
        half = len(rows) // 2
        for row in rows[:half]:
            writer.add_step(fast_id, dict(row))
        await writer.flush()
        assert writer.sink_running  # a batch this large started the sink...
        assert writer._sink.ready.wait(10)  # ...which the thread wrote around while it started
        for row in rows[half:]:
            writer.add_step(fast_id, dict(row))
        writer.update_execution(fast_id, status="completed", progress=1.0, _audit="done")
        await writer.flush()

    asyncio.run(main())
    assert writer.sink_rows == len(rows) - len(rows) // 2  # the second batch went through the sink
    writer.close()
    service = ExecutionService(db)
    service.add_logs(
        [ExecutionLog(execution_id=slow_id, **{**r, "created_at": r["completed_at"]}) for r in rows]
    )
    fast = [log.model_dump(exclude={"id", "execution_id"}) for log in service.get_logs(fast_id)]
    slow = [log.model_dump(exclude={"id", "execution_id"}) for log in service.get_logs(slow_id)]
    assert fast == slow
    assert str(service.get_execution(fast_id).status) == "completed"
    assert writer.failures == 0


def test_small_batches_never_start_the_sink(db):
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)

    async def main():
        for row in _many_rows(20):
            writer.add_step(eid, row)
        await writer.flush()
        return writer.sink_running

    assert asyncio.run(main()) is False
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == 20


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_when_the_sink_dies_the_thread_writes_and_nothing_is_lost(db, monkeypatch, caplog):
    monkeypatch.setenv("FLOWDESK_STEP_SINK", "1")  # the sink from the first row
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)

    async def main():
        writer.add_step(eid, _row("before", 1) | {"sequence": 0})
        await writer.flush()
        assert writer.sink_running
        writer._sink.proc.kill()  # the sink process dies between two batches
        writer._sink.proc.wait()
        for i, row in enumerate(_many_rows(30)):
            writer.add_step(eid, row | {"step_name": f"after[{i}]", "sequence": i + 1})
        await writer.flush()
        return writer.sink_running

    with caplog.at_level("WARNING", logger="flowdesk.engine.writer"):
        assert asyncio.run(main()) is False
    writer.close()
    names = [log.step_name for log in ExecutionService(db).get_logs(eid)]
    assert names[0] == "before" and len(names) == 31
    assert any("step sink process is not available" in r.message for r in caplog.records)
    assert writer.failures == 0


def test_a_batch_the_sink_refuses_is_refused_the_same_way_by_the_thread(db, monkeypatch):
    monkeypatch.setenv("FLOWDESK_STEP_SINK", "1")
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)

    async def main():
        writer.add_step(eid, _row("ok", 1))
        await writer.flush()
        writer.add_step(eid, _row("good", 1))
        writer.add_step(eid, _row("orphan", 1) | {"node_id": 987654})  # no such node: a foreign key fails
        await writer.flush()

    asyncio.run(main())
    writer.close()
    names = [log.step_name for log in ExecutionService(db).get_logs(eid)]
    # The refused batch is written row by row: the good row stays, the bad one is refused alone
    # and the execution is marked as one whose rows could not all be written.
    assert names == ["ok", "good"]
    assert "FOREIGN KEY" in writer.failed[eid] or "foreign key" in writer.failed[eid]


def test_the_sink_protocol_inserts_batches_and_answers_each(tmp_path):
    import io
    import sqlite3

    from flowdesk.engine.step_sink import read_message, serve, write_message

    path = tmp_path / "sink.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    inbox = io.BytesIO()
    write_message(inbox, ("sql", "INSERT INTO t (a, b) VALUES (?, ?)"))
    write_message(inbox, ("rows", [(1, "x"), (2, None)]))
    write_message(inbox, ("rows", [(3, "y", "too many")]))
    write_message(inbox, ("what", None))
    inbox.seek(0)
    outbox = io.BytesIO()
    serve(str(path), inbox, outbox)
    outbox.seek(0)
    replies = [read_message(outbox) for _ in range(4)]
    assert replies[0] == ("ready", None)
    assert replies[1] == ("ok", 2)
    assert replies[2][0] == "error" and "ProgrammingError" in replies[2][1]
    assert replies[3][0] == "error" and "does not know" in replies[3][1]
    assert read_message(outbox) is None
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT a, b FROM t ORDER BY a").fetchall() == [(1, "x"), (2, None)]


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_while_the_sink_serves_a_batch_goes_once_it_has_sink_batch_rows(db):
    """With the sink serving, SINK_BATCH rows make a batch at once, without a flush and whatever
    `linger` is, so the sink inserts while a run goes on; fewer rows wait for `linger` (or a flush)."""
    from flowdesk.engine.writer import SINK_BATCH

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db, step_sink=True)
    rows = _many_rows(2 * SINK_BATCH)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()  # the sink started and took the first row
        assert writer.sink_rows == 1
        writer.linger = 3600.0  # from now on only SINK_BATCH rows (or a flush) end the wait
        for row in rows[1:]:
            writer.add_step(eid, row)
        await until(
            lambda: writer.sink_rows > SINK_BATCH, "a batch of SINK_BATCH rows in the sink", timeout=30
        )
        await writer.flush()

    asyncio.run(main())
    assert writer.sink_rows == len(rows)
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)
    assert writer.failures == 0


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_while_the_sink_serves_the_thread_is_woken_once_per_batch_not_per_row(db):
    """Where the thread drives the sink (no channel), the loop wakes the lingering thread when a batch's SINK_BATCH-th row comes, once: the rows
    that come before the thread has taken the batch do not wake it again (each wake-up takes the
    event's lock on the loop)."""
    import threading

    from flowdesk.engine.writer import SINK_BATCH

    class CountingEvent(threading.Event):
        sets = 0

        def set(self) -> None:
            CountingEvent.sets += 1
            super().set()

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db, step_sink=True)
    writer._channel_unsupported = True  # as on a loop that cannot watch pipes: the thread drives the sink
    rows = _many_rows(3 * SINK_BATCH + 1)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()  # the sink started and took the first row
        writer.linger = 3600.0
        writer._urgent = CountingEvent()
        for row in rows[1:]:
            writer.add_step(eid, row)
        await until(lambda: writer.sink_rows == len(rows), "three batches in the sink", timeout=30)
        return CountingEvent.sets

    assert asyncio.run(main()) == 3
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_the_loop_hands_a_full_batch_to_the_thread_before_it_goes_on(db, monkeypatch):
    """Where the thread drives the sink (no channel): when a batch for the sink is full, add_step returns once the writer thread has taken it (so a
    busy loop cannot starve the thread of the GIL for a whole run), and no later than HANDOFF_WAIT
    when the thread is busy with something else."""
    import threading

    from flowdesk.engine import writer as writer_module
    from flowdesk.engine.writer import SINK_BATCH

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db, step_sink=True)
    writer._channel_unsupported = True  # as on a loop that cannot watch pipes: the thread drives the sink
    rows = _many_rows(2 * SINK_BATCH + 1)
    release = threading.Event()

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()  # the sink started and took the first row
        writer.linger = 3600.0
        monkeypatch.setattr(writer_module, "HANDOFF_WAIT", 3600.0)
        for row in rows[1 : SINK_BATCH + 1]:
            writer.add_step(eid, row)
        taken_at_once = writer._queue.empty()  # the thread took the batch before add_step returned
        # The thread busy with a call: a full batch makes the loop wait HANDOFF_WAIT, not longer.
        monkeypatch.setattr(writer_module, "HANDOFF_WAIT", 0.05)
        busy = asyncio.ensure_future(writer.call(release.wait, 60))
        await asyncio.sleep(0)
        for row in rows[SINK_BATCH + 1 :]:
            writer.add_step(eid, row)
        still_busy = not busy.done()
        release.set()
        await busy
        await writer.flush()
        return taken_at_once, still_busy

    assert asyncio.run(main()) == (True, True)
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)
    assert writer.failures == 0


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_a_run_with_many_nodes_starts_the_sink_before_its_rows_come(db):
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.engine.writer import SINK_THRESHOLD

    names = [f"d{i}" for i in range(SINK_THRESHOLD)]
    g = graph(  # 2 ms a step: the rows come a few at a time, never a batch of SINK_THRESHOLD
        [("s", "START"), *[(n, "DELAY", {"seconds": 0.002}) for n in names], ("e", "END")],
        list(zip(["s", *names], [*names, "e"], strict=True)),
    )
    stored = store_graph(db, g)

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            handle = await executor.execute_workflow(stored.workflow.id, {})
            return handle, executor._writer.sink_running, executor._writer.sink_rows

    handle, started, sink_rows = asyncio.run(main())
    assert str(handle.status) == "completed"
    assert started  # started for the plan's size, not for a big batch
    assert sink_rows > 0  # and it wrote the rows that came once it was ready
    assert len(ExecutionService(db).get_logs(handle.id)) == SINK_THRESHOLD + 2


def test_progress_notes_share_one_queued_update_and_the_latest_node_is_written(db):
    """While the thread is busy, a burst of node starts leaves one queued update carrying the last
    node; an explicit update queued after a note is written after it, and a note after that wins."""
    import threading

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    burst_id = _execution(db, stored.workflow.id)
    paused_id = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db)
    entered, gate = threading.Event(), threading.Event()

    def busy() -> None:
        entered.set()
        gate.wait(30)

    async def main():
        blocked = asyncio.create_task(writer.call(busy))
        await until(entered.is_set, "the writer thread to be busy")
        for i in range(100):
            writer.note_progress(burst_id, f"call{i}", i / 100)
        queued_after_burst = writer._queue.qsize()
        writer.note_progress(paused_id, "a", 0.1)
        writer.update_execution(paused_id, status="paused", current_node="b", progress=0.2)
        writer.note_progress(paused_id, "c", 0.3)
        writer.note_progress(paused_id, "d", 0.4)
        gate.set()
        await blocked
        await writer.flush()
        return queued_after_burst

    queued_after_burst = asyncio.run(main())
    writer.close()
    assert queued_after_burst == 1
    service = ExecutionService(db)
    burst = service.get_execution(burst_id)
    assert (burst.current_node, burst.progress) == ("call99", 99.0)  # stored in percent
    paused = service.get_execution(paused_id)
    assert (str(paused.status), paused.current_node, paused.progress) == ("paused", "d", 40.0)


# -- the loop drives the step sink (engine/sink_channel.py) ----------------------------------------------


def _channel_writer(db, *, linger: float = 0.02):
    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))
    eid = _execution(db, stored.workflow.id)
    writer = ExecutionWriter(db, step_sink=True, linger=linger)
    return writer, eid


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_once_the_sink_serves_the_loop_writes_the_rows_to_it_and_a_call_sees_them_all(db):
    """After the thread's first batch the loop drives the sink: rows go to it with no queue item, and a
    call queued after them runs once they are committed (it reads every one of them)."""
    from flowdesk.engine.writer import SINK_BATCH

    writer, eid = _channel_writer(db, linger=3600.0)
    rows = _many_rows(2 * SINK_BATCH + 7)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()  # the thread started the sink, wrote the first row, and let the loop drive it
        for row in rows[1:]:
            writer.add_step(eid, row)
        driven = writer._channel is not None
        queued = writer._queue.qsize()
        seen = await writer.call(lambda: len(ExecutionService(db).get_logs(eid)))
        await writer.release_channel()
        return driven, queued, seen

    driven, queued, seen = asyncio.run(main())
    writer.close()
    assert driven and queued == 0
    assert seen == len(rows)
    assert writer.sink_rows == len(rows) and writer.failures == 0


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_a_batch_that_is_not_full_reaches_the_database_after_linger_without_a_flush(db):
    writer, eid = _channel_writer(db, linger=0.05)
    rows = _many_rows(6)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()
        for row in rows[1:]:
            writer.add_step(eid, row)
        assert writer._channel is not None
        await until(
            lambda: writer.sink_rows == len(rows), "five rows in the sink without a flush", timeout=30
        )
        await writer.release_channel()

    asyncio.run(main())
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_rows_the_loop_gathered_are_written_when_the_writer_closes_after_the_loop_has_ended(db):
    """No flush, no release: the loop ends with rows gathered and batches unanswered; close() (no
    loop any more) writes them, waits for the sink's answers, and loses nothing."""
    from flowdesk.engine.writer import SINK_BATCH

    writer, eid = _channel_writer(db, linger=3600.0)
    rows = _many_rows(SINK_BATCH + 31)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()
        for row in rows[1:]:
            writer.add_step(eid, row)
        return writer._channel is not None

    assert asyncio.run(main())
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)
    assert writer.failures == 0


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_rows_in_flight_when_the_sink_dies_are_written_by_the_thread_before_what_came_after(db):
    """The sink killed while the loop drives it with rows in flight: every row is written by the thread,
    and the execution update queued after them is written after them (a call sees them all)."""
    from flowdesk.engine.writer import SINK_BATCH

    writer, eid = _channel_writer(db, linger=3600.0)
    rows = _many_rows(3 * SINK_BATCH)

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()
        for row in rows[1 : SINK_BATCH + 1]:
            writer.add_step(eid, row)
        writer._sink.proc.kill()
        for row in rows[SINK_BATCH + 1 :]:
            writer.add_step(eid, row)
        writer.update_execution(eid, status="completed")
        seen = await writer.call(lambda: len(ExecutionService(db).get_logs(eid)))
        await writer.flush()
        return seen

    assert asyncio.run(main()) == len(rows)
    writer.close()
    assert len(ExecutionService(db).get_logs(eid)) == len(rows)
    assert ExecutionService(db).get_execution(eid).status.value == "completed"
    assert writer.failures == 0 and not writer.sink_running


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_a_batch_marshal_cannot_carry_is_written_by_the_thread(db, monkeypatch):
    """A row value the pipe's format cannot carry (a column the store passes through as it is) does
    not stop the loop: that batch goes to the writer thread, the others to the sink."""
    from flowdesk.store import run_rows

    writer, eid = _channel_writer(db, linger=3600.0)
    rows = _many_rows(4)

    class Odd(str):  # a str the database takes, marshal does not
        pass

    async def main():
        writer.add_step(eid, rows[0])
        await writer.flush()
        encode = run_rows.step_values
        monkeypatch.setattr(
            "flowdesk.engine.writer.step_values",
            lambda row: tuple(Odd(v) if v == "odd" else v for v in encode(row)),
        )
        writer.add_step(eid, rows[1] | {"step_name": "odd"})
        writer.add_step(eid, rows[2])
        driven = writer._channel is not None
        await writer.flush()
        return driven

    assert asyncio.run(main())
    writer.close()
    names = sorted(log.step_name for log in ExecutionService(db).get_logs(eid))
    assert len(names) == 3 and "odd" in names
    assert writer.failures == 0
