"""The engine applies a workflow's declared inputs for every door: the Python API
(WorkflowExecutor), and through it the CLI and the app. A refused input creates no execution."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import Workflow, WorkflowGraph
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import executor, graph

INPUTS = {
    "type": "object",
    "properties": {
        "base_url": {"type": "string", "default": "http://127.0.0.1:8765"},
        "n": {"type": "integer"},
    },
    "required": ["base_url", "n"],
}


def _declared() -> WorkflowGraph:
    g = graph(
        [("start", "START"), ("end", "END", {"output": {"url": "{{input.base_url}}", "n": "{{input.n}}"}})],
        [("start", "end")],
        name="Declared",
    )
    return WorkflowGraph(
        workflow=Workflow(name="Declared", config={"inputs": INPUTS}),
        nodes=g.nodes,
        connections=g.connections,
    )


def _run_stored(db, workflow_id, input_data):
    async def main():
        ex = executor(db=db)
        try:
            handle = await ex.execute_workflow(workflow_id, input_data)
            await handle.wait()
            return handle
        finally:
            await ex.aclose()

    return asyncio.run(main())


def test_stored_workflow_fills_defaults_and_records_the_filled_input(db):
    stored = WorkflowService(db).create_from_graph(_declared())
    handle = _run_stored(db, stored.workflow.id, {"n": 2})
    execution = ExecutionService(db).get_execution(handle.id)
    assert execution.output_data == {"url": "http://127.0.0.1:8765", "n": 2}
    assert execution.input_data == {"base_url": "http://127.0.0.1:8765", "n": 2}


@pytest.mark.parametrize(
    "given, message",
    [
        (None, "input 'n' is required (declared in workflow 'Declared')"),
        ([1, 2], "the input of workflow 'Declared' must be a JSON object"),
        ({"n": "two"}, "input 'n' does not fit its declaration"),
    ],
)
def test_refused_input_creates_no_execution(db, given, message):
    stored = WorkflowService(db).create_from_graph(_declared())
    for _ in range(2):  # the second time the workflow's plan is cached: the fast path refuses too
        with pytest.raises(InvalidInputError) as err:
            _run_stored(db, stored.workflow.id, given)
        assert str(err.value).startswith(message)
    assert ExecutionService(db).list_executions() == []
    assert _run_stored(db, stored.workflow.id, {"n": 1}).status.value == "completed"


def test_in_memory_graph_applies_the_same_rules():
    async def main(input_data):
        ex = executor()
        try:
            handle = await ex.execute_graph(_declared(), input_data)
            await handle.wait()
            return handle
        finally:
            await ex.aclose()

    with pytest.raises(InvalidInputError, match="input 'n' is required"):
        asyncio.run(main({}))
    assert asyncio.run(main({"n": 5})).output_data == {"url": "http://127.0.0.1:8765", "n": 5}
