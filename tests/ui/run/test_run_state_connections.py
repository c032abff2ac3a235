"""The run state's taken and dead connections mirror what the engine reports in each NodeFinished
(`taken`, `dead`), for conditions, loops (the connection back to the LOOP), PARALLEL branches and
handled failures; a replayed run shows the same as the live one. Real engine runs, real RunState."""

from __future__ import annotations

import asyncio

from flowdesk.engine import events as ev
from flowdesk.services.executions import ExecutionService
from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.workflows import WorkflowService
from flowdesk.ui.run.run_state import RunState
from tests.support.graph_builder import executor, graph

GRAPH = graph(
    [
        ("start", "START"),
        ("check", "CONDITION", {"condition": "{{input.n}} > 1"}),
        ("each", "LOOP", {"items": "{{input.xs}}"}),
        ("body", "ECHO", {"value": "{{loop.item}}"}),
        ("no", "ECHO"),
        ("fan", "PARALLEL"),
        ("fine", "ECHO"),
        ("bad", "FAIL"),
        ("rescue", "ECHO"),
        ("end", "END"),
    ],
    [
        ("start", "check"),
        ("check", "each", "CONDITIONAL_TRUE"),
        ("check", "no", "CONDITIONAL_FALSE"),
        ("each", "body", "LOOP"),
        ("body", "each"),
        ("each", "fan"),
        ("no", "fan"),
        ("fan", "fine", "PARALLEL"),
        ("fan", "bad", "PARALLEL"),
        ("bad", "rescue", "ERROR"),
        ("fan", "end"),
    ],
    name="connections",
)
OUTGOING: dict[str, list[tuple[str, str]]] = {n.name: [] for n in GRAPH.nodes}
for c in GRAPH.connections:
    OUTGOING[c.from_node].append((c.to_node, str(c.connection_type)))


def _run(db=None):
    async def main():
        ex = executor(db=db, persist=db is not None)
        seen: list[ev.EngineEvent] = []
        ex.subscribe(seen.append)
        try:
            if db is None:
                handle = await ex.execute_graph(GRAPH, {"n": 2, "xs": [1, 2]})
            else:
                wid = (await asyncio.to_thread(WorkflowService(db).find_workflow, "connections")).id
                handle = await ex.execute_workflow(wid, {"n": 2, "xs": [1, 2]})
        finally:
            await ex.aclose()
        return handle, seen

    return asyncio.run(main())


def test_a_live_run_shows_the_connections_the_engine_resolved(qtbot):
    handle, events = _run()
    assert handle.status == "completed"
    state = RunState(None, OUTGOING, len(GRAPH.nodes))
    state.apply(events)
    assert state.taken == {
        ("start", "check"),
        ("check", "each"),
        ("each", "body"),
        ("body", "each"),  # back to the LOOP: the iteration went on
        ("each", "fan"),
        ("fan", "fine"),
        ("fan", "bad"),
        ("bad", "rescue"),
        ("fan", "end"),
    }
    assert state.dead == {("check", "no"), ("no", "fan")}
    assert state.nodes["no"].status == "skipped" and state.nodes["rescue"].status == "success"


def test_the_state_mirrors_the_event_rather_than_working_it_out(qtbot):
    state = RunState(1, {"a": [("b", "SEQUENCE"), ("c", "SEQUENCE")], "b": [], "c": []}, 3)
    state.apply(
        [
            ev.NodeStarted(1, 1.0, node_name="a", node_type="ECHO", step_name="a"),
            ev.NodeFinished(
                1, 2.0, node_name="a", node_type="ECHO", step_name="a", status="success", taken=("b",)
            ),
        ]
    )
    assert state.taken == {("a", "b")} and state.dead == set()  # a → c is not resolved yet
    state.apply(
        [
            ev.NodeFinished(
                1, 4.0, node_name="a", node_type="ECHO", step_name="a", status="success", dead=("b", "c")
            )
        ]
    )
    assert state.taken == {("a", "b")}  # once taken, stays taken (a node in a loop finishes again)
    assert state.dead == {("a", "c")}


def test_a_replayed_run_shows_what_the_live_run_showed(qtbot, db):
    NodeTypeService(db).register_node_type("ECHO", description="a test node type")
    NodeTypeService(db).register_node_type("FAIL", description="a test node type")
    WorkflowService(db).create_from_graph(GRAPH)
    handle, events = _run(db)
    live = RunState(handle.workflow_id, OUTGOING, len(GRAPH.nodes))
    live.apply(events)
    service = ExecutionService(db)
    replayed = RunState.from_history(
        service.get_execution(handle.id), service.get_logs(handle.id), OUTGOING, len(GRAPH.nodes)
    )
    assert replayed.taken == live.taken
    assert replayed.dead == live.dead
