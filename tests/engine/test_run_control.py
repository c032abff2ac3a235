"""Timeouts, cancellation, step-through, breakpoints, pause and resume, async handles."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.graph_builder import executor, graph, steps
from tests.support.waiting import EngineEvents, eventually, until


def _three():
    return graph(
        [("s", "START"), ("a", "ECHO", {"value": 1}), ("b", "ECHO", {"value": 2}), ("e", "END")],
        [("s", "a"), ("a", "b"), ("b", "e")],
    )


def test_workflow_timeout_ends_timed_out_and_cancels_running_nodes():
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": 3600}), ("e", "END")],
        [("s", "d"), ("d", "e")],
        config={"timeout": 0.2},
    )

    async def main():
        return await eventually(executor().execute_graph(g), "the end of the timed-out run")

    h = asyncio.run(main())
    assert h.status == "timed_out"
    assert steps(h)["d"]["status"] == "cancelled"
    assert steps(h)["d"]["error_type"] == "timeout"
    assert "timed out" in h.error_message


@pytest.mark.perf
def test_workflow_timeout_ends_the_run_promptly():
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": 10}), ("e", "END")],
        [("s", "d"), ("d", "e")],
        config={"timeout": 0.2},
    )

    async def main():
        t0 = time.perf_counter()
        h = await executor().execute_graph(g)
        return h, time.perf_counter() - t0

    h, took = asyncio.run(main())
    assert h.status == "timed_out"
    assert took < 1.5


def test_the_runs_timeout_overrides_the_workflows():
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": 10}), ("e", "END")],
        [("s", "d"), ("d", "e")],
        config={"timeout": 60},
    )

    async def main():
        return await executor().execute_graph(g, config={"timeout": 0.1})

    assert asyncio.run(main()).status == "timed_out"


def _two_long_delays_in_parallel(seconds: float):
    return graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("d1", "DELAY", {"seconds": seconds}),
            ("d2", "DELAY", {"seconds": seconds}),
            ("e", "END"),
        ],
        [("s", "p"), ("p", "d1", "PARALLEL"), ("p", "d2", "PARALLEL"), ("p", "e")],
    )


async def _cancel_once_both_delays_run(g):
    """Start `g`, cancel it once d1 and d2 are both running; returns (handle, seconds the end took)."""
    ex = executor()
    events = EngineEvents(ex)
    h = await ex.execute_graph(g, config={"async": True})
    assert h.status == "running"
    await events.wait("node_started", "d1")
    await events.wait("node_started", "d2")
    t0 = time.perf_counter()
    h.cancel()
    await eventually(h.wait(), "the end of the cancelled run")
    return h, time.perf_counter() - t0


def test_cancel_ends_the_run_whatever_runs():
    h, _ = asyncio.run(_cancel_once_both_delays_run(_two_long_delays_in_parallel(3600)))
    assert h.status == "cancelled"
    st = steps(h)
    assert st["d1"]["status"] == "cancelled" and st["d2"]["status"] == "cancelled"
    assert st["p"]["status"] == "cancelled"
    assert "cancelled by the user" in st["d1"]["error_message"]


@pytest.mark.perf
def test_cancel_ends_the_run_within_a_second():
    h, took = asyncio.run(_cancel_once_both_delays_run(_two_long_delays_in_parallel(30)))
    assert h.status == "cancelled"
    assert took < 1.0


def test_async_config_returns_a_running_handle_at_once():
    g = graph([("s", "START"), ("d", "DELAY", {"seconds": 0.1}), ("e", "END")], [("s", "d"), ("d", "e")])

    async def main():
        h = await executor().execute_graph(g, config={"async": True})
        early = (h.status, h.done)
        await h.wait()
        return early, h

    early, h = asyncio.run(main())
    assert early == ("running", False)
    assert h.status == "completed"


def test_step_by_step_pauses_before_each_node():
    async def main():
        ex = executor()
        h = await ex.execute_graph(_three(), step_by_step=True)
        seen = [(h.status, h.current_step, len(h.steps))]
        for _ in range(4):
            await h.step()
            seen.append((h.status, h.current_step, len(h.steps)))
        return seen

    seen = asyncio.run(main())
    assert seen == [
        ("paused", "s", 0),
        ("paused", "a", 1),
        ("paused", "b", 2),
        ("paused", "e", 3),
        ("completed", "e", 4),
    ]


def test_breakpoint_pauses_before_the_named_node_then_resume_runs_to_the_end():
    async def main():
        ex = executor()
        h = await ex.execute_graph(_three(), breakpoints=["b"])
        paused = (h.status, h.current_step, [r["step_name"] for r in h.steps], h.pause_reason)
        await h.resume()
        await h.wait()
        return paused, h

    paused, h = asyncio.run(main())
    assert paused == ("paused", "b", ["s", "a"], "breakpoint at b")
    assert h.status == "completed"


def test_breakpoint_inside_a_loop_pauses_every_iteration():
    g = graph(
        [("s", "START"), ("l", "LOOP", {"items": [1, 2, 3]}), ("x", "ECHO"), ("e", "END")],
        [("s", "l"), ("l", "x", "LOOP"), ("x", "l"), ("l", "e")],
    )

    async def main():
        h = await executor().execute_graph(g, breakpoints=["x"])
        seen = []
        while not h.done:
            seen.append(h.current_step)
            await h.resume()  # clears `_settled` at once; it is set again when paused or done
            await eventually(h._settled.wait(), "the next pause at the breakpoint (or the end)")
        return seen

    assert asyncio.run(main()) == ["x[0]", "x[1]", "x[2]"]


def test_pause_lets_running_nodes_finish_and_starts_nothing_new_until_resumed():
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": 0.05}), ("a", "ECHO"), ("e", "END")],
        [("s", "d"), ("d", "a"), ("a", "e")],
    )

    async def main():
        ex = executor()
        events = EngineEvents(ex)
        h = await ex.execute_graph(g, config={"async": True})
        await events.wait("node_started", "d")
        h.pause()
        await events.wait("node_finished", "d")
        # `a` is ready now: it waits at the gate, and nothing lets it through but resume()
        control = h._run.control
        await until(lambda: "a" in control.waiting, "node a waiting at the paused gate")
        during = (h.status, [r["step_name"] for r in h.steps], h.current_step)
        await h.resume()
        await eventually(h.wait(), "the end of the resumed run")
        return during, h, events.kinds()

    during, h, events = asyncio.run(main())
    assert during == ("paused", ["s", "d"], "a")
    assert h.status == "completed"
    assert "execution_paused" in events and "execution_resumed" in events


def test_paused_time_does_not_count_against_the_timeout():
    g = graph(
        [("s", "START"), ("a", "DELAY", {"seconds": 0.05}), ("e", "END")],
        [("s", "a"), ("a", "e")],
        config={"timeout": 1.0},
    )

    async def main():
        h = await executor().execute_graph(g, step_by_step=True)
        # The thing under test: paused for longer than the whole timeout. The nodes themselves need
        # a few ms of the 1 s, so only a stall of nearly a second would fail this on a busy machine.
        await asyncio.sleep(1.5)
        await h.resume()
        await h.wait()
        return h

    assert asyncio.run(main()).status == "completed"


def test_cancel_while_paused():
    async def main():
        h = await executor().execute_graph(_three(), step_by_step=True)
        await h.step()
        h.cancel()
        await eventually(h.wait(), "the end of the run cancelled while paused")
        return h

    h = asyncio.run(main())
    assert h.status == "cancelled"
    assert [r["step_name"] for r in h.steps] == ["s"]
