"""Bad input that used to end in "unexpected error" or pass silently: each gets a located problem."""

from __future__ import annotations

import json

import pytest

from flowdesk.domain.enums import Severity
from flowdesk.domain.errors import FileFormatError
from flowdesk.interchange.workflow_file import describe_problem, read_workflow_file


def _doc() -> dict:
    return {
        "flowdesk": 1,
        "workflow": {"name": "wf"},
        "nodes": [
            {"name": "开始", "node_type": "START", "config": {}},
            {"name": "判断", "node_type": "CONDITION", "config": {"condition": "{{input.x}} > 1"}},
            {"name": "结束", "node_type": "END", "config": {}},
        ],
        "connections": [
            {"from": "开始", "to": "判断"},
            {"from": "判断", "to": "结束", "connection_type": "CONDITIONAL_TRUE"},
            {"from": "判断", "to": "结束", "connection_type": "CONDITIONAL_FALSE"},
        ],
    }


def _line_of(text: str, needle: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if needle in line)


def test_an_integer_too_long_to_convert_is_a_located_problem():
    text = json.dumps(_doc(), indent=2, ensure_ascii=False)
    huge = "9" * 5000
    text = text.replace('"config": {}', '"config": {"big": ' + huge + "}", 1)
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(text, source="wf.json")
    (problem,) = caught.value.problems
    line = _line_of(text, huge[:50])
    column = text.splitlines()[line - 1].index(huge[:50]) + 1
    assert (problem.line, problem.column, problem.path) == (line, column, "nodes[0].config.big")
    message = str(caught.value)
    assert message.startswith(
        f"wf.json, line {line}, column {column}: nodes[0].config.big: a whole number of 5,000 digits"
    )
    assert "write it in double quotes" in message
    assert "ValueError" not in message and len(message) < 300


def test_a_long_integer_in_quotes_is_kept_as_text():
    doc = _doc()
    doc["nodes"][0]["config"]["big"] = "9" * 5000
    graph = read_workflow_file(json.dumps(doc), source="wf.json").graph
    assert graph.nodes[0].config["big"] == "9" * 5000


def test_a_repeated_key_is_a_located_warning_and_the_last_one_wins():
    text = json.dumps(_doc(), indent=2, ensure_ascii=False)
    text = text.replace(
        '"condition": "{{input.x}} > 1"',
        '"condition": "{{input.x}} > 1",\n        "condition": "{{input.x}} > 2"',
    )
    result = read_workflow_file(text, source="wf.json")
    assert result.graph.nodes[1].config["condition"] == "{{input.x}} > 2"
    (warning,) = [p for p in result.problems if "given twice" in p.message]
    assert warning.severity == Severity.WARNING
    first, again = _line_of(text, "> 1"), _line_of(text, "> 2")
    assert warning.line == again
    assert describe_problem(warning, "wf.json") == (
        f"wf.json, line {again}: warning: node '判断' (nodes[1]), config.condition: "
        f'the key "condition" is given twice in this object (first on line {first}); the last one is used'
    )


def test_repeated_keys_at_the_top_and_in_lists_are_each_reported():
    text = json.dumps(_doc(), indent=2, ensure_ascii=False)
    text = text.replace('"flowdesk": 1', '"flowdesk": 1, "flowdesk": 1', 1)
    text = text.replace('"from": "开始"', '"from": "x", "from": "开始"', 1)
    warnings = [p for p in read_workflow_file(text).problems if "given twice" in p.message]
    assert sorted(p.path for p in warnings) == ["connections[0].from", "flowdesk"]


def test_the_same_key_in_sibling_objects_is_not_a_repeat():
    result = read_workflow_file(json.dumps(_doc()))
    assert not [p for p in result.problems if "given twice" in p.message]


def test_a_broken_condition_names_the_node_as_the_canvas_shows_it():
    doc = _doc()
    doc["nodes"][1]["config"]["condition"] = "{{input.x}} >= = 3"
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(text, source="bad.json")
    line = _line_of(text, ">= = 3")
    assert str(caught.value) == (
        f"bad.json, line {line}: node '判断' (nodes[1]), config.condition, column 16: "
        "syntax error: '=' is not an operator; use '==' to compare"
    )


def test_an_api_with_an_empty_name_or_url_is_a_located_problem():
    # Found by the import fuzz in CI: the file was read, then the API library refused the API mid-import.
    document = {
        "flowdesk": 1,
        "workflow": {"name": "w"},
        "nodes": [{"name": "s", "node_type": "START"}, {"name": "e", "node_type": "END"}],
        "connections": [{"from": "s", "to": "e"}],
        "apis": [{"id": 1, "name": " ", "method": "GET", "url": ""}],
    }
    with pytest.raises(FileFormatError) as info:
        read_workflow_file(json.dumps(document))
    paths = {p.path for p in info.value.problems}
    assert {"apis[0].name", "apis[0].url"} <= paths
