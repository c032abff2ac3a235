"""Connection resolution: taken/dead, joins, dead-path elimination, ERROR routing, failures."""

from __future__ import annotations

import asyncio

from tests.support.graph_builder import executor, graph, order, run_graph, steps


def test_diamond_after_a_condition_joins_once_after_the_taken_branch():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "input.left"}),
            ("l", "ECHO", {"value": "L"}),
            ("r", "ECHO", {"value": "R"}),
            ("join", "ECHO", {"value": "{{l.value}}{{r.value}}"}),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "l", "CONDITIONAL_TRUE"),
            ("c", "r", "CONDITIONAL_FALSE"),
            ("l", "join"),
            ("r", "join"),
            ("join", "e"),
        ],
    )
    h = run_graph(g, {"left": True})
    names = [n for n, _ in order(h)]
    assert names.count("join") == 1
    assert steps(h)["join"]["output_data"] == {"value": "L"}
    assert names.index("join") > names.index("l")
    assert steps(h)["join"]["warnings"] == [] or all("r" in w for w in steps(h)["join"]["warnings"])


def test_skipping_propagates_down_a_dead_path_and_is_logged():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "false"}),
            ("a", "ECHO", {"value": 1}),
            ("b", "ECHO", {"value": 2}),
            ("b2", "ECHO", {"value": 3}),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "a", "CONDITIONAL_TRUE"),
            ("a", "b"),
            ("b", "b2"),
            ("c", "e", "CONDITIONAL_FALSE"),
        ],
    )
    h = run_graph(g)
    assert h.status == "completed"
    st = steps(h)
    assert [st[n]["status"] for n in ("a", "b", "b2")] == ["skipped"] * 3
    assert st["e"]["status"] == "success"


def test_a_node_with_every_input_dead_is_skipped_even_after_a_join():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "false"}),
            ("a", "ECHO"),
            ("b", "ECHO"),
            ("j", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "a", "CONDITIONAL_TRUE"),
            ("c", "b", "CONDITIONAL_TRUE"),
            ("a", "j"),
            ("b", "j"),
            ("c", "e"),
        ],
    )
    h = run_graph(g)
    assert steps(h)["j"]["status"] == "skipped"
    assert steps(h)["e"]["status"] == "success"  # SEQUENCE out of a CONDITION is always taken


def test_conditional_connections_are_each_evaluated_on_the_source_output():
    g = graph(
        [
            ("s", "START"),
            ("x", "ECHO", {"value": "{{input.n}}"}),
            ("big", "ECHO"),
            ("odd", "ECHO"),
            ("neg", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "x"),
            ("x", "big", "CONDITIONAL", "x.value > 10"),
            ("x", "odd", "CONDITIONAL", "{{x.value}} % 2 == 1"),
            ("x", "neg", "CONDITIONAL", "x.value < 0"),
            ("big", "e"),
            ("odd", "e"),
            ("neg", "e"),
        ],
    )
    h = run_graph(g, {"n": 13})
    st = steps(h)
    assert (st["big"]["status"], st["odd"]["status"], st["neg"]["status"]) == (
        "success",
        "success",
        "skipped",
    )
    assert st["e"]["status"] == "success"


def test_conditional_connection_sees_this_nodes_response():
    async def api(ctx):
        return {"response": {"status": 201, "data": {"ok": True}}}

    g = graph(
        [("s", "START"), ("call", "API_LIKE"), ("created", "ECHO"), ("other", "ECHO"), ("e", "END")],
        [
            ("s", "call"),
            ("call", "created", "CONDITIONAL", "{{response.status}} == 200 or {{response.status}} == 201"),
            ("call", "other", "CONDITIONAL", "{{response.status}} == 500"),
            ("created", "e"),
            ("other", "e"),
        ],
    )

    async def main():
        ex = executor()
        ex.register_node_handler("API_LIKE", api)
        return await ex.execute_graph(g)

    h = asyncio.run(main())
    assert steps(h)["created"]["status"] == "success"
    assert steps(h)["other"]["status"] == "skipped"


def test_error_connection_handles_a_failure_and_the_run_goes_on():
    g = graph(
        [
            ("s", "START"),
            ("bad", "FAIL", {"message": "upstream down", "error_type": "http_5xx"}),
            ("ok_path", "ECHO"),
            ("handler", "ECHO", {"value": "{{bad.error}}|{{bad.error_type}}"}),
            ("e", "END"),
        ],
        [("s", "bad"), ("bad", "ok_path"), ("bad", "handler", "ERROR"), ("ok_path", "e"), ("handler", "e")],
    )
    h = run_graph(g)
    st = steps(h)
    assert h.status == "completed"
    assert st["bad"]["status"] == "failed" and st["bad"]["error_type"] == "http_5xx"
    assert st["ok_path"]["status"] == "skipped"
    assert st["handler"]["output_data"] == {"value": "upstream down|http_5xx"}


def test_error_connection_is_dead_when_the_source_succeeds():
    g = graph(
        [("s", "START"), ("good", "ECHO"), ("handler", "ECHO"), ("e", "END")],
        [("s", "good"), ("good", "handler", "ERROR"), ("good", "e")],
    )
    h = run_graph(g)
    assert steps(h)["handler"]["status"] == "skipped"


def test_unhandled_failure_fails_the_run_cancels_running_nodes_and_starts_nothing_new():
    g = graph(
        [
            ("s", "START"),
            ("slow", "DELAY", {"seconds": 3600}),
            ("bad", "FAIL", {"message": "kaput"}),
            ("after_bad", "ECHO"),
            ("e", "END"),
        ],
        [("s", "slow"), ("s", "bad"), ("bad", "after_bad"), ("slow", "e"), ("after_bad", "e")],
    )
    h = run_graph(g)
    st = steps(h)
    assert h.status == "failed"
    assert h.error_message == "bad: kaput"
    assert st["slow"]["status"] == "cancelled"
    assert st["slow"]["execution_time"] < 3600  # cut short, not run to its end
    assert "e" not in st
    assert "after_bad" not in st  # nothing after an unhandled failure runs or is logged


def test_unknown_reference_is_a_warning_in_the_step_not_an_error():
    g = graph(
        [("s", "START"), ("x", "ECHO", {"value": "{{input.missing.deep}}"}), ("e", "END")],
        [("s", "x"), ("x", "e")],
    )
    h = run_graph(g, {})
    assert h.status == "completed"
    assert steps(h)["x"]["output_data"] == {"value": None}
    assert steps(h)["x"]["warnings"], "an unresolved reference is noted in the step"


def test_a_handler_that_raises_an_unexpected_exception_fails_its_node_only():
    async def buggy(ctx):
        raise KeyError("oops")

    g = graph(
        [("s", "START"), ("b", "BUGGY"), ("h", "ECHO"), ("e", "END")],
        [("s", "b"), ("b", "h", "ERROR"), ("h", "e")],
    )

    async def main():
        ex = executor()
        ex.register_node_handler("BUGGY", buggy)
        return await ex.execute_graph(g)

    h = asyncio.run(main())
    assert h.status == "completed"
    assert steps(h)["b"]["error_type"] == "other"
    assert "KeyError" in steps(h)["b"]["error_message"]


def test_validation_errors_refuse_to_run_with_every_problem():
    import pytest

    from flowdesk.engine.errors import WorkflowInvalidError

    g = graph(
        [("s", "START"), ("x", "NOPE"), ("c", "CONDITION", {"condition": "1 +"})], [("s", "x"), ("x", "c")]
    )
    with pytest.raises(WorkflowInvalidError) as info:
        run_graph(g)
    text = str(info.value)
    assert "NOPE" in text and "END" in text
    assert len(info.value.problems) >= 2
