"""TRANSFORM and SWITCH, run for real against the local test server (tests/support/http_server.py)."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.domain.node_config import rename_in_config
from flowdesk.domain.validation import locate_graph_problems, validate_graph
from flowdesk.engine.executor import WorkflowExecutor
from tests.support.graph_builder import graph, steps


def run(g, input_data):
    async def main():
        async with WorkflowExecutor(load_plugins=False) as executor:
            return await executor.execute_graph(g, input_data)

    return asyncio.run(main())


# -- TRANSFORM -----------------------------------------------------------------------------------


def transform_then_post(server_url: str, transform_config: dict):
    """START -> user (GET /users/{id}) -> shape (TRANSFORM) -> post (POST /anything, body = shape) -> END."""
    return graph(
        [
            ("start", "START"),
            ("user", "API_CALL", {"method": "GET", "url": f"{server_url}/users/{{{{input.user_id}}}}"}),
            ("shape", "TRANSFORM", transform_config),
            ("post", "API_CALL", {"method": "POST", "url": f"{server_url}/anything", "body": "{{shape}}"}),
            ("end", "END", {"output": "{{post.response.data.json}}"}),
        ],
        [("start", "user"), ("user", "shape"), ("shape", "post"), ("post", "end")],
    )


def test_transform_builds_an_object_that_the_next_call_sends(http_server):
    config = {
        "template": {
            "id": "{{user.response.data.id}}",
            "greeting": "Hello {{user.response.data.name}}",
            "tags": ["{{input.tag}}", "fixed"],
            "source": {"status": "{{user.response.status}}"},
        },
        "expressions": {"double_id": "user.response.data.id * 2", "vip": "input.tag == 'gold'"},
    }
    handle = run(transform_then_post(http_server.url, config), {"user_id": 4, "tag": "gold"})
    assert handle.status == "completed", handle.error_message
    built = {
        "id": 4,
        "greeting": "Hello User 4",
        "tags": ["gold", "fixed"],
        "source": {"status": 200},
        "double_id": 8,
        "vip": True,
    }
    assert steps(handle)["shape"]["output_data"] == built
    assert handle.output_data == built  # what the server received as the JSON body


def test_a_transform_expression_without_a_value_gives_null_and_a_warning(http_server):
    config = {"template": {"id": "{{user.response.data.id}}"}, "expressions": {"ratio": "1 / 0"}}
    handle = run(transform_then_post(http_server.url, config), {"user_id": 4})
    step = steps(handle)["shape"]
    assert (handle.status, step["status"]) == ("completed", "success")
    assert step["output_data"] == {"id": 4, "ratio": None}
    assert step["warnings"]


def test_a_transform_expression_over_a_limit_fails_the_step_in_one_sentence(http_server):
    config = {"template": {}, "expressions": {"ok": "input.s.matches(input.pattern)"}}
    g = transform_then_post(http_server.url, config)
    handle = run(g, {"user_id": 4, "s": "x", "pattern": "(a{100}){200}"})
    step = steps(handle)["shape"]
    assert (handle.status, step["status"], step["error_type"]) == ("failed", "failed", "expression")
    assert step["error_message"].startswith(
        "expressions.ok could not be evaluated: '.matches()': the pattern"
    )
    assert "post" not in steps(handle)


def test_a_transform_with_a_broken_expression_is_refused_before_anything_runs(http_server):
    from flowdesk.engine.errors import WorkflowInvalidError

    config = {"template": {}, "expressions": {"ok": "input.code.matches('(')"}}
    with pytest.raises(WorkflowInvalidError) as refused:
        run(transform_then_post(http_server.url, config), {"user_id": 4})
    assert str(refused.value).startswith(
        "workflow 'w' cannot run: 1 problem(s): node 'shape', config.expressions.ok, column "
    )


def test_transform_fields_are_validated_and_renamed_by_their_descriptor():
    g = graph(
        [
            ("start", "START"),
            (
                "shape",
                "TRANSFORM",
                {"template": {"a": "{{start.x"}, "expressions": {"b": "start.x +", "c": 3}},
            ),
            ("end", "END"),
        ],
        [("start", "shape"), ("shape", "end")],
    )
    found = [
        (f.placed().path, f.problem.message.split(":")[0])
        for f in locate_graph_problems(g)
        if f.problem.severity == "error"
    ]
    assert found == [
        ("nodes[1].config.expressions.b", "syntax error"),
        ("nodes[1].config.expressions.c", "expressions.c must be text (an expression), not a number"),
        ("nodes[1].config.template.a", "syntax error"),
    ]
    renamed = rename_in_config(
        "TRANSFORM", {"template": {"a": "{{start.x}}"}, "expressions": {"b": "start.x + 1"}}, "start", "begin"
    )
    assert renamed == {"template": {"a": "{{begin.x}}"}, "expressions": {"b": "begin.x + 1"}}
    empty = graph(
        [("start", "START"), ("shape", "TRANSFORM"), ("end", "END")], [("start", "shape"), ("shape", "end")]
    )
    assert [p.message for p in validate_graph(empty)] == [
        "a TRANSFORM needs a template or expressions; without them it builds an empty object"
    ]


# -- SWITCH --------------------------------------------------------------------------------------


def switch_on_status(server_url: str):
    """fetch (GET /status/{code}, 404 and 418 accepted) -> route (SWITCH): ok when 2xx, the first
    case, even though `exact_200` also holds for 200; missing on 404; anything else: default."""
    return graph(
        [
            ("start", "START"),
            (
                "fetch",
                "API_CALL",
                {
                    "method": "GET",
                    "url": f"{server_url}/status/{{{{input.code}}}}",
                    "accept_status": [404, 418],
                },
            ),
            ("route", "SWITCH"),
            ("ok", "DELAY", {"seconds": 0}),
            ("exact_200", "DELAY", {"seconds": 0}),
            ("missing", "DELAY", {"seconds": 0}),
            ("other", "DELAY", {"seconds": 0}),
            ("end", "END", {"output": {"route": "{{route}}"}}),
        ],
        [
            ("start", "fetch"),
            ("fetch", "route"),
            ("route", "ok", "CONDITIONAL", "fetch.response.status < 300"),
            ("route", "exact_200", "CONDITIONAL", "fetch.response.status == 200"),
            ("route", "missing", "CONDITIONAL", "fetch.response.status == 404"),
            ("route", "other", "SEQUENCE"),
            ("ok", "end"),
            ("exact_200", "end"),
            ("missing", "end"),
            ("other", "end"),
        ],
    )


@pytest.mark.parametrize(
    ("code", "taken", "route"),
    [
        (200, "ok", {"case": 0, "target": "ok", "default": False}),
        (404, "missing", {"case": 2, "target": "missing", "default": False}),
        (418, "other", {"case": None, "target": None, "default": True}),
    ],
)
def test_switch_takes_the_first_case_that_holds_else_its_default(http_server, code, taken, route):
    handle = run(switch_on_status(http_server.url), {"code": code})
    assert handle.status == "completed", handle.error_message
    rows = steps(handle)
    assert {name: rows[name]["status"] for name in ("ok", "exact_200", "missing", "other")} == {
        name: "success" if name == taken else "skipped" for name in ("ok", "exact_200", "missing", "other")
    }
    assert rows["route"]["output_data"] == route
    assert handle.output_data == {"route": route}


def test_a_switch_case_that_cannot_be_evaluated_fails_the_switch_naming_it():
    g = graph(
        [("start", "START"), ("route", "SWITCH"), ("a", "DELAY", {"seconds": 0}), ("end", "END")],
        [("start", "route"), ("route", "a", "CONDITIONAL", "input.s.matches(input.pattern)"), ("a", "end")],
    )
    handle = run(g, {"s": "x", "pattern": "(a{100}){200}"})  # over the pattern budget: read at run time
    step = steps(handle)["route"]
    assert (step["status"], step["error_type"]) == ("failed", "expression")
    assert step["error_message"].startswith("the case to 'a' could not be evaluated:")


def test_a_switch_without_cases_is_warned_about():
    g = graph(
        [("start", "START"), ("route", "SWITCH"), ("end", "END")], [("start", "route"), ("route", "end")]
    )
    assert [p.message for p in validate_graph(g)] == [
        "no way out when a case matches (add a CONDITIONAL connection)"
    ]
