"""Executions and step rows in SQLite; crash -> interrupted -> resume reusing outputs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import executor, graph
from tests.support.stored_graph import store_graph
from tests.support.waiting import EngineEvents, eventually, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_execution_and_step_rows_are_persisted_in_start_order(db):
    stored = store_graph(
        db,
        graph(
            [
                ("开始", "START"),
                ("判断", "CONDITION", {"condition": "{{input.n}} > 1"}),
                ("循环", "LOOP", {"items": "{{input.xs}}"}),
                ("循环体", "ECHO", {"value": "{{loop.item}}"}),
                ("没走", "ECHO"),
                ("结束", "END"),
            ],
            [
                ("开始", "判断"),
                ("判断", "循环", "CONDITIONAL_TRUE"),
                ("判断", "没走", "CONDITIONAL_FALSE"),
                ("循环", "循环体", "LOOP"),
                ("循环体", "循环"),
                ("循环", "结束"),
                ("没走", "结束"),
            ],
            name="persisted",
        ),
    )

    async def main():
        ex = executor(db=db)
        try:
            return await ex.execute_workflow(
                stored.workflow.id, {"n": 2, "xs": ["a", "b", "c"]}, execution_name="first"
            )
        finally:
            await ex.aclose()

    h = asyncio.run(main())
    service = ExecutionService(db)
    execution = service.get_execution(h.id)
    assert execution.status == "completed"
    assert execution.execution_name == "first"
    assert execution.input_data == {"n": 2, "xs": ["a", "b", "c"]}
    assert execution.runner_pid == os.getpid()
    assert execution.completed_at is not None and execution.progress == 100.0
    logs = service.get_logs(h.id)
    assert [(log.step_name, str(log.status)) for log in logs] == [
        ("开始", "success"),
        ("判断", "success"),
        ("没走", "skipped"),
        ("循环", "success"),
        ("循环体[0]", "success"),
        ("循环体[1]", "success"),
        ("循环体[2]", "success"),
        ("结束", "success"),
    ]
    body = logs[5]
    assert body.node_name == "循环体" and body.node_type == "ECHO"
    assert body.output_data == {"value": "b"}
    assert body.iteration_path == [1]
    assert body.attempts == 1 and body.execution_time is not None
    assert body.node_id == next(n.id for n in stored.nodes if n.name == "循环体")
    assert [log.sequence for log in logs] == sorted(log.sequence for log in logs)


def test_failed_and_cancelled_steps_are_persisted_with_error_type(db):
    stored = store_graph(
        db,
        graph(
            [
                ("s", "START"),
                ("slow", "DELAY", {"seconds": 5}),
                ("bad", "FAIL", {"message": "nope", "error_type": "http_4xx"}),
                ("e", "END"),
            ],
            [("s", "slow"), ("s", "bad"), ("slow", "e"), ("bad", "e")],
        ),
    )

    async def main():
        ex = executor(db=db)
        try:
            return await ex.execute_workflow(stored.workflow.id, {})
        finally:
            await ex.aclose()

    h = asyncio.run(main())
    execution = ExecutionService(db).get_execution(h.id)
    assert execution.status == "failed" and execution.error_message == "bad: nope"
    logs = {log.step_name: log for log in ExecutionService(db).get_logs(h.id)}
    assert str(logs["bad"].status) == "failed" and logs["bad"].error_type == "http_4xx"
    assert str(logs["slow"].status) == "cancelled" and logs["slow"].error_type == "cancelled"


def test_a_workflow_is_found_by_name_and_a_missing_one_is_a_clear_error(db):
    from flowdesk.domain.errors import NotFoundError

    store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")], name="by name"))

    async def main():
        ex = executor(db=db)
        try:
            h = await ex.execute_workflow("by name", {"x": 1})
            with pytest.raises(NotFoundError):
                await ex.execute_workflow(9999, {})
            return h
        finally:
            await ex.aclose()

    assert asyncio.run(main()).status == "completed"


def test_editing_a_workflow_is_seen_by_the_next_run(db):
    stored = store_graph(
        db, graph([("s", "START"), ("x", "ECHO", {"value": 1}), ("e", "END")], [("s", "x"), ("x", "e")])
    )
    node = next(n for n in stored.nodes if n.name == "x")

    async def main():
        ex = executor(db=db)
        try:
            first = await ex.execute_workflow(stored.workflow.id)
            WorkflowService(db).update_node(node.id, config={"value": 2})
            second = await ex.execute_workflow(stored.workflow.id)
            return first, second
        finally:
            await ex.aclose()

    first, second = asyncio.run(main())
    assert first.output_data["x"] == {"value": 1}
    assert second.output_data["x"] == {"value": 2}


CRASHING_RUN = """
import asyncio, random, sys
from flowdesk.engine.executor import WorkflowExecutor

async def stamp(ctx):
    return {{"stamp": random.random()}}

async def hang(ctx):
    print("hanging", flush=True)
    await asyncio.sleep(3600)
    return {{}}

async def main():
    ex = WorkflowExecutor(db={db!r}, load_plugins=False)
    ex.register_node_handler("STAMP", stamp)
    ex.register_node_handler("HANG", hang)
    await ex.execute_workflow({wid}, {{"k": 1}})

asyncio.run(main())
"""


def test_crash_then_interrupted_then_resume_reuses_succeeded_outputs(db, db_path, tmp_path):
    from flowdesk.store import Database

    stored = store_graph(
        db,
        graph(
            [
                ("s", "START"),
                ("stamp", "STAMP"),
                ("l", "LOOP", {"items": [1, 2]}),
                ("inner", "STAMP"),
                ("hang", "HANG"),
                ("after", "STAMP"),
                ("e", "END"),
            ],
            [
                ("s", "stamp"),
                ("stamp", "l"),
                ("l", "inner", "LOOP"),
                ("inner", "l"),
                ("l", "hang"),
                ("hang", "after"),
                ("after", "e"),
            ],
        ),
    )
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(CRASHING_RUN.format(db=str(db_path), wid=stored.workflow.id)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env, cwd=str(ROOT))
    try:
        assert proc.stdout.readline().strip() == b"hanging"
        service = ExecutionService(db)

        def five_steps_stored() -> bool:
            running = service.list_executions(workflow_id=stored.workflow.id)
            return bool(running) and len(service.get_logs(running[0].id)) >= 5

        wait_until(five_steps_stored, "the five steps before `hang` reaching the database")
        old_id = service.list_executions(workflow_id=stored.workflow.id)[0].id
        assert str(service.get_execution(old_id).status) == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    reopened = Database(db_path)  # crash recovery runs when a database is opened
    try:
        old = ExecutionService(reopened).get_execution(old_id)
        assert str(old.status) == "interrupted"
        assert "stopped" in old.error_message
        old_logs = {log.step_name: log for log in ExecutionService(reopened).get_logs(old_id)}
        assert set(old_logs) == {"s", "stamp", "inner[0]", "inner[1]", "l"}
        calls = []

        async def stamp(ctx):
            calls.append(ctx.step_name)
            return {"stamp": -1.0}

        async def hang(ctx):
            return {"done": True}

        async def main():
            ex = executor(db=reopened)
            ex.register_node_handler("STAMP", stamp)
            ex.register_node_handler("HANG", hang)
            try:
                return await ex.resume(old_id)
            finally:
                await ex.aclose()

        h = asyncio.run(main())
        assert h.status == "completed"
        assert calls == ["after"]  # stamp and inner[*] were reused, not run again
        new = ExecutionService(reopened).get_execution(h.id)
        assert new.resumed_from_id == old_id
        assert new.input_data == {"k": 1}
        new_logs = {log.step_name: log for log in ExecutionService(reopened).get_logs(h.id)}
        assert new_logs["stamp"].output_data == old_logs["stamp"].output_data
        assert new_logs["inner[1]"].output_data == old_logs["inner[1]"].output_data
        assert any("reused" in w for w in new_logs["stamp"].warnings)
        assert new_logs["after"].output_data == {"stamp": -1.0}
    finally:
        reopened.close()


def test_resume_refuses_a_completed_execution(db):
    from flowdesk.engine.errors import ExecutionNotResumableError

    stored = store_graph(db, graph([("s", "START"), ("e", "END")], [("s", "e")]))

    async def main():
        ex = executor(db=db)
        try:
            h = await ex.execute_workflow(stored.workflow.id)
            with pytest.raises(ExecutionNotResumableError):
                await ex.resume(h.id)
            with pytest.raises(ExecutionNotResumableError):
                await ex.resume(424242)
        finally:
            await ex.aclose()

    asyncio.run(main())


def test_pause_flushes_rows_and_marks_the_execution_paused(db):
    stored = store_graph(
        db,
        graph(
            [("s", "START"), ("a", "ECHO"), ("b", "ECHO"), ("e", "END")], [("s", "a"), ("a", "b"), ("b", "e")]
        ),
    )

    async def main():
        ex = executor(db=db)
        try:
            h = await ex.execute_workflow(stored.workflow.id, {}, breakpoints=["b"])
            await ex.flush()
            execution = ExecutionService(db).get_execution(h.id)
            logs = ExecutionService(db).get_logs(h.id)
            await h.resume()
            await h.wait()
            return execution, logs
        finally:
            await ex.aclose()

    execution, logs = asyncio.run(main())
    assert str(execution.status) == "paused" and execution.current_node == "b"
    assert [log.step_name for log in logs] == ["s", "a"]


def test_a_running_execution_shows_its_current_node_and_progress(db):
    stored = store_graph(
        db,
        graph(
            [
                ("s", "START"),
                # a outlasts PROGRESS_INTERVAL (0.25 s), so b's start is written as it happens
                ("a", "DELAY", {"seconds": 0.3}),
                ("b", "DELAY", {"seconds": 3600}),  # still running whenever the test looks
                ("e", "END"),
            ],
            [("s", "a"), ("a", "b"), ("b", "e")],
        ),
    )

    async def main():
        ex = executor(db=db)
        events = EngineEvents(ex)
        try:
            h = await ex.execute_workflow(stored.workflow.id, {}, config={"async": True})
            await events.wait("node_started", "b")
            await ex.flush()
            live = ExecutionService(db).get_execution(h.id)
            h.cancel()
            await eventually(h.wait(), "the end of the cancelled run")
            return live
        finally:
            await ex.aclose()

    live = asyncio.run(main())
    assert str(live.status) == "running"
    assert live.current_node == "b"
    assert 40.0 <= live.progress < 100.0


def _interrupted_execution(db) -> int:
    """A stored START -> DELAY -> END workflow and an execution of it marked interrupted."""
    from flowdesk.engine import records

    stored = store_graph(
        db,
        graph([("s", "START"), ("d", "DELAY", {"seconds": 0}), ("e", "END")], [("s", "d"), ("d", "e")]),
    )
    with db.engine.begin() as conn:
        execution_id, _ = records.create_execution(
            conn,
            stored.workflow.id,
            execution_name="to resume",
            input_data={"k": 1},
            config={},
            status="running",
            resumed_from_id=None,
        )
        records.update_execution(conn, execution_id, {"status": "interrupted"})
    return execution_id


def test_two_concurrent_resumes_of_one_execution_run_it_once(db, db_path):
    old_id = _interrupted_execution(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLOWDESK_DB", None)
    command = [sys.executable, "-m", "flowdesk.cli", "resume", str(old_id), "--db", str(db_path)]
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT)
        )
        for _ in range(2)
    ]
    results = [(p.wait(120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] != 0, results
    service = ExecutionService(db)
    runs = [e for e in service.list_executions() if e.resumed_from_id == old_id]
    assert len(runs) == 1, "both resumes ran"
    refused = next(err for code, _, err in results if code != 0)
    assert f"execution {old_id} was already resumed as execution {runs[0].id}" in refused
    assert "Traceback" not in refused
    old = service.get_execution(old_id)
    assert str(old.status) == "resumed" and old.resumed_as_id == runs[0].id


def test_a_second_resume_later_is_refused_through_the_python_api(db):
    from flowdesk.engine.errors import ExecutionNotResumableError

    old_id = _interrupted_execution(db)

    async def main():
        ex = executor(db=db)
        try:
            first = await ex.resume(old_id)
            with pytest.raises(ExecutionNotResumableError) as refused:
                await ex.resume(old_id)
            return first, str(refused.value)
        finally:
            await ex.aclose()

    first, message = asyncio.run(main())
    assert first.status == "completed"
    assert message == f"execution {old_id} was already resumed as execution {first.id}"
    assert len([e for e in ExecutionService(db).list_executions() if e.resumed_from_id == old_id]) == 1
