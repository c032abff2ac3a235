"""PARALLEL: branches, max_concurrent, wait_for_all both ways, failures, meeting nodes."""

from __future__ import annotations

import asyncio

from tests.support.graph_builder import executor, graph, run_graph, steps
from tests.support.waiting import eventually


def _fan_out(n: int, config: dict, body: tuple = ("DELAY", {"seconds": 0})) -> object:
    nodes = [("s", "START"), ("p", "PARALLEL", config), ("e", "END")]
    conns = [("s", "p"), ("p", "e")]
    for i in range(n):
        nodes.append((f"b{i}", body[0], body[1]))
        conns.append(("p", f"b{i}", "PARALLEL"))
    return graph(nodes, conns)


def _probe_executor():
    state = {"now": 0, "max": 0}

    async def probe(ctx):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        try:
            await asyncio.sleep(0.01)  # the branch's work: it takes a while, so branches overlap
        finally:
            state["now"] -= 1
        return {"i": ctx.node.name}

    ex = executor()
    ex.register_node_handler("PROBE", probe)
    return ex, state


def test_max_concurrent_limits_running_branches():
    async def main():
        ex, state = _probe_executor()
        h = await ex.execute_graph(_fan_out(12, {"max_concurrent": 3}, ("PROBE", {})))
        return h, state

    h, state = asyncio.run(main())
    assert h.status == "completed"
    assert state["max"] == 3
    assert len(h.output_data["p"]["branches"]) == 12


def test_max_concurrent_zero_is_unlimited():
    async def main():
        ex, state = _probe_executor()
        h = await ex.execute_graph(_fan_out(12, {"max_concurrent": 0}, ("PROBE", {})))
        return h, state

    h, state = asyncio.run(main())
    assert state["max"] == 12


def test_wait_for_all_waits_for_every_branch_before_continuing():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("fast", "DELAY", {"seconds": 0}),
            ("slow", "DELAY", {"seconds": 0.05}),
            ("slow2", "ECHO", {"value": "done"}),
            ("after", "ECHO", {"value": "{{p.branches}}"}),
            ("e", "END"),
        ],
        [
            ("s", "p"),
            ("p", "fast", "PARALLEL"),
            ("p", "slow", "PARALLEL"),
            ("slow", "slow2"),
            ("p", "after"),
            ("after", "e"),
        ],
    )
    h = run_graph(g)
    st = steps(h)
    assert st["after"]["sequence"] > st["slow2"]["sequence"]
    # a branch's output is its last node's output
    assert st["after"]["output_data"] == {"value": [{"seconds": 0}, {"value": "done"}]}


def _run_without_waiting_for_the_hour_long_delays(g):
    """Run `g` to its end; fails if the run waits for its DELAYs of an hour (they must be cancelled)."""

    async def main():
        return await eventually(executor().execute_graph(g), "the end of the run before its hour-long DELAYs")

    return asyncio.run(main())


def test_wait_for_all_false_continues_after_the_first_success_and_cancels_the_rest():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL", {"wait_for_all": False}),
            ("quick", "ECHO", {"value": "won"}),
            ("slow", "DELAY", {"seconds": 3600}),
            ("slower", "DELAY", {"seconds": 3600}),
            ("e", "END", {"output": "{{p.branches}}"}),
        ],
        [
            ("s", "p"),
            ("p", "quick", "PARALLEL"),
            ("p", "slow", "PARALLEL"),
            ("p", "slower", "PARALLEL"),
            ("p", "e"),
        ],
    )
    h = _run_without_waiting_for_the_hour_long_delays(g)
    st = steps(h)
    assert h.status == "completed"
    assert h.output_data == [{"value": "won"}, None, None]
    assert st["slow"]["status"] == "cancelled" and st["slower"]["status"] == "cancelled"
    assert "finished first" in st["slow"]["error_message"]


def test_unhandled_branch_failure_cancels_the_others_and_fails_the_node():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("bad", "FAIL", {"message": "branch broke", "error_type": "http_4xx"}),
            ("slow", "DELAY", {"seconds": 5}),
            ("e", "END"),
        ],
        [("s", "p"), ("p", "bad", "PARALLEL"), ("p", "slow", "PARALLEL"), ("p", "e")],
    )
    h = run_graph(g)
    st = steps(h)
    assert h.status == "failed"
    assert st["slow"]["status"] == "cancelled"
    assert st["p"]["status"] == "failed" and st["p"]["error_type"] == "http_4xx"
    assert "branch broke" in h.error_message


def test_failed_parallel_node_can_be_handled_with_an_error_connection():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("bad", "FAIL"),
            ("fine", "ECHO"),
            ("rescue", "ECHO", {"value": "rescued"}),
            ("e", "END"),
        ],
        [
            ("s", "p"),
            ("p", "bad", "PARALLEL"),
            ("p", "fine", "PARALLEL"),
            ("p", "e"),
            ("p", "rescue", "ERROR"),
            ("rescue", "e"),
        ],
    )
    h = run_graph(g)
    assert h.status == "completed"
    assert steps(h)["rescue"]["output_data"] == {"value": "rescued"}


def test_a_handled_failure_inside_a_branch_keeps_the_branch_going():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("bad", "FAIL"),
            ("fix", "ECHO", {"value": "fixed"}),
            ("ok", "ECHO"),
            ("e", "END"),
        ],
        [("s", "p"), ("p", "bad", "PARALLEL"), ("bad", "fix", "ERROR"), ("p", "ok", "PARALLEL"), ("p", "e")],
    )
    h = run_graph(g)
    assert h.status == "completed"
    assert h.output_data["p"]["branches"][0] == {"value": "fixed"}


def test_branches_meeting_at_a_node_join_there_after_the_parallel_node():
    g = graph(
        [
            ("s", "START"),
            ("p", "PARALLEL"),
            ("a", "ECHO", {"value": "A"}),
            ("b", "DELAY", {"seconds": 0.02}),
            ("meet", "ECHO", {"value": "{{a.value}}-{{b.seconds}}"}),
            ("e", "END"),
        ],
        [
            ("s", "p"),
            ("p", "a", "PARALLEL"),
            ("p", "b", "PARALLEL"),
            ("a", "meet"),
            ("b", "meet"),
            ("meet", "e"),
        ],
    )
    h = run_graph(g)
    st = steps(h)
    assert [r for r in h.steps if r["step_name"] == "meet"][0]["output_data"] == {"value": "A-0.02"}
    assert st["meet"]["sequence"] > st["p"]["sequence"]
    assert sum(1 for r in h.steps if r["step_name"] == "meet") == 1


def test_a_thousand_branches():
    h = run_graph(_fan_out(1000, {}))
    assert h.status == "completed"
    assert len(h.output_data["p"]["branches"]) == 1000
    assert len(h.steps) == 1003


def test_nested_scopes_meeting_nodes_and_races_inside_a_loop_end_cleanly():
    g = graph(
        [
            ("s", "START"),
            ("l", "LOOP", {"items": [1, 2, 3]}),
            ("p", "PARALLEL", {"wait_for_all": False}),
            ("fast", "ECHO", {"value": "{{loop.item}}"}),
            ("slow", "DELAY", {"seconds": 3600}),
            ("slow_next", "ECHO"),
            ("meet", "ECHO", {"value": "{{fast.value}}"}),
            ("inner", "PARALLEL", {"max_concurrent": 1}),
            ("i1", "ECHO", {"value": "i1"}),
            ("i2", "ECHO", {"value": "i2"}),
            ("e", "END", {"output": "{{l.results}}"}),
        ],
        [
            ("s", "l"),
            ("l", "p", "LOOP"),
            ("p", "fast", "PARALLEL"),
            ("p", "slow", "PARALLEL"),
            ("slow", "slow_next"),
            ("fast", "meet"),
            ("slow_next", "meet"),
            ("meet", "inner"),
            ("inner", "i1", "PARALLEL"),
            ("inner", "i2", "PARALLEL"),
            ("inner", "l"),
            ("l", "e"),
        ],
    )

    h = _run_without_waiting_for_the_hour_long_delays(g)
    st = steps(h)
    assert h.status == "completed"
    assert h.output_data == [{"branches": [{"value": "i1"}, {"value": "i2"}]}] * 3
    for i in range(3):
        assert st[f"slow[{i}]"]["status"] == "cancelled"
        assert f"slow_next[{i}]" not in st
        assert st[f"meet[{i}]"]["output_data"] == {"value": i + 1}


def test_a_skipped_parallel_node_skips_its_branches_meeting_node_too():
    g = graph(
        [
            ("s", "START"),
            ("c", "CONDITION", {"condition": "false"}),
            ("p", "PARALLEL"),
            ("a", "ECHO"),
            ("b", "ECHO"),
            ("meet", "ECHO"),
            ("other", "ECHO"),
            ("e", "END"),
        ],
        [
            ("s", "c"),
            ("c", "p", "CONDITIONAL_TRUE"),
            ("c", "other", "CONDITIONAL_FALSE"),
            ("p", "a", "PARALLEL"),
            ("p", "b", "PARALLEL"),
            ("a", "meet"),
            ("b", "meet"),
            ("meet", "e"),
            ("other", "e"),
        ],
    )

    async def main():
        return await eventually(executor().execute_graph(g), "the end of the run")

    h = asyncio.run(main())
    st = steps(h)
    assert h.status == "completed"
    assert st["p"]["status"] == "skipped" and st["meet"]["status"] == "skipped"
    assert st["a"]["status"] == "skipped" and st["b"]["status"] == "skipped"  # never started
    assert st["e"]["status"] == "success"


def _start_log_executor():
    log: list[str] = []

    async def mark(ctx):
        log.append(ctx.node.name)
        await asyncio.sleep(0.05)  # the branch's work, long enough for all 200 to be running at once
        return {}

    ex = executor()
    ex.register_node_handler("MARK", mark)
    return ex, log


def test_many_branches_start_over_several_loop_turns_and_all_run_at_once():
    async def main():
        ex, log = _start_log_executor()
        ticks: list[int] = []
        stop = False

        async def ticker():
            while not stop:
                ticks.append(len(log))  # branches started when the loop got to this task
                await asyncio.sleep(0)

        tick_task = asyncio.create_task(ticker())
        h = await ex.execute_graph(_fan_out(200, {"max_concurrent": 0}, ("MARK", {})))
        stop = True
        await tick_task
        return h, log, ticks

    h, log, ticks = asyncio.run(main())
    assert h.status == "completed"
    assert log == [f"b{i}" for i in range(200)]
    # other tasks ran between the first and the last branch start
    assert any(0 < n < 200 for n in ticks)


def test_max_concurrent_holds_across_start_batches():
    async def main():
        ex, state = _probe_executor()
        h = await ex.execute_graph(_fan_out(100, {"max_concurrent": 40}, ("PROBE", {})))
        return h, state

    h, state = asyncio.run(main())
    assert h.status == "completed"
    assert state["max"] == 40
    assert len(h.output_data["p"]["branches"]) == 100


def test_a_finished_fan_out_leaves_no_cyclic_garbage():
    """A run's outputs, frames and ended branches are freed by reference counting as it ends:
    after a run of 300 branches the cyclic collector finds next to nothing (it found some 3,000
    objects per run when the run's state waited for it; gc_control.py says what that cost)."""
    import gc

    async def main():
        ex = executor()
        g = _fan_out(300, {"max_concurrent": 20}, ("ECHO", {"value": {"n": [1]}}))
        await ex.execute_graph(g)  # the plan is compiled and cached: what stays is the executor's
        gc.collect()
        gc.disable()
        try:
            h = await ex.execute_graph(g)
            assert h.status == "completed" and len(h.steps) == 303
            del h
            found = gc.collect()
        finally:
            gc.enable()
            await ex.aclose()
        return found

    found = asyncio.run(main())
    assert found < 300, f"{found} objects of the finished run waited for the cyclic collector"
