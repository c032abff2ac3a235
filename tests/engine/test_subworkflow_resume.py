"""Resuming a run whose SUBWORKFLOW step had a child: the child's output is reused when the child
completed, the child itself is resumed when it stopped, and no call that succeeded is sent again.
`flowdesk run` is killed (SIGKILL) mid-run in a subprocess, then `flowdesk resume` finishes the run,
against the local HTTP server, which counts the requests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess

from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import executor, graph
from tests.support.server_process import flowdesk_command, run_cli, subprocess_env
from tests.support.waiting import wait_until


def call(name: str, url: str, **config: object) -> tuple:
    return (name, "API_CALL", {"method": "GET", "url": "{{input.base}}" + url, "retry_count": 0, **config})


def store_child(db, name: str, *middle: tuple) -> None:
    """START -> the `middle` calls in a row -> END (output: the last call's answer)."""
    nodes = [
        ("start", "START"),
        *middle,
        ("end", "END", {"output": f"{{{{{middle[-1][0]}.response.data}}}}"}),
    ]
    names = [n[0] for n in nodes]
    WorkflowService(db).create_from_graph(graph(nodes, list(zip(names, names[1:], strict=False)), name=name))


def store_parent(db, child: str, *after: tuple, name: str = "caller") -> int:
    """START -> call (SUBWORKFLOW `child`, given base and key) -> the `after` nodes -> END."""
    nodes = [
        ("start", "START"),
        (
            "call",
            "SUBWORKFLOW",
            {"workflow": child, "input": {"base": "{{input.base}}", "key": "{{input.key}}"}},
        ),
        *after,
        ("end", "END", {"output": {"child": "{{call}}"}}),
    ]
    names = [n[0] for n in nodes]
    stored = WorkflowService(db).create_from_graph(
        graph(nodes, list(zip(names, names[1:], strict=False)), name=name)
    )
    assert stored.workflow.id is not None
    return stored.workflow.id


def killed_mid_run(db, db_path, workflow_id: int, data: dict, ready, what: str) -> int:
    """Start `flowdesk run WORKFLOW`, wait until `ready()`, kill it with SIGKILL; the top run's id."""
    proc = subprocess.Popen(
        flowdesk_command("run", str(workflow_id), "--input", json.dumps(data), "--db", str(db_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    try:
        wait_until(lambda: proc.poll() is not None or ready(), what)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()
    (top,) = [e for e in ExecutionService(db).list_executions(workflow_id=workflow_id)]
    assert top.id is not None
    return top.id


def killed_then_resumed(db, db_path, http_server, key: str, parent: int, stored: tuple[str, str]):
    """`flowdesk run PARENT` killed once the one run of workflow `stored[0]` has stored its step
    `stored[1]` and the call `KEY-held` hangs, then `flowdesk resume`: (the killed top run's id, the
    resume's report, which says it completed)."""
    old_top = killed_mid_run(
        db, db_path, parent, {"base": http_server.url, "key": key},
        held_after(db, http_server, f"{key}-held", *stored), f"step {stored[1]} stored and {key}-held in flight",
    )  # fmt: skip
    done = run_cli("resume", str(old_top), "--json", db=str(db_path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "completed", report["error_message"]
    return old_top, report


def runs_of(db, name: str) -> list:
    workflow = WorkflowService(db).find_workflow(name)
    return sorted(ExecutionService(db).list_executions(workflow_id=workflow.id), key=lambda e: e.id)


def held_after(db, http_server, held: str, workflow: str, step: str):
    """Whether the one run of `workflow` has stored `step` as succeeded while the call counted as
    `held` hangs on the test server (the moment to kill the process)."""

    def ready() -> bool:
        runs = runs_of(db, workflow)
        if http_server.count(held) != 1 or len(runs) != 1:
            return False
        return any(
            log.step_name == step and str(log.status) == "success"
            for log in ExecutionService(db).get_logs(runs[0].id)
        )

    return ready


def failed_then_resumed(db, workflow_id: int, data: dict, between=lambda: None) -> tuple:
    """Run the workflow in this process until it fails, call `between()`, resume it: both handles."""

    async def main() -> tuple:
        ex = executor(db=db)
        try:
            failed = await ex.execute_workflow(workflow_id, data)
            assert failed.status == "failed", failed.status
            between()
            resumed = await ex.resume(failed.id)
            await ex.flush()
            return failed, resumed
        finally:
            await ex.aclose()

    return asyncio.run(main())


def step_row(db, execution_id: int, step_name: str):
    (row,) = [log for log in ExecutionService(db).get_logs(execution_id) if log.step_name == step_name]
    return row


def test_a_child_killed_mid_run_is_resumed_with_its_parent_and_sends_no_succeeded_call_again(
    db, db_path, http_server, tmp_path
):
    key = f"child-killed-{os.getpid()}-{tmp_path.name}"
    store_child(
        db,
        "fetcher",
        call("first", "/hit/{{input.key}}-first"),
        call("held", "/hold/{{input.key}}-held?times=1&seconds=600"),
    )
    parent = store_parent(db, "fetcher", call("after", "/hit/{{input.key}}-after"))

    # killed once the child's first call is stored and its second is in flight
    old_top, report = killed_then_resumed(db, db_path, http_server, key, parent, ("fetcher", "first"))
    child_output = report["output_data"]["child"]
    assert (child_output["key"], child_output["count"]) == (f"{key}-held", 2)
    # The call that succeeded went out once; the one in flight when the process died, again.
    assert (http_server.count(f"{key}-first"), http_server.count(f"{key}-held")) == (1, 2)
    assert http_server.count(f"{key}-after") == 1
    old_child, new_child = runs_of(db, "fetcher")  # resumed, not started afresh: two rows, no third
    assert (str(old_child.status), old_child.resumed_as_id) == ("resumed", new_child.id)
    assert (new_child.resumed_from_id, str(new_child.status)) == (old_child.id, "completed")
    assert (new_child.parent_execution_id, new_child.parent_step) == (report["execution_id"], "call")
    assert (old_child.parent_execution_id, str(ExecutionService(db).get_execution(old_top).status)) == (
        old_top,
        "resumed",
    )
    step = step_row(db, report["execution_id"], "call")
    assert step.metrics["child_execution_id"] == new_child.id
    assert f"sub-workflow run {old_child.id} resumed as run {new_child.id}" in step.warnings
    first = {log.step_name: log for log in ExecutionService(db).get_logs(new_child.id)}["first"]
    assert any("reused" in w for w in first.warnings)


def test_a_child_that_completed_before_the_kill_is_reused_without_a_new_child_run(
    db, db_path, http_server, tmp_path
):
    key = f"child-done-{os.getpid()}-{tmp_path.name}"
    store_child(db, "once", call("first", "/hit/{{input.key}}-first"))
    parent = store_parent(db, "once", call("held", "/hold/{{input.key}}-held?times=1&seconds=600"))

    # killed once the SUBWORKFLOW step is stored and the parent's next call is in flight
    _old_top, report = killed_then_resumed(db, db_path, http_server, key, parent, ("caller", "call"))
    (child,) = runs_of(db, "once")  # no second child run
    assert report["output_data"]["child"] == child.output_data
    assert child.output_data["key"] == f"{key}-first"
    assert http_server.count(f"{key}-first") == 1
    step = step_row(db, report["execution_id"], "call")
    assert step.metrics["child_execution_id"] == child.id
    assert f"output reused from sub-workflow run {child.id}" in step.warnings


def test_a_failed_child_is_resumed_with_its_failed_parent_not_run_again(db, http_server, tmp_path):
    """Resume finishes a failed run too: the child's failed step runs again, its succeeded ones not."""
    key = f"child-failed-{os.getpid()}-{tmp_path.name}"
    store_child(
        db,
        "flaky",
        call("first", "/hit/{{input.key}}-first"),
        call("second", "/flaky/{{input.key}}-flaky?fail=1&status=503"),
    )
    parent = store_parent(db, "flaky")

    failed, resumed = failed_then_resumed(db, parent, {"base": http_server.url, "key": key})
    assert resumed.status == "completed", resumed.error_message
    assert resumed.output_data["child"]["attempt"] == 2
    assert (http_server.count(f"{key}-first"), http_server.count(f"{key}-flaky")) == (1, 2)
    old_child, new_child = runs_of(db, "flaky")
    assert (old_child.resumed_as_id, new_child.resumed_from_id) == (new_child.id, old_child.id)
    assert (new_child.parent_execution_id, str(old_child.status)) == (resumed.id, "failed")


def test_a_completed_child_is_not_resumed_again_by_a_second_resume_of_the_parent_chain(
    db, http_server, tmp_path
):
    """Parent resumed twice (it failed after its child, twice): the child from the first run serves both."""
    key = f"child-chain-{os.getpid()}-{tmp_path.name}"
    store_child(db, "single", call("first", "/hit/{{input.key}}-first"))
    parent = store_parent(db, "single", call("shaky", "/flaky/{{input.key}}-shaky?fail=2&status=503"))

    async def main() -> list:
        ex = executor(db=db)
        try:
            runs = [await ex.execute_workflow(parent, {"base": http_server.url, "key": key})]
            for _ in range(2):
                runs.append(await ex.resume(runs[-1].id))
            await ex.flush()
            return runs
        finally:
            await ex.aclose()

    runs = asyncio.run(main())
    assert [r.status for r in runs] == ["failed", "failed", "completed"]
    (child,) = runs_of(db, "single")
    assert (child.parent_execution_id, http_server.count(f"{key}-first")) == (runs[0].id, 1)
    assert runs[2].output_data == {"child": child.output_data}


def test_a_step_changed_to_call_another_workflow_starts_that_one_on_resume(db, http_server, tmp_path):
    key = f"child-changed-{os.getpid()}-{tmp_path.name}"
    store_child(db, "before", call("first", "/hit/{{input.key}}-before"))
    store_child(db, "after", call("first", "/hit/{{input.key}}-after"))
    parent = store_parent(db, "before", call("shaky", "/flaky/{{input.key}}-shaky?fail=1&status=503"))

    def call_after_instead() -> None:
        (node,) = [n for n in WorkflowService(db).list_nodes(parent) if n.name == "call"]
        WorkflowService(db).update_node(node.id, config={**node.config, "workflow": "after"})

    failed, resumed = failed_then_resumed(
        db, parent, {"base": http_server.url, "key": key}, call_after_instead
    )
    assert resumed.status == "completed", resumed.error_message
    assert resumed.output_data["child"]["key"] == f"{key}-after"
    assert [len(runs_of(db, name)) for name in ("before", "after")] == [1, 1]
