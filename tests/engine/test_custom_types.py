"""Custom node types registered in the database run without code of their own: their handler is an
API definition (`api:NAME`), a Python function (`module:function`) or a handler name, and their
stored `config_schema` is checked before every run (engine/custom_types.py)."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine.errors import WorkflowInvalidError
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.registry import HandlerRegistry, default_registry
from flowdesk.services.apis import ApiService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import chain, graph

TICKET_SCHEMA = {
    "type": "object",
    "properties": {"kind": {"type": "string", "x-template": True}, "note": {"type": "string"}},
    "required": ["kind"],
}


def _workflow(db, config, node_type="TICKET"):
    nodes, conns = chain(("start", "START"), ("step", node_type, config), ("end", "END"))
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name=f"uses {node_type}"))


def _run(db, workflow_id, input_data=None, registry=None):
    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False, registry=registry) as ex:
            handle = await ex.execute_workflow(workflow_id, input_data or {})
            await handle.wait()
            return handle

    return asyncio.run(main())


def test_a_type_whose_handler_is_an_api_definition_runs_as_that_call_with_its_fields_as_parameters(
    db, http_server
):
    ApiService(db).create_api(
        name="Create ticket",
        method="POST",
        url=f"{http_server.url}/anything/tickets/{{{{params.kind}}}}",
        body={"note": "{{params.note}}"},
    )
    NodeTypeService(db).register_node_type(
        "TICKET", "Files a ticket", TICKET_SCHEMA, {"api": "Create ticket"}
    )
    stored = _workflow(db, {"kind": "{{input.kind}}", "note": "printer on fire"})

    handle = _run(db, stored.workflow.id, {"kind": "urgent"})

    assert handle.status == "completed", handle.error_message
    response = handle.output_data["step"]["response"]
    assert response["status"] == 200
    assert response["data"]["method"] == "POST"
    assert response["data"]["path"].endswith("/anything/tickets/urgent")
    assert response["data"]["json"] == {"note": "printer on fire"}
    step = next(s for s in ExecutionService(db).get_logs(handle.id) if s.step_name == "step")
    assert step.node_type == "TICKET" and step.status == "success"


def test_python_functions_sync_and_async_run_through_module_colon_function(db):
    service = NodeTypeService(db)
    service.register_node_type("SHOUT", "", {"text": "string"}, "tests.support.node_handlers:shout")
    service.register_node_type("COUNT", "", {"text": "string"}, "tests.support.node_handlers:count_words")
    nodes, conns = chain(
        ("start", "START"),
        ("loud", "SHOUT", {"text": "{{input.t}}"}),
        ("count", "COUNT", {"text": "{{input.t}}"}),
        ("end", "END"),
    )
    stored = WorkflowService(db).create_from_graph(graph(nodes, conns, name="python handlers"))

    handle = _run(db, stored.workflow.id, {"t": "three small words"})

    assert handle.status == "completed", handle.error_message
    assert handle.output_data["loud"] == {"shouted": "THREE SMALL WORDS"}
    assert handle.output_data["count"] == {"words": 3}


def test_the_seed_s_dotted_form_names_a_python_function(db):
    NodeTypeService(db).register_node_type(
        "SHOUT", "", {"text": "string"}, "tests.support.node_handlers.shout"
    )
    stored = _workflow(db, {"text": "seed"}, "SHOUT")
    handle = _run(db, stored.workflow.id)
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["step"] == {"shouted": "SEED"}


def test_a_handler_name_finds_a_handler_registered_or_installed_under_that_name(db):
    registry = HandlerRegistry(parent=default_registry())

    async def reverse(ctx):
        return {"reversed": ctx.config["text"][::-1]}

    registry.register("text.reverse", reverse)
    NodeTypeService(db).register_node_type("REVERSE", "", {"text": "string"}, "text.reverse")
    stored = _workflow(db, {"text": "abc"}, "REVERSE")

    handle = _run(db, stored.workflow.id, registry=registry)

    assert handle.status == "completed", handle.error_message
    assert handle.output_data["step"] == {"reversed": "cba"}


@pytest.mark.parametrize(
    ("handler", "sentence"),
    [
        (
            "acme_missing.tickets:create",
            "node type 'TICKET' cannot run: its handler 'acme_missing.tickets:create' cannot be found "
            "(no module named 'acme_missing')",
        ),
        (
            "tests.support.node_handlers:nope",
            "node type 'TICKET' cannot run: its handler 'tests.support.node_handlers:nope' cannot be found "
            "(module 'tests.support.node_handlers' has no 'nope')",
        ),
        (
            "tests.support.node_handlers:NOT_A_FUNCTION",
            "node type 'TICKET' cannot run: its handler 'tests.support.node_handlers:NOT_A_FUNCTION' "
            "is not a function",
        ),
        (
            "api:No such API",
            "node type 'TICKET' cannot run: its handler 'api:No such API' names no API definition",
        ),
        ("ticket.create", "node type 'TICKET' cannot run: its handler 'ticket.create' is neither installed"),
        (
            "ticket_handler",
            "node type 'TICKET' cannot run: its handler 'ticket_handler' is neither installed",
        ),
    ],
)
def test_a_type_whose_handler_cannot_be_found_is_stored_but_refused_at_run_time_naming_it(
    db, handler, sentence
):
    NodeTypeService(db).register_node_type("TICKET", "", TICKET_SCHEMA, handler)
    stored = _workflow(db, {"kind": "bug"})

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False) as ex:
            with pytest.raises(WorkflowInvalidError) as refused:
                await ex.execute_workflow(stored.workflow.id, {})
            return str(refused.value)

    message = asyncio.run(main())
    assert sentence in message
    assert "\n" not in message and "Traceback" not in message
    assert NodeTypeService(db).get_node_type("TICKET").execution_handler == handler  # still stored


def test_the_schema_registered_in_the_database_is_enforced_before_a_run(db):
    """A handler registered in Python without a schema: the stored registration's schema is what the
    pre-run check enforces, for a workflow run from the database and for an in-memory graph."""
    registry = HandlerRegistry(parent=default_registry())

    async def echo(ctx):
        return dict(ctx.config)

    registry.register("TICKET", echo)
    NodeTypeService(db).register_node_type("TICKET", "", TICKET_SCHEMA)
    stored = _workflow(db, {"note": 5})

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False, registry=registry) as ex:
            with pytest.raises(WorkflowInvalidError) as from_db:
                await ex.execute_workflow(stored.workflow.id, {})
            nodes, conns = chain(("start", "START"), ("step", "TICKET", {"note": 5}), ("end", "END"))
            with pytest.raises(WorkflowInvalidError) as in_memory:
                await ex.execute_graph(graph(nodes, conns), {})
            return str(from_db.value), str(in_memory.value)

    for message in asyncio.run(main()):
        assert "kind" in message and "note" in message


def test_editing_a_stored_type_takes_effect_on_the_next_run(db):
    """Plans are not kept across a change of the registration: fixing the handler lets the same
    workflow run."""
    service = NodeTypeService(db)
    service.register_node_type("SHOUT", "", {"text": "string"}, "tests.support.node_handlers:missing")
    stored = _workflow(db, {"text": "hi"}, "SHOUT")

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False) as ex:
            with pytest.raises(WorkflowInvalidError):
                await ex.execute_workflow(stored.workflow.id, {})
            service.register_node_type("SHOUT", "", {"text": "string"}, "tests.support.node_handlers:shout")
            handle = await ex.execute_workflow(stored.workflow.id, {})
            await handle.wait()
            return handle

    handle = asyncio.run(main())
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["step"] == {"shouted": "HI"}
