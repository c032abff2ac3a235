"""The ephemeral mode: `WorkflowExecutor(persist=False)` and `flowdesk run --no-record` write no
execution row and no step rows, and give the same results and events as a recorded run. And the
connections each finished step reports taken and dead (NodeFinished.taken / .dead)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine import events as ev
from flowdesk.services.executions import ExecutionService
from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from tests.support.cli_running import cli_in_process, flowdesk_with_db
from tests.support.examples import EXAMPLES
from tests.support.graph_builder import executor, graph


def _row_counts(db) -> tuple[int, int]:
    """(execution rows, step rows) in the database (a Database, or a SQLite file's path)."""
    if isinstance(db, Path):
        with Database(db) as opened:
            return _row_counts(opened)
    service = ExecutionService(db)
    executions = service.list_executions()
    return len(executions), sum(len(service.get_logs(e.id)) for e in executions)


BRANCHY = graph(
    [
        ("start", "START"),
        ("check", "CONDITION", {"condition": "{{input.n}} > 1"}),
        ("big", "ECHO", {"value": "big {{input.n}}"}),
        ("small", "ECHO", {"value": "small"}),
        ("oops", "FAIL", {"message": "no {{secrets.token}} here"}),
        ("handled", "ECHO", {"value": "handled"}),
        ("end", "END", {"output": {"big": "{{big.value}}"}}),
    ],
    [
        ("start", "check"),
        ("check", "big", "CONDITIONAL_TRUE"),
        ("check", "small", "CONDITIONAL_FALSE"),
        ("big", "oops"),
        ("oops", "handled", "ERROR"),
        ("oops", "end"),
        ("handled", "end"),
        ("small", "end"),
    ],
    name="branchy",
)


def _stored(db):
    for node_type in ("ECHO", "FAIL"):
        NodeTypeService(db).register_node_type(node_type, description="a test node type")
    return WorkflowService(db).create_from_graph(BRANCHY)


async def _run(db, *, persist: bool):
    ex = executor(db=db, persist=persist, secrets={"token": "s3cr3t-value"})
    seen: list[ev.EngineEvent] = []
    ex.subscribe(seen.append)
    try:
        wid = (await asyncio.to_thread(WorkflowService(db).find_workflow, "branchy")).id
        handle = await ex.execute_workflow(wid, {"n": 5})
        return handle, await handle.logs(), seen
    finally:
        await ex.aclose()


def _comparable(rows):
    return [(r.step_name, str(r.status), r.output_data, r.error_message, r.error_type) for r in rows]


def _finished(events):
    return [
        (e.node_name, e.status, e.output, e.taken, e.dead) for e in events if isinstance(e, ev.NodeFinished)
    ]


def test_persist_false_writes_no_rows_and_gives_the_same_results_and_events(db):
    _stored(db)
    recorded, recorded_rows, recorded_events = asyncio.run(_run(db, persist=True))
    assert _row_counts(db) == (1, 7)

    unrecorded, rows, events = asyncio.run(_run(db, persist=False))
    assert _row_counts(db) == (1, 7)  # nothing more: no execution row, no step rows
    assert unrecorded.id is None and unrecorded.steps  # the handle keeps the rows
    assert unrecorded.status == recorded.status == "completed"
    assert unrecorded.output_data == recorded.output_data == {"big": "big 5"}
    assert _comparable(rows) == _comparable(recorded_rows)
    assert "s3cr3t-value" not in json.dumps(_comparable(rows))  # masked as in a recorded run
    assert _finished(events) == _finished(recorded_events)
    assert [e.kind for e in events] == [e.kind for e in recorded_events]


def test_node_finished_says_which_connections_were_taken_and_which_died(db):
    _stored(db)
    _handle, _rows, events = asyncio.run(_run(db, persist=False))
    connections = {name: (taken, dead) for name, _status, _out, taken, dead in _finished(events)}
    assert connections["start"] == (("check",), ())
    assert connections["check"] == (("big",), ("small",))
    assert connections["small"] == ((), ("end",))  # skipped: every connection it has is dead
    assert connections["oops"] == (("handled",), ("end",))  # a handled failure takes its ERROR path
    assert connections["handled"] == (("end",), ())


def test_an_unhandled_failure_reports_its_connections_dead():
    g = graph(
        [("start", "START"), ("bad", "FAIL"), ("after", "ECHO"), ("end", "END")],
        [("start", "bad"), ("bad", "after"), ("after", "end")],
    )

    async def main():
        ex = executor(persist=False)
        seen: list[ev.EngineEvent] = []
        ex.subscribe(seen.append)
        try:
            handle = await ex.execute_graph(g)
        finally:
            await ex.aclose()
        return handle, seen

    handle, seen = asyncio.run(main())
    assert handle.status == "failed"
    bad = next(e for e in seen if isinstance(e, ev.NodeFinished) and e.node_name == "bad")
    assert (bad.taken, bad.dead) == ((), ("after",))


def test_what_needs_an_execution_row_is_refused_with_one_sentence(db):
    stored = _stored(db)

    async def main():
        ex = executor(db=db, persist=False)
        try:
            refused = []
            for attempt in (
                lambda: ex.execute_graph(stored, persist=True),
                lambda: ex.resume(1),
                lambda: ex.run_queued(1),
                lambda: ex.execute_workflow(stored.workflow.id, {"n": 1}, config={"queue": "default"}),
            ):
                with pytest.raises(InvalidInputError) as caught:
                    await attempt()
                refused.append(str(caught.value))
            return refused
        finally:
            await ex.aclose()

    for sentence in asyncio.run(main()):
        assert sentence.endswith("this executor records none (persist=False).")
        assert "\n" not in sentence


def test_flowdesk_run_no_record_reports_the_run_and_stores_no_execution(tmp_path, http_server):
    db = tmp_path / "cli.db"
    data = json.dumps({"base_url": f"{http_server.url}/anything", "user_id": 7, "score": 75})
    result = flowdesk_with_db(
        "run", str(EXAMPLES / "conditional.json"), "--input", data, "--json", "--no-record", db=db
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["execution_id"] is None and report["workflow_id"] == 1
    assert report["status"] == "completed" and report["output_data"] == {"passed": True}
    assert report["started_at"] and report["completed_at"]
    assert [(s["step_name"], s["status"]) for s in report["steps"]] == [
        ("开始", "success"),
        ("成绩判断", "success"),
        ("fail", "skipped"),
        ("pass", "success"),
        ("结束", "success"),
    ]
    assert report["steps"][3]["output_data"]["response"]["data"]["json"] == {"result": "pass", "score": 75}
    assert _row_counts(db) == (0, 0)


def test_flowdesk_run_no_record_in_text_and_with_queue(tmp_path, capsys):
    db = tmp_path / "cli.db"
    path = tmp_path / "small.json"
    path.write_text(
        json.dumps(
            {
                "flowdesk": 1,
                "workflow": {"name": "small", "config": {}},
                "nodes": [
                    {"name": "start", "node_type": "START", "config": {}},
                    {"name": "end", "node_type": "END", "config": {"output": {"ok": True}}},
                ],
                "connections": [{"from": "start", "to": "end"}],
            }
        ),
        encoding="utf-8",
    )
    code, out, err = cli_in_process("run", str(path), "--no-record", db=db, capsys=capsys)
    assert code == 0, err
    assert "An unrecorded run of workflow 1: completed." in out
    assert _row_counts(db) == (0, 0)
    code, out, err = cli_in_process("run", str(path), "--no-record", "--queue", db=db, capsys=capsys)
    assert code == 2
    assert "--no-record runs locally" in err and "Traceback" not in err
    assert _row_counts(db) == (0, 0)


def test_dead_connections_cross_a_process_boundary_as_json():
    """Workers publish events as JSON (event_from_json reads them back): `dead` comes back a tuple."""
    event = ev.event_from_json(
        {
            "type": "node_finished",
            "execution_id": 1,
            "time": 1.0,
            "node_name": "a",
            "taken": ["b"],
            "dead": ["c"],
        }
    )
    assert isinstance(event, ev.NodeFinished)
    assert (event.taken, event.dead) == (("b",), ("c",))
