"""One JSON path writer and one JSON type namer (flowdesk/domain/json_names.py) for the whole program."""

from __future__ import annotations

import json

import pytest

from flowdesk.domain import WorkflowGraph
from flowdesk.domain.json_names import json_kind, json_path, json_type
from flowdesk.domain.validation import locate_graph_problems
from flowdesk.interchange.api_import.schema_example import schema_type
from flowdesk.interchange.workflow_file import read_workflow_file


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("nodes", 2, "config", "condition"), "nodes[2].config.condition"),
        (("nodes", 0, "config", "output_mapping", "my key"), 'nodes[0].config.output_mapping["my key"]'),
        (("config", 'it\'s "quoted"'), 'config["it\'s \\"quoted\\""]'),
        (("输出", "名字"), "输出.名字"),
        (("a", "2x", "line\nbreak"), 'a["2x"]["line\\nbreak"]'),
        ((), ""),
        ((3,), "[3]"),
    ],
)
def test_json_path_dots_identifiers_and_quotes_the_rest_as_json(path, text):
    assert json_path(path) == text
    quoted = [p for p in path if isinstance(p, str) and not p.isidentifier()]
    for key in quoted:  # what stands in the brackets reads back as the key
        assert f"[{json.dumps(key, ensure_ascii=False)}]" in text


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "boolean"),
        (3, "integer"),
        (2.5, "number"),
        ([1], "array"),
        ({}, "object"),
        (None, "null"),
        ("x", "string"),
    ],
)
def test_json_type(value, kind):
    assert json_type(value) == kind


def test_validation_and_the_file_reader_write_an_unusual_key_the_same_way():
    document = {
        "flowdesk": 1,
        "workflow": {"name": "w"},
        "nodes": [
            {"name": "s", "node_type": "START"},
            {"name": "e", "node_type": "END", "config": {"output_mapping": {"my key": "s.x +"}}},
        ],
        "connections": [{"from": "s", "to": "e"}],
    }
    from flowdesk.domain.errors import FileFormatError

    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(json.dumps(document))
    from_file = [p for p in caught.value.problems if p.node == "e"]
    assert from_file and from_file[0].path == 'nodes[1].config.output_mapping["my key"]'

    graph = WorkflowGraph.model_validate(
        {
            "workflow": {"name": "w"},
            "nodes": document["nodes"],
            "connections": [{"from_node": "s", "to_node": "e"}],
        }
    )
    placed = [p.placed() for p in locate_graph_problems(graph) if p.problem.node == "e"]
    assert placed[0].path == from_file[0].path
    assert placed[0].key == 'output_mapping["my key"]'


def test_the_importer_names_a_const_null_null():
    assert schema_type({"const": None}) == "null" and schema_type({"enum": [1.5]}) == "number"


@pytest.mark.parametrize(
    ("value", "words"),
    [(None, "null"), (False, "a boolean"), (2, "a number"), (2.5, "a number"), ("x", "a string")]
    + [({}, "an object"), ([], "a list"), (b"x", "bytes")],
)
def test_json_kind_says_what_a_value_is_in_a_sentence(value, words):
    assert json_kind(value) == words


def test_a_runs_input_check_names_an_unusual_key_as_validation_does():
    from flowdesk.domain.errors import InvalidInputError
    from flowdesk.domain.workflow_inputs import apply_inputs

    config = {"inputs": {"type": "object", "properties": {"my key": {"type": "integer"}}}}
    with pytest.raises(InvalidInputError) as caught:
        apply_inputs(config, {"my key": "x"}, "w")
    assert "input '[\"my key\"]' does not fit" in str(caught.value)
    with pytest.raises(InvalidInputError, match="not a string"):
        apply_inputs(config, "x", "w")
