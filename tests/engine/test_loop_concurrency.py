"""LOOP `concurrency` and `batch_size`: item order, the limit, a failing iteration, cancellation;
the bodies call the local test server (tests/support/http_server.py) for real."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine.errors import WorkflowInvalidError
from flowdesk.engine.executor import WorkflowExecutor
from tests.support.graph_builder import executor, graph, run_graph, steps
from tests.support.waiting import eventually, until


def loop_over(config: dict, body: tuple, *, extra_nodes=(), extra_conns=()):
    """start -> each (LOOP config) -LOOP-> body -> each; each -> end (output = the LOOP's output)."""
    return graph(
        [
            ("start", "START"),
            ("each", "LOOP", config),
            body,
            *extra_nodes,
            ("end", "END", {"output": "{{each}}"}),
        ],
        [("start", "each"), ("each", body[0], "LOOP"), (body[0], "each"), ("each", "end"), *extra_conns],
    )


def product_call(server_url: str, delay: str = "0") -> tuple:
    return ("get", "API_CALL", {"url": f"{server_url}/products/{{{{loop.item}}}}?delay={delay}"})


def test_iterations_side_by_side_keep_their_results_in_item_order(http_server):
    # later items answer sooner (delay shrinks with the id), so completion order is not item order
    body = (
        "get",
        "API_CALL",
        {"url": f"{http_server.url}/products/{{{{loop.item}}}}?delay={{{{0.3 - loop.item / 100}}}}"},
    )
    g = loop_over({"items": "{{input.ids}}", "concurrency": 4}, body)
    ids = list(range(1, 13))
    handle = run_graph(g, {"ids": ids})
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert (out["iterations"], out["stopped_by"]) == (12, "items")
    assert [r["response"]["data"]["id"] for r in out["results"]] == ids
    by_name = steps(handle)
    assert [by_name[f"get[{i}]"]["status"] for i in range(12)] == ["success"] * 12
    assert [by_name[f"get[{i}]"]["iteration_path"] for i in range(12)] == [[i] for i in range(12)]


class Gate:
    """A GATE node type: counts the iterations inside it at once, and holds each until `limit` are in
    (or the last items are), so a LOOP that ran fewer at once than its concurrency would never pass."""

    def __init__(self, limit: int, total: int) -> None:
        self.limit, self.total = limit, total
        self.inside = self.most = self.entered = 0
        self.full = asyncio.Event()

    async def handle(self, ctx):
        self.inside += 1
        self.entered += 1
        self.most = max(self.most, self.inside)
        if self.inside == self.limit or self.entered == self.total:
            self.full.set()
        try:
            await eventually(self.full.wait(), f"{self.limit} iterations inside at once")
            await asyncio.sleep(0)
        finally:
            self.inside -= 1
            if self.entered < self.total:
                self.full.clear()
        return {"item": ctx.loop["item"]}


def test_no_more_than_concurrency_iterations_run_at_once_and_that_many_do():
    gate = Gate(limit=3, total=10)

    async def main():
        ex = executor()
        ex.register_node_handler("GATE", gate.handle)
        try:
            return await ex.execute_graph(
                loop_over({"items": list(range(10)), "concurrency": 3}, ("g", "GATE"))
            )
        finally:
            await ex.aclose()

    handle = asyncio.run(main())
    assert handle.status == "completed", handle.error_message
    assert gate.most == 3
    assert handle.output_data["results"] == [{"item": i} for i in range(10)]


def test_batches_hand_the_body_up_to_batch_size_items(http_server):
    body = (
        "post",
        "API_CALL",
        {"method": "POST", "url": f"{http_server.url}/anything", "body": {"ids": "{{loop.batch}}"}},
    )
    g = loop_over({"items": "{{input.ids}}", "batch_size": 4, "concurrency": 2}, body)
    handle = run_graph(g, {"ids": list(range(1, 11))})
    assert handle.status == "completed", handle.error_message
    sent = [r["response"]["data"]["json"]["ids"] for r in handle.output_data["results"]]
    assert sent == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert handle.output_data["iterations"] == 3


def test_batches_one_at_a_time_see_the_batch_in_the_condition_too():
    g = loop_over(
        {"items": [1, 2, 3, 4, 5], "batch_size": 2, "condition": "loop.batch.length() == 2"},
        ("echo", "ECHO", {"value": "{{loop.batch}}"}),
    )
    handle = run_graph(g)
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {
        "iterations": 2,
        "results": [{"value": [1, 2]}, {"value": [3, 4]}],
        "stopped_by": "condition",
    }


def test_a_failed_iteration_with_break_on_error_cancels_the_others_and_fails_the_loop(http_server):
    # item 0 holds for ten minutes: it is still running when item 1 (product 0: 404) fails
    key = "loop-concurrency-break"
    paths = [f"hold/{key}?seconds=600", "products/0", "products/5"]
    g = loop_over(
        {"items": paths, "concurrency": 3},
        ("get", "API_CALL", {"url": f"{http_server.url}/{{{{loop.item}}}}"}),
    )
    handle = asyncio.run(eventually(_run(g), "the loop to fail without waiting for the held call"))
    by_name = steps(handle)
    assert handle.status == "failed"
    assert by_name["each"]["status"] == "failed"
    assert by_name["each"]["error_message"].startswith("iteration 1 failed at 'get[1]':")
    assert by_name["each"]["error_type"] == "http_4xx"
    assert by_name["get[0]"]["status"] == "cancelled"
    assert by_name["get[0]"]["error_message"] == "cancelled: another iteration failed"


def test_without_break_on_error_a_failed_iteration_is_recorded_in_its_place(http_server):
    g = loop_over(
        {"items": [3, 0, 4], "concurrency": 3, "break_on_error": False}, product_call(http_server.url)
    )
    handle = run_graph(g)
    assert handle.status == "completed", handle.error_message
    results = handle.output_data["results"]
    assert [results[0]["response"]["data"]["id"], results[2]["response"]["data"]["id"]] == [3, 4]
    assert results[1]["error_type"] == "http_4xx"


async def _run(g):
    async with WorkflowExecutor(load_plugins=False) as ex:
        return await ex.execute_graph(g)


def test_cancelling_the_run_cancels_every_iteration_in_flight_and_starts_no_more(http_server):
    key = "loop-concurrency-cancel"
    g = loop_over(
        {"items": list(range(8)), "concurrency": 3},
        ("get", "API_CALL", {"url": f"{http_server.url}/hold/{key}?times=100&seconds=600"}),
    )

    async def main():
        async with WorkflowExecutor(load_plugins=False) as ex:
            handle = await ex.execute_graph(g, config={"async": True})
            await until(lambda: http_server.count(key) == 3, "three held calls at the server")
            handle.cancel()
            await eventually(handle.wait(), "the end of the cancelled run")
            return handle

    handle = asyncio.run(main())
    assert handle.status == "cancelled"
    by_name = steps(handle)
    assert sorted(n for n in by_name if n.startswith("get")) == ["get[0]", "get[1]", "get[2]"]
    assert {by_name[f"get[{i}]"]["status"] for i in range(3)} == {"cancelled"}
    assert http_server.count(key) == 3


def test_concurrency_with_a_condition_is_refused_before_the_run_in_one_sentence():
    g = loop_over({"items": [1, 2], "concurrency": 2, "condition": "loop.index < 1"}, ("echo", "ECHO"))
    with pytest.raises(WorkflowInvalidError) as refused:
        run_graph(g)
    assert str(refused.value) == (
        "workflow 'w' cannot run: 1 problem(s): node 'each', config.concurrency: LOOP concurrency 2 "
        "cannot go with a condition: iterations run side by side only over items (set concurrency "
        "to 1 or loop over items)"
    )


def test_a_templated_concurrency_with_a_condition_is_refused_when_it_comes_to_more_than_one():
    config = {"items": [1, 2], "concurrency": "{{input.n}}", "condition": "loop.index < 1"}
    handle = run_graph(loop_over(config, ("echo", "ECHO")), {"n": 2})
    assert handle.status == "failed"
    assert steps(handle)["each"]["error_message"] == (
        "LOOP concurrency above 1 needs items and no condition (iterations run side by side)"
    )


def test_a_concurrency_template_that_gives_no_whole_number_fails_the_loop():
    g = loop_over({"items": [1], "concurrency": "{{input.n}}"}, ("echo", "ECHO"))
    handle = run_graph(g, {"n": "lots"})
    assert steps(handle)["each"]["error_message"] == "LOOP concurrency must be a whole number, got 'lots'"


def test_max_iterations_caps_the_items_run_side_by_side():
    g = loop_over(
        {"items": list(range(5)), "concurrency": 2, "max_iterations": 3},
        ("echo", "ECHO", {"value": "{{loop.item}}"}),
    )
    handle = run_graph(g)
    assert handle.output_data["results"] == [{"value": 0}, {"value": 1}, {"value": 2}]
    assert handle.output_data["stopped_by"] == "max_iterations"
    assert any("max_iterations" in w for w in steps(handle)["each"]["warnings"])
