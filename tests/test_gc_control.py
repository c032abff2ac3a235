"""The collector is held while runs go on and given back when the last one ends."""

from __future__ import annotations

import asyncio
import gc

from flowdesk.gc_control import gc_paused, heap_held, hold_heap, release_heap
from tests.engine.graph_builder import executor, graph


def test_holds_are_counted_and_the_last_release_unfreezes():
    assert gc.get_freeze_count() == 0
    hold_heap()
    try:
        assert gc.get_freeze_count() > 0
        with heap_held():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the first hold is still there
    finally:
        release_heap()
    assert gc.get_freeze_count() == 0
    release_heap()  # an extra release changes nothing
    assert gc.get_freeze_count() == 0


def test_gc_paused_restores_the_previous_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_run_holds_the_heap_while_it_goes_on_and_releases_it_however_it_ends():
    seen: list[int] = []
    g = graph(
        [("s", "START"), ("d", "DELAY", {"seconds": 0.05}), ("e", "END")],
        [("s", "d"), ("d", "e")],
    )

    async def main():
        ex = executor()
        handle = await ex.execute_graph(g, config={"async": True})
        await asyncio.sleep(0.01)
        seen.append(gc.get_freeze_count())
        await handle.wait()
        cancelled = await ex.execute_graph(
            graph([("s", "START"), ("d", "DELAY", {"seconds": 10}), ("e", "END")], [("s", "d"), ("d", "e")]),
            config={"async": True},
        )
        await asyncio.sleep(0.01)
        cancelled.cancel()
        await cancelled.wait()
        return handle, cancelled

    handle, cancelled = asyncio.run(main())
    assert handle.status == "completed" and cancelled.status == "cancelled"
    assert seen[0] > 0
    assert gc.get_freeze_count() == 0
