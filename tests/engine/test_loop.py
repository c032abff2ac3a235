"""LOOP: by condition, by items, nested reset, break_on_error both ways, max_iterations, names."""

from __future__ import annotations

from tests.support.graph_builder import graph, order, run_graph, steps


def _loop(config: dict, body: list[tuple], body_conns: list[tuple], first: str, last: str):
    nodes = [("s", "START"), ("l", "LOOP", config), *body, ("e", "END", {"output": "{{l}}"})]
    conns = [("s", "l"), ("l", first, "LOOP"), *body_conns, (last, "l"), ("l", "e")]
    return graph(nodes, conns)


def test_loop_by_condition_with_index_from_zero():
    g = _loop(
        {"condition": "{{loop.index}} < {{input.max_count}}"},
        [("body", "ECHO", {"value": "{{loop.index}}"})],
        [],
        "body",
        "body",
    )
    h = run_graph(g, {"max_count": 3})
    assert h.output_data == {
        "iterations": 3,
        "results": [{"value": 0}, {"value": 1}, {"value": 2}],
        "stopped_by": "condition",
    }
    assert [n for n, _ in order(h)] == ["s", "l", "body[0]", "body[1]", "body[2]", "e"]


def test_loop_condition_sees_the_previous_iteration():
    g = _loop(
        {"condition": "loop.index == 0 or body.value < 3"},
        [("body", "ECHO", {"value": "{{loop.index}}"})],
        [],
        "body",
        "body",
    )
    h = run_graph(g)
    assert h.output_data["iterations"] == 4  # 0,1,2,3 ran; before index 4 body.value == 3


def test_loop_by_items_and_by_both():
    g = _loop({"items": "{{input.xs}}"}, [("body", "ECHO", {"value": "{{loop.item.n}}"})], [], "body", "body")
    h = run_graph(g, {"xs": [{"n": 1}, {"n": 2}]})
    assert h.output_data == {"iterations": 2, "results": [{"value": 1}, {"value": 2}], "stopped_by": "items"}
    both = _loop(
        {"items": "{{input.xs}}", "condition": "loop.item != 'stop'"},
        [("body", "ECHO", {"value": "{{loop.item}}"})],
        [],
        "body",
        "body",
    )
    h = run_graph(both, {"xs": ["a", "stop", "c"]})
    assert h.output_data == {"iterations": 1, "results": [{"value": "a"}], "stopped_by": "condition"}


def test_max_iterations_stops_with_a_warning():
    g = _loop(
        {"condition": "true", "max_iterations": 5}, [("body", "DELAY", {"seconds": 0})], [], "body", "body"
    )
    h = run_graph(g)
    assert h.output_data["iterations"] == 5 and h.output_data["stopped_by"] == "max_iterations"
    assert any("max_iterations" in w for w in steps(h)["l"]["warnings"])


def test_default_max_iterations_is_1000():
    g = _loop({"condition": "true"}, [("body", "DELAY", {"seconds": 0})], [], "body", "body")
    h = run_graph(g)
    assert h.output_data["iterations"] == 1000
    assert "body[999]" in steps(h)


def test_break_on_error_true_fails_the_loop_node():
    g = _loop(
        {"items": [1, 2, 3]},
        [
            ("c", "CONDITION", {"condition": "loop.item == 2"}),
            ("bad", "FAIL", {"message": "two!"}),
            ("ok", "ECHO", {"value": "{{loop.item}}"}),
        ],
        [("c", "bad", "CONDITIONAL_TRUE"), ("c", "ok", "CONDITIONAL_FALSE"), ("bad", "l")],
        "c",
        "ok",
    )
    h = run_graph(g)
    st = steps(h)
    assert h.status == "failed"
    assert st["l"]["status"] == "failed"
    assert "iteration 1" in st["l"]["error_message"] and "two!" in st["l"]["error_message"]
    assert "c[2]" not in st  # the loop stopped


def test_break_on_error_false_records_the_error_and_goes_on():
    g = _loop(
        {"items": [1, 2, 3], "break_on_error": False},
        [
            ("c", "CONDITION", {"condition": "loop.item == 2"}),
            ("bad", "FAIL", {"message": "two!"}),
            ("ok", "ECHO", {"value": "{{loop.item}}"}),
        ],
        [("c", "bad", "CONDITIONAL_TRUE"), ("c", "ok", "CONDITIONAL_FALSE"), ("bad", "l")],
        "c",
        "ok",
    )
    h = run_graph(g)
    assert h.status == "completed"
    results = h.output_data["results"]
    assert results[0] == {"value": 1} and results[2] == {"value": 3}
    assert results[1]["error"] == "two!"
    assert steps(h)["bad[1]"]["status"] == "failed"
    assert steps(h)["ok[1]"]["status"] == "skipped"


def test_nested_loops_reset_each_outer_iteration_and_reach_the_outer_index_by_name():
    g = graph(
        [
            ("s", "START"),
            ("outer", "LOOP", {"items": ["x", "y", "z"]}),
            ("inner", "LOOP", {"condition": "loop.index < 2"}),
            ("cell", "ECHO", {"value": "{{outer.index}}.{{loop.index}}:{{outer.item}}"}),
            ("e", "END", {"output": "{{outer.results}}"}),
        ],
        [
            ("s", "outer"),
            ("outer", "inner", "LOOP"),
            ("inner", "cell", "LOOP"),
            ("cell", "inner"),
            ("inner", "outer"),
            ("outer", "e"),
        ],
    )
    h = run_graph(g)
    st = steps(h)
    assert h.status == "completed"
    for i in range(3):
        assert st[f"inner[{i}]"]["output_data"]["iterations"] == 2  # fresh at every outer iteration
        for j in range(2):
            assert st[f"cell[{i}][{j}]"]["output_data"] == {"value": f"{i}.{j}:{'xyz'[i]}"}
            assert st[f"cell[{i}][{j}]"]["iteration_path"] == [i, j]


def test_iteration_state_is_fresh_each_iteration():
    g = _loop(
        {"items": [1, 2]},
        [("first", "ECHO", {"value": "{{second.value}}"}), ("second", "ECHO", {"value": "{{loop.item}}"})],
        [("first", "second")],
        "first",
        "second",
    )
    h = run_graph(g)
    # in iteration 1, `second` has not run yet in this iteration: its previous output is not visible
    assert steps(h)["first[1]"]["output_data"] == {"value": None}


def test_body_outputs_of_the_last_iteration_are_visible_after_the_loop():
    g = graph(
        [
            ("s", "START"),
            ("l", "LOOP", {"items": [3, 4]}),
            ("b", "ECHO", {"value": "{{loop.item}}"}),
            ("e", "END", {"output": "{{b.value}}"}),
        ],
        [("s", "l"), ("l", "b", "LOOP"), ("b", "l"), ("l", "e")],
    )
    assert run_graph(g).output_data == 4


def test_parallel_inside_a_loop():
    g = graph(
        [
            ("s", "START"),
            ("l", "LOOP", {"items": [1, 2]}),
            ("p", "PARALLEL"),
            ("a", "ECHO", {"value": "a{{loop.item}}"}),
            ("b", "ECHO", {"value": "b{{loop.item}}"}),
            ("e", "END", {"output": "{{l.results}}"}),
        ],
        [
            ("s", "l"),
            ("l", "p", "LOOP"),
            ("p", "a", "PARALLEL"),
            ("p", "b", "PARALLEL"),
            ("p", "l"),
            ("l", "e"),
        ],
    )
    h = run_graph(g)
    assert h.output_data == [
        {"branches": [{"value": "a1"}, {"value": "b1"}]},
        {"branches": [{"value": "a2"}, {"value": "b2"}]},
    ]
    assert "a[1]" in steps(h)


def test_a_skipped_loop_logs_its_body_skipped_once():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "false"}),
            ("l", "LOOP", {"items": [1, 2]}),
            ("b", "ECHO"),
            ("inner", "LOOP", {"items": [1]}),
            ("deep", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "l", "CONDITIONAL_TRUE"),
            ("c", "e", "CONDITIONAL_FALSE"),
            ("l", "b", "LOOP"),
            ("b", "inner"),
            ("inner", "deep", "LOOP"),
            ("deep", "inner"),
            ("inner", "l"),
            ("l", "e"),
        ],
    )
    h = run_graph(g)
    assert h.status == "completed"
    assert [(n, s) for n, s in order(h) if s == "skipped"] == [
        ("l", "skipped"),
        ("b", "skipped"),
        ("inner", "skipped"),
        ("deep", "skipped"),
    ]
