"""A custom node type whose `execution_handler` is a stored workflow (`workflow:NAME` / `workflow:ID`):
a node of it runs as a SUBWORKFLOW call (a child run linked to the step, the depth limit,
cancellation), its declared config fields the child's input. Real SQLite, and the local test server
where the child calls an API."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine.custom_types import checked_descriptors
from flowdesk.engine.errors import WorkflowInvalidError
from flowdesk.services.executions import ExecutionService
from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.workflows import WorkflowService
from tests.support.child_runs import children_of, run_stored
from tests.support.graph_builder import executor, graph

TICKET_SCHEMA = {
    "type": "object",
    "properties": {"kind": {"type": "string", "x-template": True}, "note": {"type": "string"}},
    "required": ["kind"],
}


def store(db, g):
    return WorkflowService(db).create_from_graph(g)


def ticket_workflow(db, server_url, name="Create ticket"):
    """START -> post (the test server echoes the ticket) -> END {"filed": kind, "note": note}."""
    return store(
        db,
        graph(
            [
                ("start", "START"),
                (
                    "post",
                    "API_CALL",
                    {
                        "url": f"{server_url}/anything/tickets/{{{{input.kind}}}}",
                        "method": "POST",
                        "body": {"note": "{{input.note}}"},
                    },
                ),
                (
                    "end",
                    "END",
                    {
                        "output": {
                            "filed": "{{post.response.data.path}}",
                            "note": "{{post.response.data.json.note}}",
                        }
                    },
                ),
            ],
            [("start", "post"), ("post", "end")],
            name=name,
        ),
    )


def user(db, node_type, config, name="files tickets", workflow_config=None):
    """START -> step (a node of `node_type`) -> END (output: the step's output)."""
    return store(
        db,
        graph(
            [("start", "START"), ("step", node_type, config), ("end", "END", {"output": "{{step}}"})],
            [("start", "step"), ("step", "end")],
            name=name,
            config=workflow_config,
        ),
    )


def test_a_type_whose_handler_is_a_workflow_runs_it_as_a_child_run_with_the_config_as_input(db, http_server):
    ticket_workflow(db, http_server.url)
    NodeTypeService(db).register_node_type(
        "TICKET", "Files a ticket", TICKET_SCHEMA, "workflow:Create ticket"
    )
    parent = user(db, "TICKET", {"kind": "{{input.kind}}", "note": "printer on fire"})

    handle = run_stored(db, parent, {"kind": "urgent"})

    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"filed": "/anything/tickets/urgent", "note": "printer on fire"}
    (child,) = children_of(db, handle.id)
    assert (child.parent_step, child.status) == ("step", "completed")
    assert child.input_data == {"kind": "urgent", "note": "printer on fire"}  # templates rendered
    assert child.output_data == handle.output_data
    logs = ExecutionService(db).get_logs(handle.id)
    (step,) = [log for log in logs if log.node_name == "step"]
    assert (step.node_type, step.status, step.metrics) == (
        "TICKET",
        "success",
        {"child_execution_id": child.id},
    )
    assert [log.node_name for log in ExecutionService(db).get_logs(child.id)] == ["start", "post", "end"]


def test_the_dict_form_and_a_workflow_id_name_the_same_workflow(db, http_server):
    stored = ticket_workflow(db, http_server.url)
    registered = NodeTypeService(db).register_node_type(
        "TICKET",
        "",
        TICKET_SCHEMA,
        {"workflow": stored.workflow.id},  # type: ignore[arg-type]
    )
    assert registered.execution_handler == f"workflow:{stored.workflow.id}"
    handle = run_stored(db, user(db, "TICKET", {"kind": "bug", "note": "n"}))
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"filed": "/anything/tickets/bug", "note": "n"}


def test_only_the_declared_fields_become_the_input(db):
    store(
        db,
        graph([("start", "START"), ("end", "END", {"output": "{{input}}"})], [("start", "end")], name="echo"),
    )
    NodeTypeService(db).register_node_type("ECHOED", "", {"a": "string"}, "workflow:echo")
    handle = run_stored(
        db, user(db, "ECHOED", {"a": "{{input.x}}", "output_mapping": {"a": "a"}}), {"x": "y"}
    )
    assert handle.status == "completed", handle.error_message
    (child,) = children_of(db, handle.id)
    assert child.input_data == {"a": "y"}


def test_a_type_calling_its_own_workflow_stops_at_the_depth_limit(db):
    NodeTypeService(db).register_node_type("AGAIN", "", {}, "workflow:again")
    wf = user(db, "AGAIN", {}, name="again", workflow_config={"max_subworkflow_depth": 2})
    handle = run_stored(db, wf)
    assert handle.status == "failed"
    assert "would run 3 levels deep, past the limit of 2" in handle.error_message
    assert "again → again → again → again" in handle.error_message
    assert len(ExecutionService(db).list_executions()) == 3


def test_the_child_of_a_workflow_type_is_cancelled_with_its_parent(db):
    store(db, graph([("start", "START"), ("wait", "DELAY", {"seconds": 600}), ("end", "END")],
                    [("start", "wait"), ("wait", "end")], name="slow"))  # fmt: skip
    NodeTypeService(db).register_node_type("SLOW", "", {}, "workflow:slow")
    handle = run_stored(db, user(db, "SLOW", {}, workflow_config={"timeout": 0.2}))
    (child,) = children_of(db, handle.id)
    assert (handle.status, child.status) == ("timed_out", "cancelled")
    assert child.error_message == f"its parent run {handle.id} was cancelled"


def test_a_missing_workflow_is_stored_but_refused_by_validation_and_at_run_time_naming_the_handler(db):
    NodeTypeService(db).register_node_type("TICKET", "", TICKET_SCHEMA, "workflow:Nowhere")
    parent = user(db, "TICKET", {"kind": "bug"})
    sentence = "node type 'TICKET' cannot run: its handler 'workflow:Nowhere' names no stored workflow"

    async def main():
        ex = executor(db=db)
        try:
            with pytest.raises(WorkflowInvalidError) as refused:
                await ex.execute_workflow(parent.workflow.id, {})
            return str(refused.value)
        finally:
            await ex.aclose()

    message = asyncio.run(main())
    assert sentence in message and "\n" not in message
    with db.session(read_only=True) as session:
        assert checked_descriptors(session)["TICKET"].cannot_run == sentence
    assert NodeTypeService(db).get_node_type("TICKET").execution_handler == "workflow:Nowhere"

    store(db, graph([("start", "START"), ("end", "END")], [("start", "end")], name="Nowhere"))
    assert run_stored(db, parent).status == "completed"  # the next run finds it


def test_two_workflows_of_the_handler_s_name_are_refused_naming_their_ids(db):
    first = store(db, graph([("start", "START"), ("end", "END")], [("start", "end")], name="twin"))
    second = store(db, graph([("start", "START"), ("end", "END")], [("start", "end")], name="twin"))
    NodeTypeService(db).register_node_type("TWIN", "", {}, "workflow:twin")
    with db.session(read_only=True) as session:
        assert checked_descriptors(session)["TWIN"].cannot_run == (
            f"node type 'TWIN' cannot run: its handler 'workflow:twin' names 2 workflows of that name "
            f"(ids {first.workflow.id}, {second.workflow.id}; name one by its id: 'workflow:{first.workflow.id}')"
        )


@pytest.mark.parametrize(
    ("handler", "sentence"),
    [
        ("workflow:", "execution_handler 'workflow:' must name a stored workflow after the colon"),
        ({"workflow": ""}, 'execution_handler as an object must be {"api": "NAME"} naming an API definition'),
    ],
)
def test_a_workflow_handler_without_a_name_is_refused_when_registered(db, handler, sentence):
    from flowdesk.domain.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as refused:
        NodeTypeService(db).register_node_type("T", "", {}, handler)
    assert sentence in str(refused.value)


def test_validation_finds_a_cycle_through_a_workflow_type_located_at_the_node_type(db):
    """A → (SUBWORKFLOW) B → (a node of type BACK, whose handler runs A) A: validation says so
    before anything runs, at the calling node's node_type or config.workflow."""
    from flowdesk.services.orchestrator import WorkflowOrchestrator
    from flowdesk.services.subworkflows import subworkflow_problems

    NodeTypeService(db).register_node_type("BACK", "", {}, "workflow:A")
    NodeTypeService(db).register_node_type("AGAIN", "", {}, "workflow:again")
    a = user(db, "SUBWORKFLOW", {"workflow": "B"}, name="A")
    b = user(db, "BACK", {}, name="B")
    again = user(db, "AGAIN", {}, name="again")
    loaded = WorkflowService(db).load_graph
    (problem,) = subworkflow_problems(db, loaded(b.workflow.id))
    assert (problem.path, problem.node, problem.message) == (
        "nodes[1].node_type", "step", "the sub-workflow calls go round in a cycle: B → A → B"
    )  # fmt: skip
    (problem,) = subworkflow_problems(db, loaded(a.workflow.id))
    assert (problem.path, problem.message) == (
        "nodes[1].config.workflow", "the sub-workflow calls go round in a cycle: A → B → A"
    )  # fmt: skip
    (problem,) = subworkflow_problems(db, loaded(again.workflow.id))
    assert problem.message == "the sub-workflow calls go round in a cycle: again → again"

    async def validated(workflow_id):
        async with WorkflowOrchestrator(db=db) as orchestrator:
            return await orchestrator.validate_workflow(workflow_id)

    messages = [p.message for p in asyncio.run(validated(b.workflow.id))]
    assert "the sub-workflow calls go round in a cycle: B → A → B" in messages


def test_a_workflow_type_whose_workflow_is_missing_is_reported_once_by_its_handler_check(db):
    from flowdesk.services.subworkflows import subworkflow_problems

    NodeTypeService(db).register_node_type("GONE", "", {}, "workflow:Nowhere")
    parent = user(db, "GONE", {})
    assert subworkflow_problems(db, WorkflowService(db).load_graph(parent.workflow.id)) == []
