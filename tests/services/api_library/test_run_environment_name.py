"""A run records the environment it ran in; a resumed run goes on in that environment."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.headless import resume_execution, run_workflow
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService


@pytest.fixture
def workflow(db, http_server) -> int:
    """START -> fetch {{env.base_url}}/anything/{{env.tag}} -> END; environments "a" (active) and "b"."""
    envs = EnvironmentService(db)
    envs.create_environment("a", {"base_url": http_server.url, "tag": "from-a"}, activate=True)
    envs.create_environment("b", {"base_url": "http://127.0.0.1:9", "tag": "from-b"})  # nothing listens
    service = WorkflowService(db)
    wf = service.create_workflow("env")
    start = service.add_node(wf.id, "start", "START")
    fetch = service.add_node(
        wf.id, "fetch", "API_CALL", config={"method": "GET", "url": "{{env.base_url}}/anything/{{env.tag}}"}
    )
    end = service.add_node(wf.id, "end", "END")
    service.add_connection(wf.id, start.id, fetch.id)
    service.add_connection(wf.id, fetch.id, end.id)
    return wf.id


def _fetched_path(db, execution_id: int) -> str:
    (fetch,) = [log for log in ExecutionService(db).get_logs(execution_id) if log.node_name == "fetch"]
    return fetch.output_data["response"]["data"]["path"]


def test_a_headless_run_records_the_environment_named_or_active(db, workflow):
    named = run_workflow(db, workflow, None, environment="b")
    active = run_workflow(db, workflow, None)
    executions = ExecutionService(db)
    assert (named.status, executions.get_execution(named.execution_id).environment) == ("failed", "b")
    assert (active.status, executions.get_execution(active.execution_id).environment) == ("completed", "a")


def test_the_executor_records_an_environment_given_by_name_or_beside_its_variables(db, workflow):
    async def go():
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            by_name = await executor.execute_workflow(workflow, None, environment="a")
            given = await executor.execute_workflow(
                workflow, None, environment=EnvironmentService(db).variables_for("a"), environment_name="a"
            )
            unnamed = await executor.execute_workflow(
                workflow, None, environment=EnvironmentService(db).variables_for("a")
            )
            return by_name.id, given.id, unnamed.id

    ids = asyncio.run(go())
    assert [ExecutionService(db).get_execution(i).environment for i in ids] == ["a", "a", None]


def test_a_resumed_run_goes_on_in_the_environment_it_started_in(db, workflow, http_server):
    failed = run_workflow(db, workflow, None, environment="b")
    assert failed.status == "failed"
    EnvironmentService(db).set_variables("b", {"base_url": http_server.url})  # "b" fixed; "a" stays active
    resumed = resume_execution(db, failed.execution_id)
    assert resumed.status == "completed"
    assert _fetched_path(db, resumed.execution_id) == "/anything/from-b"  # b's tag, not the active a's
    row = ExecutionService(db).get_execution(resumed.execution_id)
    assert (row.environment, row.resumed_from_id) == ("b", failed.execution_id)


def test_a_run_whose_environment_was_deleted_resumes_in_the_active_one(db, workflow, http_server, caplog):
    EnvironmentService(db).create_environment("gone", {"base_url": "http://127.0.0.1:9", "tag": "from-gone"})
    failed = run_workflow(db, workflow, None, environment="gone")
    EnvironmentService(db).delete_environment("gone")
    with caplog.at_level("WARNING", logger="flowdesk.engine.executor"):
        resumed = resume_execution(db, failed.execution_id)
    assert resumed.status == "completed"
    assert _fetched_path(db, resumed.execution_id) == "/anything/from-a"
    assert any("'gone', which no longer exists" in r.getMessage() for r in caplog.records)
