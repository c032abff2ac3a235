"""The workflow file format: round trips, the canonical form, and located problems for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.domain.enums import Severity
from flowdesk.domain.errors import FileFormatError, InvalidInputError
from flowdesk.domain.models import ApiDefinition, Connection, Node, Workflow, WorkflowGraph
from flowdesk.interchange import export_redaction
from flowdesk.interchange.workflow_file import (
    FORMAT_VERSION,
    describe_problem,
    read_workflow_file,
    write_workflow_file,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))

# The document shown in the issue, as a person would type it (key order not canonical).
ISSUE_EXAMPLE = """{
  "flowdesk": 1,
  "workflow": {"name": "示例工作流", "description": "", "version": "1.0",
               "config": {"timeout": 300, "retry_count": 3}, "tags": ["demo"], "is_active": false},
  "nodes": [
    {"name": "开始", "node_type": "START", "config": {}, "position_x": 0, "position_y": 0, "description": ""},
    {"name": "获取用户", "node_type": "API_CALL", "config": {"api_id": 1, "parameters": {"user_id": "{{input.user_id}}"}},
     "position_x": 220, "position_y": 0, "description": ""},
    {"name": "结束", "node_type": "END", "config": {}, "position_x": 440, "position_y": 0, "description": ""}
  ],
  "connections": [
    {"from": "开始", "to": "获取用户", "connection_type": "SEQUENCE", "condition": null, "config": {}},
    {"from": "获取用户", "to": "结束", "connection_type": "SEQUENCE", "condition": null, "config": {}}
  ],
  "apis": [
    {"id": 1, "name": "get user", "method": "GET", "url": "{{input.base}}/users/{{params.user_id}}",
     "headers": {}, "query": {}, "body": null, "timeout": 30, "auth": null, "description": ""}
  ]
}
"""


def normalised(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def roundtrip(text: str | bytes) -> str:
    f = read_workflow_file(text)
    return write_workflow_file(f.graph, f.apis)


def errors_of(text: str | bytes, source: str = "wf.json") -> list[str]:
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(text, source=source)
    problems = caught.value.problems
    assert problems, "a FileFormatError must list its problems"
    for p in problems:
        assert p.path is not None or p.line is not None, f"unlocated problem: {p!r}"
    return [describe_problem(p, source) for p in problems if p.severity == Severity.ERROR]


def test_three_examples_ship():
    assert {p.name for p in EXAMPLE_FILES} >= {"conditional.json", "parallel.json", "loop.json"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_reexport_byte_for_byte(path):
    text = path.read_text(encoding="utf-8")
    f = read_workflow_file(path.read_bytes(), source=path.name)
    assert f.problems == []
    assert write_workflow_file(f.graph, f.apis) == text


def test_issue_example_round_trips_after_key_order_normalisation():
    out = roundtrip(ISSUE_EXAMPLE)
    assert normalised(out) == normalised(ISSUE_EXAMPLE)
    assert out.endswith("}\n")
    assert "示例工作流" in out  # ensure_ascii=False: names stay readable


def test_canonical_form_is_sorted_indented_and_stable():
    out = roundtrip(ISSUE_EXAMPLE)
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert roundtrip(out) == out


def _doc(**changes) -> dict:
    doc = json.loads(ISSUE_EXAMPLE)
    for key, value in changes.items():
        doc[key] = value
    return doc


def test_numbers_keep_their_kind():
    doc = _doc()
    doc["nodes"][1]["position_x"] = 220
    doc["nodes"][1]["position_y"] = 120.5
    doc["nodes"][1]["config"]["ratio"] = 1.0
    doc["nodes"][1]["config"]["count"] = 1
    doc["nodes"][1]["config"]["big"] = 12345678901234567890
    doc["nodes"][1]["config"]["tiny"] = 1e-300
    doc["apis"][0]["timeout"] = 2.5
    out = json.loads(roundtrip(json.dumps(doc)))
    node = out["nodes"][1]
    assert node["position_x"] == 220 and type(node["position_x"]) is int
    assert node["position_y"] == 120.5
    assert type(node["config"]["ratio"]) is float and type(node["config"]["count"]) is int
    assert node["config"]["big"] == 12345678901234567890
    assert node["config"]["tiny"] == 1e-300
    assert out["apis"][0]["timeout"] == 2.5
    assert out == doc


def test_unicode_tags_and_nested_config_survive_exactly():
    doc = _doc()
    doc["workflow"]["tags"] = ["demo", "日本語", "emoji 🚀", ""]
    doc["workflow"]["name"] = "Ünïcödé — 工作流 🚀"
    doc["nodes"][1]["name"] = "获取 用户 👤"
    doc["connections"][0]["to"] = doc["connections"][1]["from"] = "获取 用户 👤"
    doc["nodes"][1]["config"]["body"] = {
        "list": [1, "two", None, True, {"x": []}],
        "escape": 'a"b\\c\n\t\u0001',
    }
    doc["connections"][1]["config"] = {"label": "→"}
    out = roundtrip(json.dumps(doc, ensure_ascii=True))
    assert json.loads(out) == doc
    assert "🚀" in out


def test_api_ids_are_renumbered_in_order_of_first_use():
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="a", node_type="API_CALL", config={"api_id": 40}),
            Node(name="b", node_type="API_CALL", config={"api_id": 7}),
            Node(name="c", node_type="API_CALL", config={"api_id": 40}),
            Node(name="d", node_type="API_CALL", config={"url": "http://x"}),
        ],
    )
    apis = [ApiDefinition(id=i, name=f"api{i}", url=f"http://h/{i}") for i in (3, 7, 40)]
    doc = json.loads(write_workflow_file(graph, apis))
    assert [n["config"].get("api_id") for n in doc["nodes"]] == [1, 2, 1, None]
    assert [(a["id"], a["name"]) for a in doc["apis"]] == [(1, "api40"), (2, "api7")]
    assert graph.nodes[0].config["api_id"] == 40, "writing must not change the graph"


def test_no_apis_key_when_no_node_uses_an_api():
    graph = WorkflowGraph(workflow=Workflow(name="w"), nodes=[Node(name="s", node_type="START")])
    assert "apis" not in json.loads(write_workflow_file(graph, [ApiDefinition(id=1, name="x", url="u")]))


def test_api_optional_fields_are_written_only_when_set():
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="s", node_type="START"),
            Node(name="a", node_type="API_CALL", config={"api_id": 5}),
            Node(name="e", node_type="END"),
        ],
        connections=[Connection(from_node="s", to_node="a"), Connection(from_node="a", to_node="e")],
    )
    api = ApiDefinition(
        id=5,
        name="x",
        url="u",
        content_type="application/json",
        tags=["t"],
        parameters=[{"name": "user_id", "location": "path", "required": True}],
    )
    entry = json.loads(write_workflow_file(graph, [api]))["apis"][0]
    assert entry["content_type"] == "application/json" and entry["tags"] == ["t"]
    assert entry["parameters"][0]["name"] == "user_id"
    again = read_workflow_file(write_workflow_file(graph, [api]))
    assert again.apis[0].parameters[0].required is True


def test_writer_refuses_a_node_whose_api_is_missing():
    graph = WorkflowGraph(
        workflow=Workflow(name="w"), nodes=[Node(name="a", node_type="API_CALL", config={"api_id": 9})]
    )
    with pytest.raises(InvalidInputError, match="node 'a' uses API 9"):
        write_workflow_file(graph, [])


def test_every_export_passes_through_the_redaction_hook(monkeypatch):
    seen = []

    def mask_auth(doc):
        seen.append(doc)
        for api in doc.get("apis", []):
            if api.get("auth"):
                api["auth"] = {"type": api["auth"]["type"], "token": "***"}
        return doc

    monkeypatch.setattr(export_redaction, "_RULES", [])
    export_redaction.add_redaction_rule(mask_auth)
    graph = WorkflowGraph(
        workflow=Workflow(name="w"), nodes=[Node(name="a", node_type="API_CALL", config={"api_id": 1})]
    )
    api = ApiDefinition(id=1, name="x", url="u", auth={"type": "bearer", "token": "s3cret"})
    out = write_workflow_file(graph, [api])
    assert "s3cret" not in out and '"***"' in out
    assert len(seen) == 1
    assert api.auth == {"type": "bearer", "token": "s3cret"}, "the library's definition is untouched"


def test_warnings_do_not_block_import():
    doc = _doc()
    doc["nodes"][1]["positon_x"] = 5
    doc["nodes"].append({"name": "lost", "node_type": "DELAY", "config": {"seconds": 0}})
    f = read_workflow_file(json.dumps(doc, indent=1), source="w.json")
    lines = [describe_problem(p, "w.json") for p in f.problems]
    assert any("(nodes[1]), positon_x: unknown key, ignored (did you mean position_x?)" in x for x in lines)
    assert any("node 'lost' (nodes[3]): 'lost' cannot be reached from START" in x for x in lines)
    assert all(p.severity == Severity.WARNING and p.line for p in f.problems)


def test_format_version_constant():
    assert FORMAT_VERSION == 2  # format 2 carries sub-workflows (`workflows`)


# -- bad input: each gives its located problem --------------------------------------------------


def _pretty(doc) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def test_malformed_json_reports_line_and_column():
    text = '{\n  "flowdesk": 1,\n  "workflow": {"name": "x"}\n  "nodes": []\n}'
    assert errors_of(text, "workflow.json") == ["workflow.json, line 4, column 3: expected ',' or '}'"]


def test_missing_comma_in_a_list():
    assert errors_of('{"nodes": [1 2]}') == ["wf.json, line 1, column 14: expected ',' or ']'"]


def test_trailing_comma():
    assert errors_of('{"flowdesk": 1,\n}') == [
        "wf.json, line 2, column 1: expected a key in double quotes after ',' (a trailing comma is not allowed in JSON)"
    ]


def test_cut_short_document():
    assert errors_of('{"flowdesk": ') == [
        "wf.json, line 1, column 14: the document ends where a value was expected (is it cut short?)"
    ]


def test_empty_file():
    assert errors_of("") == [
        "wf.json, line 1, column 1: the document ends where a value was expected (is it cut short?)"
    ]


def test_not_utf8_reports_the_byte_offset():
    data = ISSUE_EXAMPLE.encode("utf-8").replace("示例工作流".encode(), b"caf\xe9")
    (message,) = errors_of(data)
    offset = data.index(b"\xe9")
    assert (
        message
        == f"wf.json, line 3: the file is not UTF-8 text: byte {offset} (0xe9) cannot be decoded; save it as UTF-8"
    )


def test_utf8_bom_is_accepted():
    assert read_workflow_file(b"\xef\xbb\xbf" + ISSUE_EXAMPLE.encode()).graph.workflow.name == "示例工作流"


def test_newer_format_is_refused_with_a_clear_message():
    doc = _doc(flowdesk=3, nodes="something from the future")
    assert errors_of(_pretty(doc)) == [
        "wf.json, line 2: flowdesk: written by a newer flowdesk (format 3); this version reads format 2"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"flowdesk": "1"},
            'flowdesk: expected the format version as a whole number (1), found the text "1"',
            id="version-text",
        ),
        pytest.param(
            {"flowdesk": 0}, "flowdesk: format 0 does not exist; this version reads format 2", id="version-0"
        ),
        pytest.param(
            {"workflow": []},
            "workflow: expected an object with the workflow's name and settings, found a list",
            id="workflow-list",
        ),
        pytest.param({"nodes": {}}, "nodes: expected a list of nodes, found an object", id="nodes-object"),
        pytest.param(
            {"connections": None},
            "connections: expected a list of connections, found null",
            id="connections-null",
        ),
        pytest.param(
            {"apis": 3}, "apis: expected a list of API definitions, found the number 3", id="apis-number"
        ),
    ],
)
def test_top_level_type_errors(change, expected):
    messages = errors_of(_pretty(_doc(**change)))
    assert expected in [m.split(": ", 1)[1] for m in messages]
    assert all(m.startswith("wf.json, line ") for m in messages)


def test_missing_parts():
    doc = _doc()
    del doc["flowdesk"], doc["workflow"]["name"], doc["nodes"][1]["node_type"], doc["connections"][0]["to"]
    messages = errors_of(_pretty(doc))
    bodies = [m.split(": ", 1)[1] for m in messages]
    assert (
        'flowdesk: missing; a flowdesk workflow file starts with the format version, "flowdesk": 1' in bodies
    )
    assert "workflow.name: missing; expected text: the workflow's name" in bodies
    assert (
        "node '获取用户' (nodes[1]), node_type: missing; expected text: the node type, such as API_CALL"
        in bodies
    )
    assert "connections[0].to: missing; expected text: the name of the node it enters" in bodies


def test_wrong_types_say_what_was_expected():
    doc = _doc()
    doc["workflow"]["tags"] = "demo"
    doc["workflow"]["is_active"] = "yes"
    doc["nodes"][0]["position_x"] = "left"
    doc["nodes"][0]["config"] = []
    doc["connections"][1]["condition"] = 5
    doc["apis"][0]["headers"] = {"X": 1}
    doc["apis"][0]["timeout"] = -1
    bodies = [m.split(": ", 1)[1] for m in errors_of(_pretty(doc))]
    assert bodies == [
        'workflow.tags: expected a list of text, found the text "demo"',
        'workflow.is_active: expected true or false, found the text "yes"',
        "node '开始' (nodes[0]), config: expected an object, found a list",
        "node '开始' (nodes[0]), position_x: expected a number, found the text \"left\"",
        "connections[1].condition: expected text or null, found the number 5",
        "apis[0].headers: expected an object of text values, found an object",
        "apis[0].timeout: -1 seconds is not a usable timeout (0 < timeout <= 86400)",
    ]


def test_issue_examples_of_located_problems():
    doc = _doc()
    doc["nodes"].insert(
        2,
        {
            "name": "调用",
            "node_type": "API_CAL",
            "config": {},
            "position_x": 0,
            "position_y": 0,
            "description": "",
        },
    )
    doc["nodes"][1]["config"]["api_id"] = 7
    doc["nodes"][3]["name"] = "End"
    doc["connections"] = [
        {"from": "开始", "to": "Ende"},
        {"from": "开始", "to": "End"},
        {"from": "开始", "to": "调用"},
        {"from": "开始", "to": "获取用户"},
    ]
    text = _pretty(doc)
    messages = errors_of(text)
    lines = text.splitlines()

    def line_of(needle: str, occurrence: int = 0) -> int:
        hits = [i + 1 for i, line in enumerate(lines) if needle in line]
        return hits[occurrence]

    api_line, type_line, to_line = line_of('"api_id": 7'), line_of('"API_CAL"'), line_of('"Ende"')
    assert messages == [
        f"wf.json, line {api_line}: node '获取用户' (nodes[1]), config.api_id: 7 does not match any apis[].id in this file",
        f"wf.json, line {type_line}: node '调用' (nodes[2]), node_type: 'API_CAL' is not a node type (did you mean API_CALL?)",
        f"wf.json, line {to_line}: connections[0].to: no node named 'Ende' (did you mean 'End'?)",
    ]


def test_duplicate_api_ids_and_bad_methods():
    doc = _doc()
    doc["apis"].append(dict(doc["apis"][0], method="GRT"))
    bodies = [m.split(": ", 1)[1] for m in errors_of(_pretty(doc))]
    assert bodies == [
        "apis[1].id: apis[0] already has the id 1",
        "apis[1].method: 'GRT' is not an HTTP method (did you mean GET?)",
    ]


def test_bad_api_parameters_are_located():
    doc = _doc()
    doc["apis"][0]["parameters"] = [{"name": "x"}, {"location": "path"}]
    (message,) = errors_of(_pretty(doc))
    assert "apis[0].parameters[1].name: field required" in message


def test_bad_connection_type_suggests():
    doc = _doc()
    doc["connections"][0]["connection_type"] = "SEQUENCES"
    (message,) = errors_of(_pretty(doc))
    assert message.endswith(
        "connections[0].connection_type: 'SEQUENCES' is not a connection type (did you mean SEQUENCE?)"
    )


def test_graph_errors_are_included_with_paths():
    doc = _doc()
    doc["nodes"][2]["node_type"] = "DELAY"  # no END any more
    doc["connections"].append({"from": "获取用户", "to": "获取用户"})
    bodies = [m.split(": ", 1)[1] for m in errors_of(_pretty(doc))]
    assert "connections[2].to: '获取用户' is connected to itself" in bodies
    assert "nodes: the workflow has no END node; add one where the run finishes" in bodies


def test_expression_syntax_errors_are_located_at_their_key():
    doc = _doc()
    doc["nodes"][1]["config"]["parameters"]["user_id"] = "{{input.user_id"
    text = _pretty(doc)
    (message,) = errors_of(text)
    line = next(i + 1 for i, s in enumerate(text.splitlines()) if '{{input.user_id"' in s)
    assert message.startswith(
        f"wf.json, line {line}: node '获取用户' (nodes[1]), config.parameters.user_id, column 16: syntax error: "
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '{"flowdesk": NaN}',
            "wf.json, line 1, column 14: NaN is not a number JSON allows (numbers must be finite)",
            id="nan",
        ),
        pytest.param(
            '{"flowdesk": 1,\n "x": -Infinity}',
            "wf.json, line 2, column 7: -Infinity is not a number JSON allows (numbers must be finite)",
            id="inf",
        ),
        pytest.param(
            '{"a": "1e400",\n "flowdesk": 1e400}',
            "wf.json, line 2, column 14: 1e400 is not a number JSON allows (numbers must be finite)",
            id="overflow",
        ),
        pytest.param(
            '{"a": "\\\\ud800",\n "b": "\\ud800x"}',
            "wf.json, line 2, column 8: \\ud800 is half of a UTF-16 surrogate pair, not a character",
            id="lone-surrogate",
        ),
        pytest.param(
            "[1, 2]",
            'wf.json, line 1, column 1: expected a JSON object with "flowdesk", "workflow" and "nodes", found a list',
            id="top-level-list",
        ),
    ],
)
def test_values_json_cannot_carry(text, expected):
    assert errors_of(text) == [expected]


def test_surrogate_pairs_are_fine():
    doc = _doc()
    doc["workflow"]["name"] = "rocket 🚀"
    assert read_workflow_file(json.dumps(doc, ensure_ascii=True)).graph.workflow.name == "rocket 🚀"


def test_the_error_message_is_one_sentence_naming_the_first_problem_and_the_count():
    doc = _doc()
    doc["nodes"][0]["position_x"] = "a"
    doc["nodes"][0]["position_y"] = "b"
    with pytest.raises(FileFormatError) as caught:
        read_workflow_file(_pretty(doc), source="w.json")
    message = str(caught.value)
    assert message.startswith("w.json, line ") and message.endswith("(and 1 more problem)")
    assert "\n" not in message
