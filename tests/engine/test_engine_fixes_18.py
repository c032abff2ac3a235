"""Two engine bugs found by the template library (issue 18): templated numeric settings of an
API_CALL, and a node where PARALLEL branches meet after the PARALLEL failed and was handled."""

from __future__ import annotations

from tests.support.graph_builder import graph, order, run_graph, steps

# -- templated retry_count / retry_delay / timeout / response_body_limit --------------------


def test_a_templated_retry_count_is_rendered_and_retries_that_many_times(http_server):
    url = f"{http_server.url}/flaky/templated?fail=2"
    g = graph(
        [
            ("start", "START"),
            (
                "call",
                "API_CALL",
                {"url": url, "retry_count": "{{input.retries}}", "retry_delay": "{{input.pause}}"},
            ),
            ("end", "END", {"output": "{{call.response.data}}"}),
        ],
        [("start", "call"), ("call", "end")],
    )
    handle = run_graph(g, {"retries": 2, "pause": 0})
    assert handle.status == "completed", handle.error_message
    assert steps(handle)["call"]["attempts"] == 3
    assert handle.output_data["attempt"] == 3


def test_a_templated_retry_count_of_zero_does_not_retry(http_server):
    url = f"{http_server.url}/flaky/zero?fail=1"
    g = graph(
        [
            ("start", "START"),
            ("call", "API_CALL", {"url": url, "retry_count": "{{input.retries}}"}),
            ("end", "END"),
        ],
        [("start", "call"), ("call", "end")],
    )
    handle = run_graph(g, {"retries": 0})
    assert handle.status == "failed"
    assert steps(handle)["call"]["attempts"] == 1
    assert steps(handle)["call"]["error_type"] == "http_5xx"


def test_a_templated_timeout_and_body_limit_are_rendered(http_server):
    g = graph(
        [
            ("start", "START"),
            (
                "call",
                "API_CALL",
                {
                    "url": f"{http_server.url}/delay/0",
                    "timeout": "{{input.seconds}}",
                    "response_body_limit": "{{input.limit}}",
                },
            ),
            ("end", "END"),
        ],
        [("start", "call"), ("call", "end")],
    )
    handle = run_graph(g, {"seconds": 30, "limit": 0})
    assert handle.status == "completed", handle.error_message
    assert steps(handle)["call"]["input_data"]["timeout"] == 30


def test_a_retry_count_template_giving_no_number_fails_the_step_in_one_sentence(http_server):
    g = graph(
        [
            ("start", "START"),
            ("call", "API_CALL", {"url": f"{http_server.url}/json", "retry_count": "{{input.retries}}"}),
            ("end", "END"),
        ],
        [("start", "call"), ("call", "end")],
    )
    handle = run_graph(g, {"retries": "many"})
    step = steps(handle)["call"]
    assert (handle.status, step["attempts"]) == ("failed", 0)
    assert step["error_message"] == "retry_count ({{input.retries}}) must be a whole number, got 'many'"


def test_a_retry_count_template_outside_its_range_fails_the_step_in_one_sentence(http_server):
    g = graph(
        [
            ("start", "START"),
            ("call", "API_CALL", {"url": f"{http_server.url}/json", "retry_count": "{{input.retries}}"}),
            ("end", "END"),
        ],
        [("start", "call"), ("call", "end")],
    )
    handle = run_graph(g, {"retries": 1000})
    step = steps(handle)["call"]
    assert (handle.status, step["attempts"]) == ("failed", 0)
    assert step["error_message"] == "retry_count ({{input.retries}}) must be from 0 to 100, got 1000"


# -- a node where branches meet, after the PARALLEL failed and was handled -----------------------


def fan_with_join(handled: bool):
    """fan (PARALLEL) -> good, bad (FAIL); good -> join, bad -> join; fan -ERROR-> recover."""
    nodes = [
        ("start", "START"),
        ("fan", "PARALLEL"),
        ("good", "ECHO", {"value": "fine"}),
        ("bad", "FAIL", {"message": "branch broke"}),
        ("join", "ECHO", {"value": "joined"}),
        ("end", "END", {"output": "{{join.value}}"}),
    ]
    connections = [
        ("start", "fan"),
        ("fan", "good", "PARALLEL"),
        ("fan", "bad", "PARALLEL"),
        ("good", "join"),
        ("bad", "join"),
        ("join", "end"),
    ]
    if handled:
        nodes.append(("recover", "END", {"output": {"recovered": "{{fan.error}}"}}))
        connections.append(("fan", "recover", "ERROR"))
    return graph(nodes, connections)


def test_a_join_after_a_handled_parallel_failure_is_skipped_and_the_handler_runs():
    handle = run_graph(fan_with_join(handled=True))
    assert handle.status == "completed", handle.error_message
    by_name = steps(handle)
    assert by_name["good"]["status"] == "success"
    assert by_name["fan"]["status"] == "failed"
    assert by_name["join"]["status"] == "skipped"
    assert by_name["end"]["status"] == "skipped"
    assert by_name["recover"]["status"] == "success"
    assert handle.output_data == {"recovered": "branch 2 failed at 'bad': branch broke"}


def test_a_join_after_a_parallel_that_succeeded_still_runs_once():
    g = fan_with_join(handled=True)
    for node in g.nodes:
        if node.name == "bad":
            node.node_type, node.config = "ECHO", {"value": "also fine"}
    handle = run_graph(g)
    assert handle.status == "completed", handle.error_message
    assert [s for s in order(handle) if s[0] == "join"] == [("join", "success")]
    assert steps(handle)["recover"]["status"] == "skipped"
    assert handle.output_data == "joined"


def test_a_join_also_fed_from_outside_the_parallel_runs_when_that_connection_was_taken():
    g = fan_with_join(handled=True)
    g.connections.append(type(g.connections[0])(from_node="start", to_node="join"))
    handle = run_graph(g)
    assert handle.status == "completed", handle.error_message
    assert steps(handle)["join"]["status"] == "success"
    assert steps(handle)["recover"]["status"] == "success"
