"""ASSERT, run for real against the local test server: expressions, {"that", "message"} items, a
JSON Schema, readable diffs, the run log's summary, validation, and `flowdesk run --junit`."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET

from flowdesk.domain.node_config import rename_in_config
from flowdesk.domain.validation import locate_graph_problems, validate_graph
from flowdesk.engine.executor import WorkflowExecutor
from tests.support.cli_running import flowdesk_process
from tests.support.graph_builder import graph, steps

USER_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "email"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"}},
}


def checked_user(server_url: str, assert_config: dict, user_id: int = 4):
    return graph(
        [
            ("start", "START"),
            ("get", "API_CALL", {"method": "GET", "url": f"{server_url}/users/{user_id}"}),
            ("check", "ASSERT", assert_config),
            ("end", "END", {"output": {"checked": "{{check.passed}}"}}),
        ],
        [("start", "get"), ("get", "check"), ("check", "end")],
    )


def run(g, input_data=None, events=None):
    async def main():
        async with WorkflowExecutor(load_plugins=False) as executor:
            if events is not None:
                executor.subscribe(events.append)
            return await executor.execute_graph(g, input_data or {})

    return asyncio.run(main())


def test_passing_checks_complete_the_run_and_are_counted(http_server):
    config = {
        "assertions": [
            "response.status == 200",
            {"that": "get.response.data.name == 'User 4'", "message": "the user is User 4"},
        ],
        "schema": USER_SCHEMA,
    }
    events: list = []
    handle = run(checked_user(http_server.url, config), events=events)
    assert handle.status == "completed", handle.error_message
    output = steps(handle)["check"]["output_data"]
    assert (output["passed"], output["failed"]) == (3, 0)
    assert [r["message"] for r in output["results"]] == [
        "response.status == 200",
        "the user is User 4",
        "the value matches the schema",
    ]
    logged = [e.message for e in events if e.kind == "log" and e.step_name == "check"]
    assert "assertions: 3 passed, 0 failed" in logged
    assert handle.output_data == {"checked": 3}


def test_failing_checks_fail_the_step_with_readable_diffs(http_server):
    config = {
        "assertions": [
            "response.status == 200",
            {"that": "get.response.data.name == 'User 5'", "message": "the name is User 5"},
            "get.response.data.age > 30",
            "get.response.data.tags == ['admin']",
        ],
        "schema": {**USER_SCHEMA, "properties": {**USER_SCHEMA["properties"], "id": {"type": "string"}}},
    }
    handle = run(checked_user(http_server.url, config))
    step = steps(handle)["check"]
    assert (handle.status, step["status"], step["error_type"]) == ("failed", "failed", "assertion")
    assert step["error_message"] == (
        'assertion failed: the name is User 5: expected "User 5", found "User 4" (and 3 more)'
    )
    results = step["output_data"]["results"]
    assert [(r["passed"], r.get("diff")) for r in results] == [
        (True, None),
        (False, 'expected "User 5", found "User 4"'),
        (False, "get.response.data.age is 22, wanted > 30"),
        (False, '--- expected\n+++ found\n@@ -1,3 +1 @@\n-[\n-  "admin"\n-]\n+[]'),
        (False, "value.id: 4 is not of type 'string'"),
    ]
    assert step["output_data"]["failed"] == 4


def test_the_schema_checks_the_value_template_when_given(http_server):
    config = {
        "schema": {"type": "array", "items": {"type": "integer"}},
        "value": "{{get.response.data.tags}}",
    }
    assert run(checked_user(http_server.url, config)).status == "completed"
    config["value"] = "{{get.response.data.email}}"
    step = steps(run(checked_user(http_server.url, config)))["check"]
    assert step["output_data"]["results"][0]["diff"] == "value: 'user4@example.com' is not of type 'array'"


def test_a_schema_that_is_not_json_schema_fails_the_step_in_one_sentence(http_server):
    step = steps(run(checked_user(http_server.url, {"schema": {"type": "whole"}})))["check"]
    assert (step["status"], step["error_type"]) == ("failed", "expression")
    assert step["error_message"].startswith("the schema is not a JSON Schema: ")
    assert "\n" not in step["error_message"]


def test_assertions_are_validated_located_and_renamed():
    g = checked_user("http://127.0.0.1:1", {"assertions": ["get.response.status ==", {"that": "x >"}, 3]})
    found = [
        (f.placed().path, f.problem.message.split(":")[0])
        for f in locate_graph_problems(g)
        if f.problem.severity == "error"
    ]
    assert found == [
        ("nodes[2].config.assertions", "[2]"),
        ("nodes[2].config.assertions[0]", "syntax error"),
        ("nodes[2].config.assertions[1].that", "syntax error"),
    ]
    renamed = rename_in_config(
        "ASSERT", {"assertions": ["get.x == 1", {"that": "get.y", "message": "get.y"}]}, "get", "fetch"
    )
    assert renamed == {"assertions": ["fetch.x == 1", {"that": "fetch.y", "message": "get.y"}]}
    empty = checked_user("http://127.0.0.1:1", {})
    assert [p.message for p in validate_graph(empty)] == [
        "an ASSERT needs assertions or a schema; without them it checks nothing"
    ]


def test_flowdesk_run_junit_writes_the_checks_as_junit_xml(http_server, tmp_path):
    doc = {
        "flowdesk": 1,
        "workflow": {"name": "user api"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "get", "node_type": "API_CALL", "config": {"url": f"{http_server.url}/users/4"}},
            {
                "name": "check",
                "node_type": "ASSERT",
                "config": {
                    "assertions": [
                        "response.status == 200",
                        {"that": "get.response.data.age == 23", "message": "age is 23"},
                    ]
                },
            },
            {"name": "end", "node_type": "END"},
        ],
        "connections": [
            {"from": "start", "to": "get"},
            {"from": "get", "to": "check"},
            {"from": "check", "to": "end"},
        ],
    }
    wf = tmp_path / "api-test.json"
    wf.write_text(json.dumps(doc), encoding="utf-8")
    report = tmp_path / "junit.xml"
    result = flowdesk_process("run", str(wf), "--db", str(tmp_path / "t.db"), "--junit", str(report))
    assert result.returncode == 1
    assert "assertion failed: age is 23: expected 23, found 22" in result.stdout
    assert result.stdout.splitlines()[-1] == "Assertions: 1 passed, 1 failed."
    suite = ET.fromstring(report.read_text("utf-8"))
    assert (suite.tag, suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "testsuite",
        "user api",
        "3",
        "1",
    )
    cases = [(c.get("classname"), c.get("name"), c.find("failure")) for c in suite]
    assert [(cls, name) for cls, name, _ in cases] == [
        ("check", "response.status == 200"),
        ("check", "age is 23"),
        ("user api", "execution completes"),
    ]
    assert cases[0][2] is None and cases[2][2] is None  # the run failed because of the assertion
    assert cases[1][2].text == "expected 23, found 22"

    unwritable = tmp_path / "no-such-folder" / "junit.xml"
    result = flowdesk_process("run", str(wf), "--db", str(tmp_path / "t.db"), "--junit", str(unwritable))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"flowdesk: cannot write the JUnit file {unwritable}:")
    )
    assert not unwritable.parent.exists()
