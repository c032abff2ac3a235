"""Every row of the node table: what each built-in node does and outputs."""

from __future__ import annotations

from tests.support.graph_builder import graph, run_graph, steps


def test_start_outputs_the_input_and_end_maps_every_executed_node():
    g = graph([("s", "START"), ("d", "DELAY", {"seconds": 0}), ("e", "END")], [("s", "d"), ("d", "e")])
    h = run_graph(g, {"user": 7})
    assert h.status == "completed"
    assert steps(h)["s"]["output_data"] == {"user": 7}
    assert h.output_data == {"s": {"user": 7}, "d": {"seconds": 0}}
    assert h.progress == 100.0


def test_end_output_template_becomes_output_data_with_raw_types():
    g = graph(
        [
            ("s", "START"),
            (
                "e",
                "END",
                {"output": {"id": "{{input.user.id}}", "text": "id={{input.user.id}}", "all": "{{s}}"}},
            ),
        ],
        [("s", "e")],
    )
    h = run_graph(g, {"user": {"id": 5}})
    assert h.output_data == {"id": 5, "text": "id=5", "all": {"user": {"id": 5}}}


def test_end_outputs_alias():
    g = graph([("s", "START"), ("e", "END", {"outputs": {"x": "{{input.x}}"}})], [("s", "e")])
    assert run_graph(g, {"x": [1, 2]}).output_data == {"x": [1, 2]}


def test_condition_outputs_result_and_follows_typed_connections():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "{{input.score}} >= 60"}),
            ("pass", "ECHO", {"value": "pass"}),
            ("fail", "ECHO", {"value": "fail"}),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "pass", "CONDITIONAL_TRUE"),
            ("c", "fail", "CONDITIONAL_FALSE"),
            ("pass", "e"),
            ("fail", "e"),
        ],
    )
    high = run_graph(g, {"score": 75})
    assert steps(high)["c"]["output_data"] == {"result": True}
    assert steps(high)["pass"]["status"] == "success"
    assert steps(high)["fail"]["status"] == "skipped"
    low = run_graph(g, {"score": 40})
    assert steps(low)["c"]["output_data"] == {"result": False}
    assert steps(low)["pass"]["status"] == "skipped"
    assert steps(low)["fail"]["output_data"] == {"value": "fail"}
    assert steps(low)["e"]["status"] == "success"


def test_condition_true_path_false_path_without_typed_connections():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "input.ok", "true_path": "yes", "false_path": "no"}),
            ("yes", "ECHO", {"value": 1}),
            ("no", "ECHO", {"value": 0}),
            ("e", "END"),
        ],
        [("s", "c"), ("c", "yes"), ("c", "no"), ("yes", "e"), ("no", "e")],
    )
    h = run_graph(g, {"ok": True})
    assert steps(h)["yes"]["status"] == "success" and steps(h)["no"]["status"] == "skipped"
    h = run_graph(g, {"ok": False})
    assert steps(h)["yes"]["status"] == "skipped" and steps(h)["no"]["status"] == "success"


def test_delay_seconds_number_and_template():
    g = graph(
        [
            ("s", "START"),
            ("d1", "DELAY", {"seconds": 0.01}),
            ("d2", "DELAY", {"seconds": "{{input.wait}}"}),
            ("e", "END"),
        ],
        [("s", "d1"), ("d1", "d2"), ("d2", "e")],
    )
    h = run_graph(g, {"wait": 0.02})
    assert steps(h)["d1"]["output_data"] == {"seconds": 0.01}
    assert steps(h)["d2"]["output_data"] == {"seconds": 0.02}
    assert steps(h)["d2"]["execution_time"] >= 0.02


def test_delay_with_a_bad_value_fails_with_expression_error():
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": "{{input.wait}}"}), ("e", "END")],
        [("s", "d"), ("d", "e")],
    )
    h = run_graph(g, {"wait": "soon"})
    assert h.status == "failed"
    assert steps(h)["d"]["error_type"] == "expression"
    assert "soon" in h.error_message


def test_parallel_outputs_branches_in_connection_order():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("slow", "DELAY", {"seconds": 0.03}),
            ("fast", "ECHO", {"value": "fast"}),
            ("e", "END", {"output": "{{p.branches}}"}),
        ],
        [("s", "p"), ("p", "slow", "PARALLEL"), ("p", "fast", "PARALLEL"), ("p", "e")],
    )
    h = run_graph(g)
    assert h.output_data == [{"seconds": 0.03}, {"value": "fast"}]


def test_loop_outputs_iterations_results_and_stopped_by():
    g = graph(
        [
            ("s", "START"),
            ("l", "LOOP", {"items": "{{input.xs}}"}),
            ("body", "ECHO", {"value": "{{loop.item}}-{{loop.index}}"}),
            ("e", "END", {"output": "{{l}}"}),
        ],
        [("s", "l"), ("l", "body", "LOOP"), ("body", "l"), ("l", "e")],
    )
    h = run_graph(g, {"xs": ["a", "b", "c"]})
    assert h.output_data == {
        "iterations": 3,
        "results": [{"value": "a-0"}, {"value": "b-1"}, {"value": "c-2"}],
        "stopped_by": "items",
    }


def test_output_mapping_adds_fields_from_the_node_response():
    async def fake_api(ctx):
        return {"response": {"status": 200, "data": {"id": 42, "access_token": "t0k"}}}

    from flowdesk.engine.registry import HandlerRegistry

    g = graph(
        [
            ("s", "START"),
            (
                "login",
                "FAKE_API",
                {
                    "output_mapping": {
                        "user_id": "response.data.id",
                        "token": "{{response.data.access_token}}",
                    }
                },
            ),
            ("next", "ECHO", {"value": "{{login.user_id}}/{{login.token}}/{{response.status}}"}),
            ("e", "END"),
        ],
        [("s", "login"), ("login", "next"), ("next", "e")],
    )
    import asyncio

    from tests.support.graph_builder import executor

    async def main():
        ex = executor(registry=HandlerRegistry(parent=None))
        ex.registry.register("FAKE_API", fake_api)
        from flowdesk.engine.registry import default_registry

        for t in ("START", "END"):
            kind = default_registry().kind(t)
            ex.registry.register(t, kind.handle)
        return await ex.execute_graph(g)

    h = asyncio.run(main())
    assert steps(h)["login"]["output_data"]["user_id"] == 42
    assert steps(h)["login"]["output_data"]["token"] == "t0k"
    assert steps(h)["next"]["output_data"] == {"value": "42/t0k/200"}
