"""SUBWORKFLOW in the ephemeral mode (`WorkflowExecutor(persist=False)`, `flowdesk run --no-record`,
an unsaved graph run with persist=False): the child run is ephemeral too, its output comes back,
and no execution or step row is written; a child not waited for is cancelled with its parent."""

from __future__ import annotations

import asyncio
import json

from flowdesk.services.versions import VersionService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import executor
from tests.support.run_rows import row_counts
from tests.support.server_process import run_cli
from tests.support.subworkflows import caller, child_doubling, slow_child
from tests.support.waiting import eventually, until


def run_ephemeral(db_path, workflow_id: int, input_data=None):
    async def main():
        ex = executor(db=db_path, persist=False)
        try:
            return await ex.execute_workflow(workflow_id, input_data)
        finally:
            await ex.aclose()

    return asyncio.run(main())


def test_a_waited_for_child_runs_ephemerally_and_its_output_comes_back(db, db_path):
    child = child_doubling(db)
    parent = caller(db, "parent", {"workflow": "double", "input": {"n": "{{input.n}}", "who": "eve"}})
    VersionService(db).save_version(child.workflow.id, "v1")
    old = caller(db, "old", {"workflow": "double", "version": 1, "input": {"n": 5}})
    handle = run_ephemeral(db_path, parent.workflow.id, {"n": 4})
    assert (handle.id, handle.status, handle.output_data) == (None, "completed", {"doubled": 8, "who": "eve"})
    (call,) = [s for s in handle.steps if s["step_name"] == "call"]
    assert call["metrics"] == {"child_execution_id": None}
    versioned = run_ephemeral(db_path, old.workflow.id)  # a saved version: ephemeral as well
    assert (versioned.status, versioned.output_data) == ("completed", {"doubled": 10, "who": None})
    assert row_counts(db) == (0, 0)


def test_the_child_of_an_unrecorded_run_is_not_recorded_by_a_recording_executor(db):
    child_doubling(db)
    parent = caller(db, "parent", {"workflow": "double", "input": {"n": 1}})
    graph_of_parent = WorkflowService(db).load_graph(parent.workflow.id)

    async def main():
        ex = executor(db=db)  # persist=True: it could record, but this run is not recorded
        try:
            return await ex.execute_graph(graph_of_parent, persist=False)
        finally:
            await ex.aclose()

    handle = asyncio.run(main())
    assert (handle.status, handle.output_data) == ("completed", {"doubled": 2, "who": None})
    assert row_counts(db) == (0, 0)


def test_flowdesk_run_no_record_runs_the_child_and_writes_no_row(tmp_path):
    from flowdesk.store import Database

    db_path = tmp_path / "cli.db"
    with Database(db_path) as opened:
        child_doubling(opened)
    document = {
        "flowdesk": 1,
        "workflow": {"name": "calls double", "config": {}},
        "nodes": [
            {"name": "start", "node_type": "START", "config": {}},
            {
                "name": "call",
                "node_type": "SUBWORKFLOW",
                "config": {"workflow": "double", "input": {"n": 21}},
            },
            {"name": "end", "node_type": "END", "config": {"output": "{{call.doubled}}"}},
        ],
        "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
    }
    path = tmp_path / "calls.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    done = run_cli("run", str(path), "--no-record", "--json", db=str(db_path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["execution_id"], report["status"], report["output_data"]) == (None, "completed", 42)
    assert row_counts(db_path) == (0, 0)


def test_an_ephemeral_child_not_waited_for_runs_on_and_is_cancelled_with_its_parent(db, db_path):
    slow_child(db)
    parent = caller(
        db, "parent", {"workflow": "slow", "wait": False}, after=("hold", "DELAY", {"seconds": 600})
    )

    async def main():
        ex = executor(db=db_path, persist=False)
        try:
            handle = await ex.execute_workflow(parent.workflow.id, config={"async": True})
            await until(lambda: handle.current_step == "hold", "the parent went on past the call")
            child = next(h for h in ex.active_executions if h is not handle)
            await until(lambda: child.current_step == "wait", "the child reached its DELAY")
            handle.cancel()
            await eventually(child.wait(), "the child ended with its parent")
            return handle, child
        finally:
            await ex.aclose()

    handle, child = asyncio.run(main())
    assert (handle.status, child.status) == ("cancelled", "cancelled")
    assert child.error_message == "its parent run was cancelled"
    (call,) = [s for s in handle.steps if s["step_name"] == "call"]
    assert call["output_data"] == {"execution_id": None, "workflow": "slow", "status": "started"}
    assert row_counts(db) == (0, 0)


def test_an_ephemeral_child_not_waited_for_outlives_a_parent_that_completes(db, db_path):
    slow_child(db)
    parent = caller(db, "parent", {"workflow": "slow", "wait": False})

    async def main():
        ex = executor(db=db_path, persist=False)
        try:
            handle = await ex.execute_workflow(parent.workflow.id, config={"async": True})
            await eventually(handle.wait(), "the parent ended")
            (child,) = [h for h in ex.active_executions if h is not handle]
            await until(lambda: child.current_step == "wait", "the child reached its DELAY")
            await asyncio.sleep(0)  # the parent's end has been seen by everything following it
            return handle, child.done, child.status
        finally:
            await ex.aclose()

    handle, child_done, child_status = asyncio.run(main())
    assert handle.status == "completed"
    assert (child_done, child_status) == (False, "running")
