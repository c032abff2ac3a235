"""Declared workflow inputs (`workflow.config.inputs`): defaults, required ones, the object rule,
located problems of a malformed declaration, and the declaration proposed from references."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.domain.validation import locate_graph_problems
from flowdesk.domain.workflow_inputs import (
    apply_inputs,
    input_fields,
    inputs_schema_problems,
    propose_inputs,
)
from flowdesk.interchange.workflow_file import read_workflow_file

SCHEMA = {
    "type": "object",
    "properties": {
        "base_url": {"type": "string", "default": "http://127.0.0.1:8765", "description": "the server"},
        "user_ids": {"type": "array", "items": {"type": "integer"}},
        "token": {"type": "string"},
    },
    "required": ["base_url", "user_ids"],
}
CONFIG = {"inputs": SCHEMA}


def test_defaults_fill_missing_inputs_and_given_values_win():
    assert apply_inputs(CONFIG, {"user_ids": [1]}, "W") == {
        "base_url": "http://127.0.0.1:8765",
        "user_ids": [1],
    }
    given_url = {"base_url": "http://127.0.0.1:1", "user_ids": []}
    assert apply_inputs(CONFIG, given_url, "W") == given_url


def test_a_missing_required_input_is_one_sentence_naming_the_workflow():
    with pytest.raises(InvalidInputError) as err:
        apply_inputs(CONFIG, None, "Loop over users")
    assert str(err.value) == "input 'user_ids' is required (declared in workflow 'Loop over users')"


def test_a_value_that_does_not_fit_says_which_input():
    with pytest.raises(InvalidInputError) as err:
        apply_inputs(CONFIG, {"user_ids": [1, "two"]}, "W")
    assert str(err.value).startswith("input 'user_ids[1]' does not fit its declaration in workflow 'W': ")
    assert "'two' is not of type 'integer'" in str(err.value)


@pytest.mark.parametrize(
    "value, kind", [([1, 2], "a list"), ("x", "a string"), (3, "a number"), (True, "a boolean")]
)
def test_input_that_is_not_an_object_is_refused_declared_or_not(value, kind):
    for config in (CONFIG, {}):
        with pytest.raises(InvalidInputError) as err:
            apply_inputs(config, value, "W")
        assert str(err.value).endswith(f", not {kind}.")
        assert "\n" not in str(err.value)


def test_without_a_declaration_the_input_passes_through():
    assert apply_inputs({}, None, "W") is None
    assert apply_inputs(None, {"a": 1}, "W") == {"a": 1}


def test_defaults_are_copies():
    config = {"inputs": {"type": "object", "properties": {"ids": {"type": "array", "default": [1]}}}}
    first = apply_inputs(config, None, "W")
    first["ids"].append(2)
    assert apply_inputs(config, None, "W") == {"ids": [1]}


@given(
    st.dictionaries(st.sampled_from(["base_url", "user_ids", "token", "other"]), st.integers() | st.text())
)
def test_applied_input_always_satisfies_the_schema_or_is_refused(data):
    from jsonschema import Draft202012Validator

    try:
        out = apply_inputs(CONFIG, data, "W")
    except InvalidInputError as err:
        assert "\n" not in str(err)
        return
    assert Draft202012Validator(SCHEMA).is_valid(out)
    assert {k: v for k, v in out.items() if k in data} == data


@pytest.mark.parametrize(
    "schema, path, words",
    [
        ([1], (), "found a list"),
        ({"type": "array"}, ("type",), 'must be "object"'),
        (
            {"type": "object", "properties": {"a": {"type": "strng"}}},
            ("properties", "a", "type"),
            "'strng' is not",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "default": 3}}},
            ("properties", "a", "default"),
            "3 is not of type 'string'",
        ),
        ({"type": "object", "required": "a"}, ("required",), "not a valid JSON Schema"),
    ],
)
def test_a_malformed_declaration_is_located(schema, path, words):
    problems = inputs_schema_problems(schema)
    assert len(problems) == 1
    assert problems[0][0] == path and words in problems[0][1]


def test_a_file_with_a_malformed_declaration_names_the_line_and_path():
    document = {
        "flowdesk": 1,
        "workflow": {
            "name": "w",
            "config": {"inputs": {"type": "object", "properties": {"a": {"type": "strng"}}}},
        },
        "nodes": [{"name": "start", "node_type": "START"}, {"name": "end", "node_type": "END"}],
        "connections": [{"from": "start", "to": "end"}],
    }
    from flowdesk.domain.errors import FileFormatError

    with pytest.raises(FileFormatError) as err:
        read_workflow_file(json.dumps(document, indent=2), source="w.json")
    problem = err.value.problems[0]
    assert problem.path == "workflow.config.inputs.properties.a.type"
    assert problem.line == 10
    assert "'strng' is not a JSON Schema type" in problem.message


def test_validation_of_a_graph_reports_the_declaration():
    graph = WorkflowGraph(
        workflow=Workflow(name="w", config={"inputs": {"type": "array"}}),
        nodes=[Node(name="start", node_type="START"), Node(name="end", node_type="END")],
        connections=[Connection(from_node="start", to_node="end")],
    )
    found = locate_graph_problems(graph)
    assert [f.path for f in found] == [("workflow", "config", "inputs", "type")]


def test_fields_of_a_declaration_in_order_with_required_and_defaults():
    fields = input_fields(SCHEMA)
    assert [(f.name, f.type, f.required, f.has_default) for f in fields] == [
        ("base_url", "string", True, True),
        ("user_ids", "array", True, False),
        ("token", "string", False, False),
    ]
    assert fields[0].description == "the server"


def test_a_declaration_is_proposed_from_the_references():
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(name="each", node_type="LOOP", config={"items": "{{input.user_ids}}"}),
            Node(
                name="call",
                node_type="API_CALL",
                config={
                    "url": "{{input.base_url}}/users/{{loop.item}}",
                    "headers": {"X-Who": "{{input.user.name}}"},
                },
            ),
            Node(name="wait", node_type="DELAY", config={"seconds": "{{input.pause}}"}),
            Node(name="end", node_type="END", config={"output": {"raw": "{{input.anything}}"}}),
        ],
        connections=[
            Connection(from_node="start", to_node="each"),
            Connection(
                from_node="each", to_node="end", connection_type="CONDITIONAL", condition="input.flag == true"
            ),
        ],
    )
    proposal = propose_inputs(graph)
    assert proposal == {
        "type": "object",
        "properties": {
            "user_ids": {"type": "array"},
            "base_url": {"type": "string"},
            "user": {"type": "object"},
            "pause": {"type": "number"},
            "anything": {},
            "flag": {},
        },
    }
    assert inputs_schema_problems(proposal) == []
