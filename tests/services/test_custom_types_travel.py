"""Custom node types travel with the workflows that use them: an export writes their registrations
(`node_types`), an import registers them (an identical registration is reused, a different one
refuses the import); an API definition's `response_schema` travels too, so ASSERT's default schema
works after export → import. Two real SQLite files: the one exported from, the one imported into."""

from __future__ import annotations

import asyncio
import json

import pytest

from flowdesk.domain.errors import ConflictError, FileFormatError
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.interchange.workflow_file import read_workflow_file
from flowdesk.services.apis import ApiService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from tests.support.graph_builder import chain, graph

SHOUT = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "x-template": True},
        "key": {"type": "string", "x-secret": True, "default": "sk-default-1"},
    },
    "required": ["text"],
}


@pytest.fixture
def other(tmp_path):
    database = Database(tmp_path / "other.db")
    yield database
    database.close()


def _uses_shout(db, name="shouts"):
    NodeTypeService(db).register_node_type("SHOUT", "Shouts", SHOUT, "tests.support.node_handlers:shout")
    NodeTypeService(db).register_node_type("UNUSED", "", {"a": "string"}, "tests.support.node_handlers:shout")
    nodes, conns = chain(
        ("start", "START"),
        ("loud", "SHOUT", {"text": "{{input.t}}", "key": "sk-live-9"}),
        ("end", "END", {"output": "{{loud}}"}),
    )
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name=name))


def _run(db, workflow_id, input_data=None, environment=None):
    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False, environment=environment or {}) as ex:
            handle = await ex.execute_workflow(workflow_id, input_data or {})
            await handle.wait()
            return handle

    return asyncio.run(main())


def test_an_export_carries_the_registrations_its_nodes_use_with_secret_defaults_masked(db):
    stored = _uses_shout(db)
    text = TransferService(db).export_workflow(stored.workflow.id)
    document = json.loads(text)
    assert document["flowdesk"] == 1  # no new format: a reader that does not know node_types warns
    (carried,) = document["node_types"]  # UNUSED is not used by any node
    assert carried == {
        "type_name": "SHOUT",
        "description": "Shouts",
        "config_schema": {
            **SHOUT,
            "properties": {**SHOUT["properties"], "key": {**SHOUT["properties"]["key"], "default": "***"}},
        },
        "execution_handler": "tests.support.node_handlers:shout",
    }
    assert "sk-default-1" not in text and "sk-live-9" not in text
    assert document["nodes"][1]["config"]["key"] == "***"


def test_an_import_registers_the_carried_types_and_the_workflow_runs_there(db, other):
    text = TransferService(db).export_workflow(_uses_shout(db).workflow.id)
    imported = TransferService(other).import_file(text)

    registered = NodeTypeService(other).get_node_type("SHOUT")
    assert (registered.description, registered.execution_handler) == (
        "Shouts",
        "tests.support.node_handlers:shout",
    )
    assert [t.type_name for t in NodeTypeService(other).list_node_types()] == ["SHOUT"]
    handle = _run(other, imported.workflow.id, {"t": "hi"})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"shouted": "HI"}
    # exported again from the second database, the file is the same but for the masked default,
    # which an import does not store
    again = json.loads(TransferService(other).export_workflow(imported.workflow.id))
    first = json.loads(text)
    del first["node_types"][0]["config_schema"]["properties"]["key"]["default"]
    assert again == first


def test_an_identical_registration_is_reused_and_a_different_one_refuses_the_import(db, other):
    text = TransferService(db).export_workflow(_uses_shout(db).workflow.id)
    service = NodeTypeService(other)
    service.register_node_type("SHOUT", "my own words", SHOUT, "tests.support.node_handlers:shout")
    TransferService(other).import_file(text)
    assert service.get_node_type("SHOUT").description == "my own words"  # reused as it is

    service.register_node_type("SHOUT", "", SHOUT, "tests.support.node_handlers:count_words")
    before = [w.id for w in WorkflowService(other).list_workflows()]
    with pytest.raises(ConflictError) as refused:
        TransferService(other).import_file(text)
    assert str(refused.value) == (
        "The file's node type 'SHOUT' differs from the one registered here (its execution_handler); "
        "register the file's version under another name, or make the two the same, before importing."
    )
    assert [w.id for w in WorkflowService(other).list_workflows()] == before  # nothing half-written
    assert service.get_node_type("SHOUT").execution_handler == "tests.support.node_handlers:count_words"


def test_a_refused_import_registers_none_of_the_file_s_types(db, other):
    NodeTypeService(db).register_node_type("A_TYPE", "", {"a": "string"}, "tests.support.node_handlers:shout")
    NodeTypeService(db).register_node_type("B_TYPE", "", {"b": "string"}, "tests.support.node_handlers:shout")
    nodes, conns = chain(
        ("start", "START"), ("a", "A_TYPE", {"a": "x"}), ("b", "B_TYPE", {"b": "y"}), ("end", "END")
    )
    stored = WorkflowService(db).create_from_graph(graph(nodes, conns, name="two types"))
    text = TransferService(db).export_workflow(stored.workflow.id)
    NodeTypeService(other).register_node_type(
        "B_TYPE", "", {"b": "integer"}, "tests.support.node_handlers:shout"
    )
    with pytest.raises(ConflictError, match="'B_TYPE' differs .* \\(its config_schema\\)"):
        TransferService(other).import_file(text)
    assert [t.type_name for t in NodeTypeService(other).list_node_types()] == ["B_TYPE"]


def test_the_file_s_registrations_check_its_nodes_when_the_database_lacks_them():
    document = {
        "flowdesk": 1,
        "workflow": {"name": "w"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "loud", "node_type": "SHOUT", "config": {"text": 3}},
            {"name": "end", "node_type": "END"},
        ],
        "connections": [{"from": "start", "to": "loud"}, {"from": "loud", "to": "end"}],
        "node_types": [
            {"type_name": "SHOUT", "config_schema": {"text": "string"}, "execution_handler": None}
        ],
    }
    with pytest.raises(FileFormatError) as refused:
        read_workflow_file(json.dumps(document, indent=1))
    assert str(refused.value) == (
        "<input>, line 15: node 'loud' (nodes[1]), config.text: expected text, found the number 3"
    )

    document["nodes"][1]["config"] = {"text": "fine"}
    read = read_workflow_file(json.dumps(document))
    assert read.node_types == [
        {
            "type_name": "SHOUT",
            "description": "",
            "config_schema": {"text": "string"},
            "execution_handler": None,
        }
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("SHOUT", 'node_types[0]: expected a node type registration (an object), found the text "SHOUT"'),
        (
            {"type_name": "LOOP"},
            "node_types[0].type_name: 'LOOP' is a built-in node type and cannot be registered",
        ),
        (
            {"type_name": "X", "config_schema": {"n": "integr"}},
            "node_types[0].config_schema: config_schema.n: 'integr' is not a type",
        ),
        (
            {"type_name": "X", "execution_handler": "workflow:"},
            "node_types[0].execution_handler: execution_handler 'workflow:' must name a stored workflow after the colon",
        ),
    ],
)
def test_a_bad_registration_in_a_file_is_one_located_sentence(entry, expected):
    document = {
        "flowdesk": 1,
        "workflow": {"name": "w"},
        "nodes": [{"name": "start", "node_type": "START"}, {"name": "end", "node_type": "END"}],
        "connections": [{"from": "start", "to": "end"}],
        "node_types": [entry],
    }
    with pytest.raises(FileFormatError) as refused:
        read_workflow_file(json.dumps(document, indent=2), source="w.json")
    assert expected in str(refused.value)
    assert "\n" not in str(refused.value)


RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "email"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"}},
}


def _asserting_workflow(db):
    api = ApiService(db).create_api(
        name="getUser",
        method="GET",
        url="{{env.base_url}}/users/{{params.id}}",
        response_schema=RESPONSE_SCHEMA,
    )
    nodes, conns = chain(
        ("start", "START"),
        ("call", "API_CALL", {"api_id": api.id, "parameters": {"id": 4}}),
        ("check", "ASSERT", {"assertions": ["response.status == 200"]}),
        ("end", "END"),
    )
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name="checks a user"))


def _check_step(db, workflow_id, http_server):
    handle = _run(db, workflow_id, environment={"base_url": http_server.url})
    assert handle.status == "completed", handle.error_message
    return next(s for s in ExecutionService(db).get_logs(handle.id) if s.step_name == "check")


def test_the_response_schema_travels_so_assert_s_default_schema_works_after_import(db, other, http_server):
    text = TransferService(db).export_workflow(_asserting_workflow(db).workflow.id)
    assert json.loads(text)["apis"][0]["response_schema"] == RESPONSE_SCHEMA
    imported = TransferService(other).import_file(text)

    step = _check_step(other, imported.workflow.id, http_server)
    assert (step.output_data["passed"], step.output_data["failed"]) == (2, 0)
    assert step.output_data["results"][1]["check"] == "response schema of API 'getUser'"


def test_an_identical_api_stored_without_a_schema_gains_the_file_s(db, other, http_server):
    text = TransferService(db).export_workflow(_asserting_workflow(db).workflow.id)
    bare = ApiService(other).create_api(
        name="getUser", method="GET", url="{{env.base_url}}/users/{{params.id}}"
    )
    imported = TransferService(other).import_file(text)
    assert ApiService(other).get_api(bare.id).response_schema == RESPONSE_SCHEMA
    assert len(ApiService(other).list_apis()) == 1
    step = _check_step(other, imported.workflow.id, http_server)
    assert step.output_data["results"][1]["check"] == "response schema of API 'getUser'"


def _greeter(db, name="Greeter", greeting="hello"):
    nodes, conns = chain(
        ("start", "START"), ("end", "END", {"output": {"greeting": f"{greeting} {{{{input.who}}}}"}})
    )
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name=name))


def _uses_greet(db, handler):
    NodeTypeService(db).register_node_type("GREET", "", {"who": "string"}, handler)
    nodes, conns = chain(
        ("start", "START"),
        ("hello", "GREET", {"who": "{{input.name}}"}),
        ("end", "END", {"output": "{{hello}}"}),
    )
    return WorkflowService(db).create_from_graph(graph(nodes, conns, name="says hello"))


def test_the_workflow_a_type_s_handler_names_travels_too_and_runs_after_import(db, other):
    greeter = _greeter(db)
    user = _uses_greet(db, f"workflow:{greeter.workflow.id}")  # by id: the file names it
    document = json.loads(TransferService(db).export_workflow(user.workflow.id))
    assert document["flowdesk"] == 2
    assert [w["workflow"]["name"] for w in document["workflows"]] == ["Greeter"]
    assert document["node_types"][0]["execution_handler"] == "workflow:Greeter"

    imported = TransferService(other).import_file(json.dumps(document))
    assert NodeTypeService(other).get_node_type("GREET").execution_handler == "workflow:Greeter"
    handle = _run(other, imported.workflow.id, {"name": "Ann"})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"greeting": "hello Ann"}

    # imported again where it came from: the type (by id there) and the workflow are reused
    before = len(WorkflowService(db).list_workflows())
    TransferService(db).import_file(json.dumps(document))
    assert len(WorkflowService(db).list_workflows()) == before + 1  # the file's own workflow only
    assert NodeTypeService(db).get_node_type("GREET").execution_handler == f"workflow:{greeter.workflow.id}"


def test_a_carried_workflow_stored_as_a_copy_is_what_a_new_type_s_handler_names(db, other):
    _greeter(db)
    text = TransferService(db).export_workflow(_uses_greet(db, "workflow:Greeter").workflow.id)
    _greeter(other, greeting="goodbye")  # another workflow has the name there
    imported = TransferService(other).import_file(text)
    assert NodeTypeService(other).get_node_type("GREET").execution_handler == "workflow:Greeter (copy)"
    assert _run(other, imported.workflow.id, {"name": "Bo"}).output_data == {"greeting": "hello Bo"}


def test_the_api_definition_an_api_type_names_travels_with_it(db, other, http_server):
    ApiService(db).create_api(
        name="Create ticket",
        method="POST",
        url="{{env.base_url}}/anything/tickets",
        body={"kind": "{{params.kind}}"},
    )
    NodeTypeService(db).register_node_type("TICKET", "", {"kind": "string"}, "api:Create ticket")
    nodes, conns = chain(
        ("start", "START"), ("file", "TICKET", {"kind": "bug"}), ("end", "END", {"output": "{{file}}"})
    )
    stored = WorkflowService(db).create_from_graph(graph(nodes, conns, name="files"))
    text = TransferService(db).export_workflow(stored.workflow.id)
    assert [a["name"] for a in json.loads(text)["apis"]] == ["Create ticket"]
    assert read_workflow_file(text).problems == []  # not "no node uses this API"

    imported = TransferService(other).import_file(text)
    handle = _run(other, imported.workflow.id, environment={"base_url": http_server.url})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["response"]["data"]["json"] == {"kind": "bug"}
