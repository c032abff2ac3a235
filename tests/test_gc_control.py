"""Holds on the heap are counted; the collector is given back when the last one ends."""

from __future__ import annotations

import gc

from flowdesk.gc_control import gc_paused, heap_held, hold_heap, release_heap


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


def test_young_collections_are_spaced_while_runs_go_on_and_restored_after():
    from flowdesk.gc_control import (
        RUN_YOUNG_THRESHOLD,
        space_young_collections,
        spaced_young_collections,
        unspace_young_collections,
    )

    before = gc.get_threshold()
    space_young_collections()
    try:
        assert gc.get_threshold()[0] == RUN_YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        with spaced_young_collections():  # a second run at the same time
            assert gc.get_threshold()[0] == RUN_YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == RUN_YOUNG_THRESHOLD  # the first run still goes on
    finally:
        unspace_young_collections()
    assert gc.get_threshold() == before
    unspace_young_collections()  # an extra one changes nothing
    assert gc.get_threshold() == before


def test_an_engine_run_spaces_young_collections_and_gives_them_back(tmp_path):
    import asyncio

    from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.gc_control import RUN_YOUNG_THRESHOLD

    seen: list[int] = []
    graph = WorkflowGraph(
        workflow=Workflow(name="gc"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(name="probe", node_type="PROBE"),
            Node(name="end", node_type="END"),
        ],
        connections=[
            Connection(from_node="start", to_node="probe"),
            Connection(from_node="probe", to_node="end"),
        ],
    )

    async def probe(ctx):
        seen.append(gc.get_threshold()[0])
        return {}

    async def scenario():
        async with WorkflowExecutor(db=tmp_path / "gc.db", load_plugins=False) as executor:
            executor.register_node_handler("PROBE", probe)
            return await executor.execute_graph(graph, {})

    before = gc.get_threshold()
    execution = asyncio.run(scenario())
    assert str(execution.status) == "completed", execution.error_message
    assert seen == [RUN_YOUNG_THRESHOLD]
    assert gc.get_threshold() == before
