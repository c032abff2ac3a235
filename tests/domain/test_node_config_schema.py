"""Node config schemas: validation refuses a config field of the wrong type or out of range, at the
field, and the inspector's form offers exactly the range validation accepts."""

from __future__ import annotations

import json

import pytest

from flowdesk.domain.enums import BUILTIN_NODE_TYPES, Severity
from flowdesk.domain.errors import FileFormatError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.domain.node_config import CONFIG_SCHEMAS, config_problems
from flowdesk.domain.validation import validate_graph
from flowdesk.interchange.workflow_file import read_workflow_file


def _loop_graph(loop_config: dict) -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name="wf"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(name="L", node_type="LOOP", config={"condition": "loop.index < 3", **loop_config}),
            Node(name="body", node_type="DELAY", config={"seconds": 0}),
            Node(name="end", node_type="END"),
        ],
        connections=[
            Connection(from_node="start", to_node="L"),
            Connection(from_node="L", to_node="body", connection_type="LOOP"),
            Connection(from_node="L", to_node="end"),
        ],
    )


def _errors(graph: WorkflowGraph) -> list[str]:
    return [str(p) for p in validate_graph(graph) if p.severity == Severity.ERROR]


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("lots", 'the text "lots"'),
        (-1, "the number -1"),
        (0, "the number 0"),
        (2.5, "the number 2.5"),
        (True, "true"),
        (None, "null"),
        ([3], "a list"),
    ],
)
def test_loop_max_iterations_of_the_wrong_type_or_range_is_refused_at_its_field(value, found):
    assert _errors(_loop_graph({"max_iterations": value})) == [
        "node 'L', config.max_iterations: expected a whole number from 1 to 10,000,000 "
        f"(or a {{{{template}}}} giving one), found {found}"
    ]


@pytest.mark.parametrize("value", [1, 100, 10_000_000, 7.0, "{{input.n}}"])
def test_loop_max_iterations_in_range_or_a_template_passes(value):
    assert _errors(_loop_graph({"max_iterations": value})) == []


@pytest.mark.parametrize(
    ("node_type", "config", "key"),
    [
        ("PARALLEL", {"max_concurrent": -2}, "max_concurrent"),
        ("PARALLEL", {"max_concurrent": "many"}, "max_concurrent"),
        ("PARALLEL", {"wait_for_all": "yes"}, "wait_for_all"),
        ("DELAY", {"seconds": "soon"}, "seconds"),
        ("DELAY", {"seconds": -1}, "seconds"),
        ("LOOP", {"break_on_error": 1}, "break_on_error"),
        ("API_CALL", {"retry_count": -1}, "retry_count"),
        ("API_CALL", {"timeout": "long"}, "timeout"),
        ("API_CALL", {"api_id": "users"}, "api_id"),
        ("API_CALL", {"response_body_limit": -5}, "response_body_limit"),
        ("CONDITION", {"condition": "true", "true_path": 3}, None),  # reported by the path check
    ],
)
def test_every_typed_field_is_checked(node_type, config, key):
    found = config_problems(node_type, config, skip=("condition", "true_path", "false_path"))
    assert [k for k, _ in found] == ([key] if key else [])


def test_unknown_keys_and_custom_types_are_left_alone():
    assert config_problems("LOOP", {"note": object()}) == []
    assert config_problems("MY_PLUGIN", {"max_iterations": "lots"}) == []


def test_every_builtin_type_has_a_schema_and_every_default_passes_its_own_check():
    assert set(CONFIG_SCHEMAS) == set(BUILTIN_NODE_TYPES)
    for node_type, schema in CONFIG_SCHEMAS.items():
        defaults = {k: f["default"] for k, f in schema["properties"].items() if "default" in f}
        # a required field has no default: it is what the user must say (CONDITION's condition)
        wrong = [(key, text) for key, text in config_problems(node_type, defaults) if "needs" not in text]
        assert wrong == [], node_type


def test_a_file_with_a_bad_max_iterations_names_node_field_and_line():
    doc = {
        "flowdesk": 1,
        "workflow": {"name": "wf"},
        "nodes": [
            {"name": "开始", "node_type": "START"},
            {
                "name": "循环",
                "node_type": "LOOP",
                "config": {"condition": "loop.index < 2", "max_iterations": "lots"},
            },
            {"name": "等", "node_type": "DELAY", "config": {"seconds": 0}},
            {"name": "结束", "node_type": "END"},
        ],
        "connections": [
            {"from": "开始", "to": "循环"},
            {"from": "循环", "to": "等", "connection_type": "LOOP"},
            {"from": "循环", "to": "结束"},
        ],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(text, source="loop.json")
    line = next(i + 1 for i, s in enumerate(text.splitlines()) if '"lots"' in s)
    assert str(caught.value) == (
        f"loop.json, line {line}: node '循环' (nodes[1]), config.max_iterations: expected a whole number "
        'from 1 to 10,000,000 (or a {{template}} giving one), found the text "lots"'
    )
