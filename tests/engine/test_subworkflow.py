"""SUBWORKFLOW: a child run of its own, linked to the parent run and step, on a real database."""

from __future__ import annotations

import asyncio

from flowdesk.services.executions import ExecutionService
from flowdesk.services.versions import VersionService
from flowdesk.services.workflows import WorkflowService
from tests.support.child_runs import children_of, run_stored
from tests.support.graph_builder import executor, graph
from tests.support.waiting import eventually, until


def store(db, g):
    return WorkflowService(db).create_from_graph(g)


def child_doubling(db, name="double"):
    """START -> END whose output is {"doubled": input.n * 2, "who": input.who}."""
    return store(
        db,
        graph(
            [
                ("start", "START"),
                ("end", "END", {"output": {"doubled": "{{input.n * 2}}", "who": "{{input.who}}"}}),
            ],
            [("start", "end")],
            name=name,
        ),
    )


def caller(db, name, call_config, *, config=None, after=None):
    """START -> call (SUBWORKFLOW) [-> after] -> END (output: the call's output)."""
    nodes = [("start", "START"), ("call", "SUBWORKFLOW", call_config)]
    connections = [("start", "call")]
    last = "call"
    if after is not None:
        nodes.append(after)
        connections.append(("call", after[0]))
        last = after[0]
    nodes.append(("end", "END", {"output": "{{call}}"}))
    connections.append((last, "end"))
    return store(db, graph(nodes, connections, name=name, config=config))


def test_the_child_runs_as_an_execution_of_its_own_linked_to_the_parent_step(db):
    child_doubling(db)
    parent = caller(db, "parent", {"workflow": "double", "input": {"n": "{{input.n}}", "who": "ann"}})
    handle = run_stored(db, parent, {"n": 21})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"doubled": 42, "who": "ann"}
    (child,) = children_of(db, handle.id)
    assert (child.parent_step, child.status, child.input_data) == (
        "call",
        "completed",
        {"n": 21, "who": "ann"},
    )
    assert child.output_data == {"doubled": 42, "who": "ann"}
    child_steps = [log.node_name for log in ExecutionService(db).get_logs(child.id)]
    parent_steps = [log.node_name for log in ExecutionService(db).get_logs(handle.id)]
    assert (child_steps, parent_steps) == (["start", "end"], ["start", "call", "end"])
    (call,) = [log for log in ExecutionService(db).get_logs(handle.id) if log.node_name == "call"]
    assert call.metrics == {"child_execution_id": child.id}


def test_the_child_can_be_named_by_id(db):
    child = child_doubling(db)
    parent = caller(db, "by id", {"workflow": child.workflow.id, "input": {"n": 1}})
    handle = run_stored(db, parent)
    assert (handle.status, handle.output_data) == ("completed", {"doubled": 2, "who": None})


def test_a_failed_child_fails_the_parent_step_with_its_error_and_error_type(db):
    store(
        db,
        graph(
            [("start", "START"), ("check", "ASSERT", {"assertions": ["input.n > 5"]}), ("end", "END")],
            [("start", "check"), ("check", "end")],
            name="checker",
        ),
    )
    parent = caller(db, "parent", {"workflow": "checker", "input": {"n": 1}})
    handle = run_stored(db, parent)
    (child,) = children_of(db, handle.id)
    assert (handle.status, child.status) == ("failed", "failed")
    (call,) = [log for log in ExecutionService(db).get_logs(handle.id) if log.node_name == "call"]
    assert call.error_type == "assertion"
    assert call.error_message.startswith(f"the sub-workflow 'checker' (run {child.id}) failed: check:")
    assert "input.n > 5" in call.error_message


def test_a_workflow_calling_itself_stops_at_the_depth_limit_with_the_chain_named(db):
    wf = caller(db, "again", {"workflow": "again"}, config={"max_subworkflow_depth": 3})
    handle = run_stored(db, wf)
    assert handle.status == "failed"
    assert "would run 4 levels deep, past the limit of 3" in handle.error_message
    assert "again → again → again → again → again" in handle.error_message
    assert len(ExecutionService(db).list_executions()) == 4  # the top run and three children


def test_the_default_depth_limit_is_ten(db):
    wf = caller(db, "loop", {"workflow": "loop"})
    handle = run_stored(db, wf)
    assert "would run 11 levels deep, past the limit of 10" in handle.error_message
    runs = ExecutionService(db).list_executions()
    assert len(runs) == 11 and all(r.status == "failed" for r in runs)


def test_a_missing_workflow_fails_the_step_in_one_sentence(db):
    parent = caller(db, "parent", {"workflow": "nowhere"})
    handle = run_stored(db, parent)
    assert handle.status == "failed"
    assert handle.error_message == (
        "call: the sub-workflow 'nowhere' could not start: No workflow has the id or name 'nowhere'."
    )


def test_the_child_timeout_fails_the_step_as_a_timeout(db):
    store(db, graph([("start", "START"), ("wait", "DELAY", {"seconds": 60}), ("end", "END")],
                    [("start", "wait"), ("wait", "end")], name="slow"))  # fmt: skip
    parent = caller(db, "parent", {"workflow": "slow", "timeout": 0.05})
    handle = run_stored(db, parent)
    (child,) = children_of(db, handle.id)
    assert (handle.status, child.status) == ("failed", "timed_out")
    (call,) = [log for log in ExecutionService(db).get_logs(handle.id) if log.node_name == "call"]
    assert call.error_type == "timeout"


def test_a_saved_version_runs_instead_of_the_current_graph(db):
    child = child_doubling(db)
    VersionService(db).save_version(child.workflow.id, "v1")
    nodes = WorkflowService(db).list_nodes(child.workflow.id)
    end = next(n for n in nodes if n.name == "end")
    WorkflowService(db).update_node(end.id, config={"output": "changed"})
    current = caller(db, "current", {"workflow": "double", "input": {"n": 2}})
    old = caller(db, "old", {"workflow": "double", "version": 1, "input": {"n": 2}})
    assert run_stored(db, current).output_data == "changed"
    assert run_stored(db, old).output_data == {"doubled": 4, "who": None}
    missing = caller(db, "missing", {"workflow": "double", "version": 7})
    assert run_stored(db, missing).error_message == "call: workflow 'double' has no saved version 7"


def slow_child(db):
    return store(db, graph([("start", "START"), ("wait", "DELAY", {"seconds": 600}), ("end", "END")],
                           [("start", "wait"), ("wait", "end")], name="slow"))  # fmt: skip


def test_cancelling_the_parent_cancels_the_child_it_waits_for(db):
    slow_child(db)
    parent = caller(db, "parent", {"workflow": "slow"})

    async def main():
        ex = executor(db=db)
        try:
            handle = await ex.execute_workflow(parent.workflow.id, config={"async": True})
            await until(lambda: len(ex.active_executions) == 2, "the child run started")
            child = next(h for h in ex.active_executions if h is not handle)
            await until(lambda: child.current_step == "wait", "the child reached its DELAY")
            handle.cancel()
            await eventually(handle.wait(), "the parent ended")
            await eventually(child.wait(), "the child ended")
            await ex.flush()
            return handle, child
        finally:
            await ex.aclose()

    handle, child = asyncio.run(main())
    assert (handle.status, child.status) == ("cancelled", "cancelled")
    assert child.error_message == f"its parent run {handle.id} was cancelled"
    assert ExecutionService(db).get_execution(child.id).status == "cancelled"


def test_a_child_not_waited_for_runs_on_and_is_cancelled_with_its_parent(db):
    slow_child(db)
    parent = caller(
        db, "parent", {"workflow": "slow", "wait": False}, after=("hold", "DELAY", {"seconds": 600})
    )

    async def main():
        ex = executor(db=db)
        try:
            handle = await ex.execute_workflow(parent.workflow.id, config={"async": True})
            await until(lambda: handle.current_step == "hold", "the parent went on past the call")
            child = next(h for h in ex.active_executions if h is not handle)
            assert not child.done  # started, not waited for
            handle.cancel()
            await eventually(child.wait(), "the child ended with its parent")
            await ex.flush()
            return handle, child
        finally:
            await ex.aclose()

    handle, child = asyncio.run(main())
    assert child.status == "cancelled"
    assert child.error_message == f"its parent run {handle.id} was cancelled"
    (call,) = [log for log in ExecutionService(db).get_logs(handle.id) if log.node_name == "call"]
    assert call.output_data == {"execution_id": child.id, "workflow": "slow", "status": "started"}


def test_validation_names_a_missing_workflow_and_a_cycle(db):
    from flowdesk.services.subworkflows import subworkflow_problems

    a = caller(db, "A", {"workflow": "B"})
    caller(db, "B", {"workflow": "A"})
    lonely = caller(db, "lonely", {"workflow": "gone"})
    loaded = WorkflowService(db).load_graph
    assert [p.message for p in subworkflow_problems(db, loaded(a.workflow.id))] == [
        "the sub-workflow calls go round in a cycle: A → B → A"
    ]
    assert [p.message for p in subworkflow_problems(db, loaded(lonely.workflow.id))] == [
        "no workflow has the id or name 'gone'"
    ]


def test_flowdesk_validate_reports_a_cycle_through_the_database(db_path, tmp_path):
    import json
    import subprocess
    import sys

    from flowdesk.interchange.workflow_file import write_workflow_file
    from flowdesk.store import Database

    db = Database(db_path)
    a = caller(db, "A", {"workflow": "B"})
    caller(db, "B", {"workflow": "A"})
    document = write_workflow_file(WorkflowService(db).load_graph(a.workflow.id))
    db.close()
    path = tmp_path / "a.json"
    path.write_text(document, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "validate", "--json", str(path), "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    (problem,) = json.loads(done.stdout)["problems"]
    assert problem["message"] == "the sub-workflow calls go round in a cycle: A → B → A"
    assert problem["path"] == "nodes[1].config.workflow"


def test_the_parents_timeout_cancels_the_child(db):
    slow_child(db)
    parent = caller(db, "parent", {"workflow": "slow"}, config={"timeout": 0.2})
    handle = run_stored(db, parent)
    (child,) = children_of(db, handle.id)
    assert (handle.status, child.status) == ("timed_out", "cancelled")
    assert child.error_message == f"its parent run {handle.id} was cancelled"
