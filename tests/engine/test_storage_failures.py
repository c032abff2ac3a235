"""The step writer meeting a full disk or a row too big for the database: the run stops cleanly as
`failed` with one sentence, written steps stay, and resume never repeats a call that succeeded."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest

from flowdesk.engine.errors import ExecutionNotResumableError
from flowdesk.services.executions import ExecutionService
from flowdesk.store import Database
from tests.support.cli_running import flowdesk_with_db
from tests.support.graph_builder import executor, graph
from tests.support.mounts import small_disk as mount_small_disk
from tests.support.stored_graph import store_graph

ROOT = Path(__file__).resolve().parents[2]


def _loop_of_big_outputs(items: int) -> object:
    return graph(
        [
            ("start", "START"),
            ("loop", "LOOP", {"items": "{{input.items}}"}),
            ("big", "BIG"),
            ("end", "END"),
        ],
        [("start", "loop"), ("loop", "big", "LOOP"), ("big", "loop"), ("loop", "end")],
        name="big outputs",
    )


def _executor_counting(db, calls: list[int], size: int, warning: int = 0):
    ex = executor(db=db)

    async def big(ctx):
        item = ctx.evaluate("loop.item")
        calls.append(item)
        if warning:
            ctx.warn("w" * warning)
        # Incompressible (PostgreSQL compresses large values): random base64 text.
        return {"item": item, "body": base64.b64encode(os.urandom(size * 3 // 4)).decode()}

    ex.register_node_handler("BIG", big)
    return ex


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs mounted for this test, unmounted afterwards (tests/support/mounts.py: root only;
    skipped where mounting is refused, a failure when FLOWDESK_REQUIRE_MOUNT=1, as in CI)."""
    with mount_small_disk(tmp_path / "small-disk", size="3m") as disk:
        yield disk.path


def _run(db, calls, size, items, resume_of=None, warning=0):
    async def main():
        ex = _executor_counting(db, calls, size, warning)
        try:
            if resume_of is not None:
                return await ex.resume(resume_of)
            return await ex.execute_workflow(stored_id[0], {"items": items})
        finally:
            await ex.aclose()

    stored_id = _run.stored
    return asyncio.run(main())


def _every_call_on_record_and_resume_repeats_none(db, handle, logs, calls: list[int]) -> None:
    # Every call that succeeded is on record: in full, or as a row saying its output was not stored.
    recorded = {log.step_name for log in logs if log.node_name == "big" and log.status == "success"}
    assert len(recorded) == len(calls)
    before = list(calls)
    try:
        again = _run(db, calls, 1_000_000, None, resume_of=handle.id)
    except ExecutionNotResumableError as exc:
        assert "not stored" in str(exc)
    else:
        assert again.status in ("completed", "failed")
    repeated = [c for c in calls[len(before) :] if c in before]
    assert repeated == [], f"resume repeated calls {repeated}"


@pytest.mark.sqlite_only
def test_a_full_disk_fails_the_run_cleanly_keeps_written_steps_and_resume_repeats_no_call(small_disk, caplog):
    db = Database(small_disk / "runs.db")
    try:
        stored = store_graph(db, _loop_of_big_outputs(6))
        _run.stored = [stored.workflow.id]
        calls: list[int] = []
        handle = _run(db, calls, 1_000_000, [1, 2, 3, 4, 5, 6])
        assert handle.status == "failed", handle.error_message
        assert "full" in handle.error_message and "\n" not in handle.error_message
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        service = ExecutionService(db)
        execution = service.get_execution(handle.id)
        assert execution.status == "failed"
        assert execution.error_message == handle.error_message
        logs = service.get_logs(handle.id)
        stored_bodies = [
            log
            for log in logs
            if log.node_name == "big" and isinstance(log.output_data, dict) and "body" in log.output_data
        ]
        assert stored_bodies, "no step row was kept"
        _every_call_on_record_and_resume_repeats_none(db, handle, logs, calls)
    finally:
        db.close()


def test_a_row_too_big_for_sqlite_is_stored_truncated_with_a_marker(tmp_path):
    db = Database(tmp_path / "runs.db")
    try:
        stored = store_graph(db, _loop_of_big_outputs(2))
        _run.stored = [stored.workflow.id]
        calls: list[int] = []

        from sqlalchemy import event

        @event.listens_for(db.engine, "connect")
        def small_limit(dbapi_connection, _record):  # SQLITE_LIMIT_LENGTH: 200 KB per value
            import sqlite3

            dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 200_000)

        db.engine.dispose()
        handle = _run(db, calls, 300_000, [1, 2], warning=250_000)
        assert handle.status == "completed", handle.error_message
        logs = [log for log in ExecutionService(db).get_logs(handle.id) if log.node_name == "big"]
        assert len(logs) == 2
        for log in logs:
            assert log.status == "success"
            assert log.output_data["truncated"] is True
            assert log.output_data["original_characters"] > 300_000
            assert log.output_data["text"].startswith('{"item":')
            assert len(log.warnings) == 1 and log.warnings[0].startswith("the warnings were too big to store")
    finally:
        db.close()


LOOP_OF_LARGE_RESPONSES = {
    "flowdesk": 1,
    "workflow": {"name": "six large answers", "config": {}},
    "nodes": [
        {"name": "start", "node_type": "START", "config": {}},
        {"name": "each", "node_type": "LOOP", "config": {"items": "{{input.items}}"}},
        {
            "name": "fetch",
            "node_type": "API_CALL",
            "config": {
                "method": "GET",
                "url": "{{input.base}}/large/1000000?n={{loop.item}}",
                "retry_count": 0,
            },
        },
        {"name": "end", "node_type": "END", "config": {"output": {"done": True}}},
    ],
    "connections": [
        {"from": "start", "to": "each", "connection_type": "SEQUENCE"},
        {"from": "each", "to": "fetch", "connection_type": "LOOP"},
        {"from": "fetch", "to": "each", "connection_type": "SEQUENCE"},
        {"from": "each", "to": "end", "connection_type": "SEQUENCE"},
    ],
}


@pytest.mark.sqlite_only
def test_flowdesk_run_on_a_full_disk_exits_1_with_one_sentence_and_resume_sends_nothing_again(
    small_disk, tmp_path, http_server
):
    import json

    path = tmp_path / "large.json"
    path.write_text(json.dumps(LOOP_OF_LARGE_RESPONSES), encoding="utf-8")
    db = small_disk / "cli.db"

    http_server.reset()
    data = json.dumps({"base": http_server.url, "items": [1, 2, 3, 4, 5, 6]})
    ran = flowdesk_with_db("run", str(path), "--input", data, "--json", db=db)
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr and "Traceback" not in ran.stdout
    report = json.loads(ran.stdout)
    assert report["status"] == "failed"
    assert "is full" in report["error_message"]
    resumed = flowdesk_with_db("resume", str(report["execution_id"]), "--json", db=db)
    assert "Traceback" not in resumed.stderr
    if resumed.returncode != 0:
        assert "not stored" in resumed.stderr
        return
    succeeded = {
        s["step_name"]
        for s in report["steps"]
        if s["step_name"].startswith("fetch") and s["status"] == "success"
    }
    again = json.loads(resumed.stdout)
    for step in again["steps"]:
        if step["step_name"] in succeeded:
            assert any("reused" in w for w in step["warnings"]), f"{step['step_name']} was sent again"


@pytest.mark.postgresql
def test_a_full_disk_on_postgresql_fails_the_run_cleanly_and_resume_repeats_no_call(
    postgres_server, postgres_database
):
    """The step rows' table (and its TOAST) on a tablespace on a 3 MB tmpfs: inserting 1 MB rows
    runs out of space there (SQLSTATE 53100) while the rest of the cluster has room."""
    import pwd
    import uuid

    owner = f"uid={pwd.getpwnam('postgres').pw_uid},gid={pwd.getpwnam('postgres').pw_gid},mode=700"
    where = postgres_server.root / f"small-{uuid.uuid4().hex[:8]}"
    with mount_small_disk(where, size="3m", options=owner) as disk:
        _full_tablespace_run(postgres_server, postgres_database, disk.path)


def _full_tablespace_run(postgres_server, postgres_database, small_disk: Path) -> None:
    import uuid

    url = postgres_database()
    name = url.rsplit("/", 1)[1]
    space = f"small_{uuid.uuid4().hex[:8]}"
    postgres_server.run_outside_transaction(f"CREATE TABLESPACE {space} LOCATION '{small_disk}'")
    try:
        postgres_server.query(name, f"ALTER TABLE workflow_execution_logs SET TABLESPACE {space}")
        db = Database(url)
        try:
            stored = store_graph(db, _loop_of_big_outputs(6))
            _run.stored = [stored.workflow.id]
            calls: list[int] = []
            handle = _run(db, calls, 1_000_000, [1, 2, 3, 4, 5, 6])
            assert handle.status == "failed", handle.error_message
            assert "is full" in handle.error_message
            service = ExecutionService(db)
            assert service.get_execution(handle.id).status == "failed"
            logs = service.get_logs(handle.id)
            # (PostgreSQL extends a table by several pages at a time: on 3 MB even the first 1 MB row
            # may not fit, so here every call may be on record only as "not stored".)
            _every_call_on_record_and_resume_repeats_none(db, handle, logs, calls)
        finally:
            db.close()
    finally:
        postgres_server.drop_database(name)
        postgres_server.run_outside_transaction(f"DROP TABLESPACE {space}")


@pytest.mark.sqlite_only
@pytest.mark.timeout(300)
def test_a_full_disk_stops_a_run_that_is_still_going(small_disk):
    """After the loop the run waits on a node that never finishes by itself: only the writer's failure
    can end it, as `failed` with the sentence (the waiting step is logged cancelled)."""
    db = Database(small_disk / "runs.db")
    try:
        g = graph(
            [
                ("start", "START"),
                ("loop", "LOOP", {"items": "{{input.items}}"}),
                ("big", "BIG"),
                ("wait", "WAIT_FOREVER"),
                ("end", "END"),
            ],
            [("start", "loop"), ("loop", "big", "LOOP"), ("big", "loop"), ("loop", "wait"), ("wait", "end")],
            name="still going",
        )
        stored = store_graph(db, g)
        calls: list[int] = []

        async def wait_forever(ctx):
            await asyncio.Event().wait()
            return {}

        async def main():
            ex = _executor_counting(db, calls, 1_000_000)
            ex.register_node_handler("WAIT_FOREVER", wait_forever)
            try:
                return await ex.execute_workflow(stored.workflow.id, {"items": [1, 2, 3, 4, 5, 6]})
            finally:
                await ex.aclose()

        handle = asyncio.run(main())
        assert handle.status == "failed" and handle.error_type == "storage"
        assert "is full" in handle.error_message
        execution = ExecutionService(db).get_execution(handle.id)
        assert execution.status == "failed" and execution.error_message == handle.error_message
    finally:
        db.close()
