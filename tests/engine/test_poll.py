"""POLL against the local test server's job endpoint (POST /jobs, then GET /jobs/{id} answers
"running" until it has been asked N times, then "done")."""

from __future__ import annotations

import asyncio

from flowdesk.domain.validation import validate_graph
from flowdesk.engine.executor import WorkflowExecutor
from tests.support.graph_builder import graph, run_graph, steps
from tests.support.waiting import eventually, until


def submit_and_poll(server_url: str, poll_config: dict):
    """start -> submit (POST /jobs {polls}) -> wait (POLL GET /jobs/{id}) -> end; wait -ERROR-> gave_up."""
    poll = {"method": "GET", "url": f"{server_url}/jobs/{{{{submit.response.data.id}}}}", **poll_config}
    return graph(
        [
            ("start", "START"),
            (
                "submit",
                "API_CALL",
                {
                    "method": "POST",
                    "url": f"{server_url}/jobs",
                    "body": {"polls": "{{input.polls}}", "input": "x"},
                },
            ),
            ("wait", "POLL", poll),
            (
                "end",
                "END",
                {"output": {"result": "{{wait.response.data.result}}", "attempts": "{{wait.attempts}}"}},
            ),
            ("gave_up", "END", {"output": {"error": "{{wait.error}}", "type": "{{wait.error_type}}"}}),
        ],
        [("start", "submit"), ("submit", "wait"), ("wait", "end"), ("wait", "gave_up", "ERROR")],
    )


def test_poll_asks_until_the_job_is_done_and_gives_its_answer(http_server):
    g = submit_and_poll(http_server.url, {"until": "response.data.status == 'done'", "interval": 0})
    handle = run_graph(g, {"polls": 4})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"result": {"input": "x", "answer": 42}, "attempts": 4}
    step = steps(handle)["wait"]
    assert step["status"] == "success" and step["attempts"] == 4
    assert [a.get("status") for a in step["metrics"]["attempts"]] == [200] * 4


def test_poll_gives_up_after_max_attempts_and_the_error_connection_takes_over(http_server):
    g = submit_and_poll(
        http_server.url, {"until": "response.data.status == 'done'", "interval": 0, "max_attempts": 3}
    )
    handle = run_graph(g, {"polls": 10})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {
        "error": "POLL gave up after max_attempts (3) requests; until never held: response.data.status == 'done'",
        "type": "timeout",
    }
    step = steps(handle)["wait"]
    assert (step["status"], step["attempts"]) == ("failed", 3)
    assert step["output_data"]["response"]["data"]["status"] == "running"
    assert steps(handle)["end"]["status"] == "skipped"


def test_poll_gives_up_before_a_wait_that_would_pass_its_timeout(http_server):
    # the first wait (an hour) would pass the 60 s timeout: one request, then it gives up at once
    g = submit_and_poll(
        http_server.url, {"until": "response.data.status == 'done'", "interval": 3600, "timeout": 60}
    )
    handle = asyncio.run(eventually(_run(g, {"polls": 5}), "POLL to give up without waiting an hour"))
    step = steps(handle)["wait"]
    assert (step["status"], step["error_type"], step["attempts"]) == ("failed", "timeout", 1)
    assert "the next one would pass the timeout (60 s)" in step["error_message"]


def test_the_until_expression_sees_the_attempt_number(http_server):
    g = submit_and_poll(http_server.url, {"until": "poll.attempt >= 2", "interval": "{{input.pause}}"})
    handle = run_graph(g, {"polls": 100, "pause": 0})
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["attempts"] == 2


def test_backoff_multiplies_the_wait_up_to_max_interval(http_server):
    g = submit_and_poll(
        http_server.url,
        {"until": "response.data.status == 'done'", "interval": 0.01, "backoff": 2, "max_interval": 0.03},
    )
    handle = run_graph(g, {"polls": 5})
    assert handle.status == "completed", handle.error_message
    assert steps(handle)["wait"]["metrics"]["poll_waits"] == [0.01, 0.02, 0.03, 0.03]


def test_a_request_that_fails_fails_the_poll_with_its_attempt(http_server):
    g = submit_and_poll(http_server.url, {"until": "response.data.status == 'done'", "interval": 0})
    g.nodes[2].config["url"] = f"{http_server.url}/jobs/999999"
    handle = run_graph(g, {"polls": 2})
    step = steps(handle)["wait"]
    assert (step["status"], step["error_type"]) == ("failed", "http_4xx")
    assert step["error_message"].startswith("attempt 1: ")


def test_a_bad_interval_template_fails_in_one_sentence(http_server):
    g = submit_and_poll(http_server.url, {"until": "true", "interval": "{{input.pause}}"})
    handle = run_graph(g, {"polls": 1, "pause": "soon"})
    assert steps(handle)["wait"]["error_message"] == "POLL interval must be a number, got 'soon'"


def test_cancelling_the_run_stops_a_poll_waiting_between_requests(http_server):
    g = submit_and_poll(http_server.url, {"until": "response.data.status == 'done'", "interval": 3600})

    async def main():
        async with WorkflowExecutor(load_plugins=False) as ex:
            handle = await ex.execute_graph(g, {"polls": 5}, config={"async": True})
            await until(lambda: "submit" in steps(handle), "the job submitted")
            job_id = steps(handle)["submit"]["output_data"]["response"]["data"]["id"]
            await until(lambda: http_server.state.jobs[job_id]["polls"] == 1, "the first status request")
            handle.cancel()
            await eventually(handle.wait(), "the end of the cancelled run")
            return handle

    handle = asyncio.run(main())
    assert handle.status == "cancelled"
    assert steps(handle)["wait"]["status"] == "cancelled"


def test_validation_wants_until_and_something_to_ask():
    g = graph(
        [("start", "START"), ("wait", "POLL", {}), ("end", "END")], [("start", "wait"), ("wait", "end")]
    )
    texts = [p.message for p in validate_graph(g)]
    assert "a POLL needs an until" in texts, texts
    assert any("needs a url or an API" in t for t in texts), texts


async def _run(g, input_data):
    async with WorkflowExecutor(load_plugins=False) as ex:
        return await ex.execute_graph(g, input_data)
