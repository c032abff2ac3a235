"""One description per node type: validation, renaming, masking and the file format read the
descriptor, and a custom type's config_schema (the seed's short form or JSON Schema) is enforced."""

from __future__ import annotations

import dataclasses
import json

import pytest

from flowdesk.domain import node_descriptors
from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.errors import FileFormatError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.domain.node_config import config_problems, rename_in_config
from flowdesk.domain.node_descriptors import (
    BUILTIN_DESCRIPTORS,
    config_schema_problem,
    describe,
    describe_custom,
    normalise_config_schema,
)
from flowdesk.domain.validation import locate_graph_problems, validate_graph
from flowdesk.interchange.export_redaction import redact_for_export
from flowdesk.interchange.workflow_file import read_workflow_file

SEED_SCHEMA = {"processor_type": "string", "parameters": "object"}


def graph_with(node_type: str, config: dict) -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name="wf"),
        nodes=[
            Node(name="start", node_type=NodeType.START),
            Node(name="work", node_type=node_type, config=config),
            Node(name="end", node_type=NodeType.END),
        ],
        connections=[
            Connection(from_node="start", to_node="work", connection_type=ConnectionType.SEQUENCE),
            Connection(from_node="work", to_node="end", connection_type=ConnectionType.SEQUENCE),
        ],
    )


def placed(graph: WorkflowGraph, known) -> list[tuple[str, str]]:
    return [
        (f.placed().path or "", f.problem.message)
        for f in locate_graph_problems(graph, node_types=known)
        if f.problem.severity == "error"
    ]


def test_the_seed_short_form_becomes_json_schema_with_every_field_required():
    schema = normalise_config_schema(SEED_SCHEMA)
    assert schema == {
        "type": "object",
        "properties": {"processor_type": {"type": "string"}, "parameters": {"type": "object"}},
        "required": ["processor_type", "parameters"],
    }


def test_a_custom_type_in_the_seed_short_form_reports_each_missing_field_located():
    known = {"DATA_PROCESSOR": describe_custom("DATA_PROCESSOR", "processes data", SEED_SCHEMA)}
    assert placed(graph_with("DATA_PROCESSOR", {}), known) == [
        ("nodes[1].config.processor_type", "a DATA_PROCESSOR needs a processor_type (text)"),
        ("nodes[1].config.parameters", "a DATA_PROCESSOR needs a parameters (an object)"),
    ]


def test_a_custom_type_reports_each_wrong_typed_field_located():
    known = {"DATA_PROCESSOR": describe_custom("DATA_PROCESSOR", "", SEED_SCHEMA)}
    graph = graph_with("DATA_PROCESSOR", {"processor_type": 5, "parameters": [1]})
    assert placed(graph, known) == [
        ("nodes[1].config.processor_type", "expected text, found the number 5"),
        ("nodes[1].config.parameters", "expected an object, found a list"),
    ]
    good = graph_with("DATA_PROCESSOR", {"processor_type": "csv", "parameters": {"sep": ";"}})
    assert placed(good, known) == []


def test_names_only_know_the_type_but_check_nothing_of_its_config():
    assert placed(graph_with("DATA_PROCESSOR", {}), {"DATA_PROCESSOR"}) == []


def test_a_full_json_schema_checks_required_enum_range_and_nested_fields():
    schema = {
        "type": "object",
        "required": ["level"],
        "properties": {
            "level": {"type": "string", "enum": ["low", "high"]},
            "retries": {"type": "integer", "minimum": 0, "maximum": 5},
            "target": {
                "type": "object",
                "required": ["host"],
                "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
            },
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    known = {"ALERTER": describe_custom("ALERTER", "", schema)}
    graph = graph_with("ALERTER", {"level": "mid", "retries": 9, "target": {"port": "x"}, "tags": ["a", 2]})
    assert placed(graph, known) == [
        ("nodes[1].config.level", 'expected one of low, high, found the text "mid"'),
        ("nodes[1].config.retries", "expected a whole number from 0 to 5, found the number 9"),
        ("nodes[1].config.target", "host: missing"),
        ("nodes[1].config.tags", "[1]: expected text, found the number 2"),
    ]


def test_an_unusable_config_schema_is_one_sentence():
    assert config_schema_problem(SEED_SCHEMA) is None
    assert config_schema_problem({"n": "integer", "flag": "bool"}) is None
    assert config_schema_problem({"n": "whole"}) == (
        "config_schema.n: 'whole' is not a type "
        "(use one of string, number, integer, boolean, object, array, null, or a JSON Schema object)"
    )
    assert config_schema_problem({"type": "object", "properties": {"n": {"type": "int"}}}) == (
        "config_schema.properties.n: 'int' is not a JSON Schema type"
    )
    assert (
        config_schema_problem([1])
        == "config_schema must be an object: field names to types, or a JSON Schema"
    )


def test_the_look_of_a_custom_type_comes_from_its_schema():
    schema = {
        "type": "object",
        "title": "Create ticket",
        "x-icon": "✉",
        "x-color": "#336699",
        "x-category": "Tickets",
        "properties": {"queue": {"type": "string", "default": "support"}},
    }
    d = describe_custom("CREATE_TICKET", "Opens a ticket", schema)
    assert (d.label, d.icon, d.color, d.category, d.help) == (
        "Create ticket",
        "✉",
        "#336699",
        "Tickets",
        "Opens a ticket",
    )
    assert d.new_config == {"queue": "support"}
    assert d.default_name == "Create ticket"
    assert describe_custom("MY_TYPE").default_name == "My Type"


def test_adding_a_field_to_a_builtin_descriptor_changes_validation_and_renaming(monkeypatch):
    """The descriptor is the one source: a new expression field on DELAY is type-checked, its
    syntax checked as an expression, and renamed as one, with no other change anywhere."""
    delay = BUILTIN_DESCRIPTORS["DELAY"]
    schema = json.loads(json.dumps(delay.config_schema))
    schema["properties"]["unless"] = {"type": "string", "x-expression": True}
    monkeypatch.setitem(
        node_descriptors.BUILTIN_DESCRIPTORS, "DELAY", dataclasses.replace(delay, config_schema=schema)
    )
    problems = validate_graph(graph_with("DELAY", {"seconds": 0, "unless": "{{start.x}} >"}))
    assert [p.key for p in problems if p.severity == "error"] == ["unless"]
    renamed = rename_in_config("DELAY", {"unless": "start.x > 1", "note": "start.x"}, "start", "begin")
    assert renamed == {"unless": "begin.x > 1", "note": "start.x"}  # the note is a template: no {{ }}


def test_connection_rules_come_from_the_ports():
    graph = graph_with("DATA_PROCESSOR", {})
    graph.connections.append(Connection(from_node="work", to_node="end", connection_type=ConnectionType.LOOP))
    messages = [p.message for p in validate_graph(graph, node_types={"DATA_PROCESSOR"})]
    assert "a LOOP connection must leave a LOOP node, but 'work' is a DATA_PROCESSOR" in messages
    assert describe("DATA_PROCESSOR").exits() == [
        ConnectionType.SEQUENCE,
        ConnectionType.CONDITIONAL,
        ConnectionType.ERROR,
    ]
    assert describe("END").exits() == []


def test_literal_credentials_of_every_secret_auth_field_are_masked_on_export():
    """AWS secret_key and session_token were missing from the export's own list (the engine masked
    them): both now read the API_CALL descriptor's x-secret fields."""
    auth = {
        "type": "aws_sigv4",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "wJalrXUtnFEMI",
        "session_token": "FQoGZXIvYXdz",
    }
    document = {"nodes": [{"name": "call", "node_type": "API_CALL", "config": {"auth": auth}}]}
    out = redact_for_export(document)["nodes"][0]["config"]["auth"]
    assert out == {**auth, "secret_key": "***", "session_token": "***"}
    assert BUILTIN_DESCRIPTORS["API_CALL"].secret_fields == tuple(
        f"auth.{name}" for name in node_descriptors.AUTH_SECRET_FIELDS
    )


def test_the_file_reader_enforces_a_custom_schema_and_says_where():
    doc = {
        "flowdesk": 1,
        "workflow": {"name": "wf"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {
                "name": "work",
                "node_type": "DATA_PROCESSOR",
                "config": {"processor_type": 7, "parameters": {}},
            },
            {"name": "end", "node_type": "END"},
        ],
        "connections": [
            {"from": "start", "to": "work", "connection_type": "SEQUENCE"},
            {"from": "work", "to": "end", "connection_type": "SEQUENCE"},
        ],
    }
    known = {"DATA_PROCESSOR": describe_custom("DATA_PROCESSOR", "", SEED_SCHEMA)}
    with pytest.raises(FileFormatError) as refused:
        read_workflow_file(json.dumps(doc, indent=2), source="wf.json", node_types=known)
    assert str(refused.value) == (
        "wf.json, line 15: node 'work' (nodes[1]), config.processor_type: expected text, found the number 7"
    )
    # the same file with the names only (no schema known) reads
    assert read_workflow_file(json.dumps(doc), source="wf.json", node_types={"DATA_PROCESSOR"}).graph


@pytest.mark.parametrize("node_type", sorted(BUILTIN_DESCRIPTORS))
def test_every_builtin_descriptor_is_complete(node_type):
    d = BUILTIN_DESCRIPTORS[node_type]
    assert d.builtin and d.label and d.help and len(d.icon) == 1 and d.color.startswith("#")
    assert d.config_schema["type"] == "object"
    wrong = [text for _key, text in config_problems(node_type, d.new_config) if "needs" not in text]
    assert wrong == [], "a new node's config fits its own schema"
