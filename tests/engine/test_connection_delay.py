"""A connection's `config.delay` (seconds): once the connection is taken, its target waits that long
before it starts; the wait is cancelled with the run; a connection not taken costs nothing; a bad
value is a located validation problem."""

from __future__ import annotations

import asyncio

from flowdesk.domain.validation import validate_graph
from flowdesk.engine import events as ev
from tests.support.graph_builder import executor, graph

HANG_GUARD = 60.0  # seconds: a hang fails the test; nothing here asserts an upper time bound


def _with_delay(g, index: int, delay):
    connections = list(g.connections)
    connections[index] = connections[index].model_copy(update={"config": {"delay": delay}})
    return g.model_copy(update={"connections": connections})


async def _run(g, *, cancel_after: str | None = None):
    """Run `g`; loop-clock times of each NodeStarted / NodeFinished by step name, and the handle."""
    ex = executor()
    loop = asyncio.get_running_loop()
    started: dict[str, float] = {}
    finished: dict[str, float] = {}
    reached = asyncio.Event()

    def listen(event):
        if isinstance(event, ev.NodeStarted):
            started[event.step_name] = loop.time()
        elif isinstance(event, ev.NodeFinished):
            finished[event.step_name] = loop.time()
            if event.step_name == cancel_after:
                reached.set()

    ex.events.subscribe(listen)
    try:
        h = await ex.execute_graph(g, config={"async": True})
        async with asyncio.timeout(HANG_GUARD):
            if cancel_after is not None:
                await reached.wait()
                h.cancel()
            await h.wait()
        return started, finished, h
    finally:
        await ex.aclose()


def test_the_target_starts_no_sooner_than_the_delay_after_its_source_finished():
    g = _with_delay(
        graph(
            [("s", "START"), ("a", "ECHO"), ("b", "ECHO"), ("e", "END")], [("s", "a"), ("a", "b"), ("b", "e")]
        ),
        1,
        0.3,
    )
    started, finished, h = asyncio.run(_run(g))
    assert h.status == "completed"
    assert started["b"] - finished["a"] >= 0.3 - 0.01  # asyncio may wake up to its clock resolution early
    assert validate_graph(g, node_types={"ECHO"}) == []


def test_the_delay_is_cancelled_with_the_run_and_the_target_never_starts():
    g = _with_delay(
        graph(
            [("s", "START"), ("a", "ECHO"), ("b", "ECHO"), ("e", "END")], [("s", "a"), ("a", "b"), ("b", "e")]
        ),
        1,
        600,
    )
    started, _, h = asyncio.run(_run(g, cancel_after="a"))
    assert h.status == "cancelled"
    assert "b" not in started


def test_a_connection_not_taken_does_not_wait():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "true"}),
            ("yes", "ECHO"),
            ("no", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "yes", "CONDITIONAL_TRUE"),
            ("c", "no", "CONDITIONAL_FALSE"),
            ("yes", "e"),
            ("no", "e"),
        ],
    )
    g = _with_delay(g, 2, 600)  # on the path not taken
    started, _, h = asyncio.run(_run(g))
    assert h.status == "completed" and "no" not in started and "e" in started


def test_a_delay_into_a_loop_body_waits_before_each_iteration():
    g = graph(
        [("s", "START"), ("l", "LOOP", {"items": [1, 2]}), ("x", "ECHO"), ("e", "END")],
        [("s", "l"), ("l", "x", "LOOP"), ("x", "l"), ("l", "e")],
    )
    g = _with_delay(g, 1, 0.2)
    started, finished, h = asyncio.run(_run(g))
    assert h.status == "completed"
    assert started["x[1]"] - finished["x[0]"] >= 0.2 - 0.01


def test_a_bad_delay_is_a_located_problem():
    g = _with_delay(graph([("s", "START"), ("e", "END")], [("s", "e")]), 0, "soon")
    assert [str(p) for p in validate_graph(g)] == [
        'connections[0].config.delay: expected a number from 0 to 86,400, found the text "soon"'
    ]
