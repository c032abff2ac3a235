"""Step by step through everything: each `await handle.step()` runs exactly one node (a LOOP's
iteration node counts as one, PARALLEL branches' nodes go one per step in the order they became
ready) and returns, inside loops, parallel branches and nested loops, and the handle's
`current_step` names the node the next step runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowdesk.api import WorkflowOrchestrator
from flowdesk.engine import events as ev
from tests.support.graph_builder import executor, graph

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))
HANG_GUARD = 120  # seconds; a step that never returns fails the test instead of hanging the suite


async def _step_through(g, input_data=None, *, db=None):
    """Step `g` (or, with `db`, the stored workflow `g`) to its end; [(current_step before the
    step, [steps started by it])] and the handle."""
    ex = executor(db=db)
    started: list[str] = []
    ex.events.subscribe(lambda e: started.append(e.step_name) if isinstance(e, ev.NodeStarted) else None)
    try:
        if db is None:
            h = await ex.execute_graph(g, input_data, step_by_step=True)
        else:
            h = await ex.execute_workflow(g, input_data, step_by_step=True)
        trail = []
        while not h.done:
            announced = h.current_step
            before = len(started)
            await asyncio.wait_for(h.step(), HANG_GUARD)
            trail.append((announced, started[before:]))
            assert len(trail) < 500, "the run never ends"
        return trail, h
    finally:
        await ex.aclose()


def _check_one_node_per_step(trail):
    for announced, ran in trail:
        assert len(ran) == 1, trail
        assert ran == [announced], f"the step label said {announced!r}, the step ran {ran!r}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_steps_one_node_at_a_time(path, http_server, db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            workflow_id = (await orchestrator.import_workflow(path)).workflow.id
            data = {
                "base_url": f"{http_server.url}/anything",
                "user_id": 7,
                "score": 75,
                "user_ids": [1, 2, 3],
            }
            trail, h = await _step_through(workflow_id, data, db=db_path)
            return trail, h, await h.logs()

    trail, h, logs = asyncio.run(scenario())
    assert h.status == "completed", h.error_message
    _check_one_node_per_step(trail)
    ran = [step for _, (step,) in trail]
    assert len(ran) == len(set(ran)) == len([r for r in logs if r.status != "skipped"])


def test_a_loop_steps_through_each_iteration():
    g = graph(
        [("s", "START"), ("l", "LOOP", {"items": [10, 20]}), ("a", "ECHO"), ("b", "ECHO"), ("e", "END")],
        [("s", "l"), ("l", "a", "LOOP"), ("a", "b"), ("b", "l"), ("l", "e")],
    )
    trail, h = asyncio.run(_step_through(g))
    assert h.status == "completed"
    _check_one_node_per_step(trail)
    assert [ran[0] for _, ran in trail] == ["s", "l", "a[0]", "b[0]", "a[1]", "b[1]", "e"]


def test_nested_loops_step_through_every_inner_iteration():
    g = graph(
        [
            ("s", "START"),
            ("outer", "LOOP", {"items": [1, 2]}),
            ("inner", "LOOP", {"items": ["x", "y"]}),
            ("work", "ECHO", {"value": "{{loop.item}}"}),
            ("e", "END"),
        ],
        [
            ("s", "outer"),
            ("outer", "inner", "LOOP"),
            ("inner", "work", "LOOP"),
            ("work", "inner"),
            ("inner", "outer"),
            ("outer", "e"),
        ],
    )
    trail, h = asyncio.run(_step_through(g))
    assert h.status == "completed"
    _check_one_node_per_step(trail)
    names = [ran[0] for _, ran in trail]
    assert names[:2] == ["s", "outer"] and names[-1] == "e"
    assert len(names) == 2 + 2 * (1 + 2) + 1  # each outer iteration: inner, then work twice


def test_parallel_branches_go_one_node_per_step_in_the_order_they_became_ready():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("a1", "ECHO"),
            ("a2", "ECHO"),
            ("b1", "ECHO"),
            ("c1", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "p"),
            ("p", "a1", "PARALLEL"),
            ("p", "b1", "PARALLEL"),
            ("p", "c1", "PARALLEL"),
            ("a1", "a2"),
            ("p", "e"),
        ],
    )
    trail, h = asyncio.run(_step_through(g))
    assert h.status == "completed"
    _check_one_node_per_step(trail)
    assert [ran[0] for _, ran in trail] == ["s", "p", "a1", "b1", "c1", "a2", "e"]


def test_every_node_type_steps_one_at_a_time(http_server):
    g = graph(
        [
            ("s", "START"),
            ("call", "API_CALL", {"method": "GET", "url": f"{http_server.url}/anything/x"}),
            ("check", "CONDITION", {"condition": "call.response.status == 200"}),
            ("wait", "DELAY", {"seconds": 0}),
            ("p", "PARALLEL", {"max_concurrent": 1}),
            ("l", "LOOP", {"items": [1]}),
            ("body", "ECHO"),
            ("branch", "ECHO"),
            ("no", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "call"),
            ("call", "check"),
            ("check", "wait", "CONDITIONAL_TRUE"),
            ("check", "no", "CONDITIONAL_FALSE"),
            ("wait", "p"),
            ("p", "l", "PARALLEL"),
            ("p", "branch", "PARALLEL"),
            ("l", "body", "LOOP"),
            ("body", "l"),
            ("p", "e"),
            ("no", "e"),
        ],
    )
    trail, h = asyncio.run(_step_through(g))
    assert h.status == "completed", h.error_message
    _check_one_node_per_step(trail)
    assert [ran[0] for _, ran in trail] == ["s", "call", "check", "wait", "p", "l", "body[0]", "branch", "e"]
