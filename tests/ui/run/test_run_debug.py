"""Run and debug through the real actions: run, step, breakpoints, stop, failures, history replay."""

from __future__ import annotations

import time

import pytest

from flowdesk.domain.enums import ConnectionType, ExecutionStatus, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.services.executions import ExecutionService
from flowdesk.ui.run.history_dock import HistoryView
from tests.support.app_driving import (
    action,
    api,
    branch_graph,
    chain_graph,
    delay,
    give_input,
    open_graph,
    run_and_wait,
)
from tests.support.waiting import EVENTUALLY_MS


def test_run_shows_badges_taken_paths_log_lines_and_history(window, qtbot, http_server):
    tab = open_graph(window, branch_graph("branching", http_server.url))
    state = run_and_wait(qtbot, window, tab, '{"x": 5}')
    assert state.status == "completed"
    assert state.progress == 100.0
    overlay = window.run_ui.controller(tab).overlay
    badges = {name: badge.text for name, badge in overlay.badges.items()}
    assert set(badges) == {"start", "check", "fetch", "wait", "end"}
    assert badges["fetch"].startswith("✓ ") and "ms" in badges["fetch"]
    assert badges["wait"] == "↷ skipped"
    assert {("check", "fetch"), ("fetch", "end"), ("start", "check")} <= set(overlay.taken_items)
    assert ("check", "wait") in overlay.dimmed and ("wait", "end") in overlay.dimmed
    dead_item = overlay._connection_items("check", "wait")[0]
    assert dead_item.opacity() < 0.5
    assert not overlay.highlights  # nothing running any more
    lines = window.run_ui.log_view.lines()
    assert any("fetch" in line and "success" in line for line in lines)
    assert any("wait" in line and "skipped" in line for line in lines)
    assert "execution completed" in lines[-1]
    history = window.run_ui.history
    assert history.table.rowCount() == 1
    assert history.table.item(0, 1).text() == "completed"
    assert history.table.item(0, HistoryView.INPUT).text() == '{"x":5}'
    assert window.run_ui.status_label.text() == "Completed"
    assert window.run_ui.progress.value() == 100
    row = ExecutionService(window.backend.db).get_execution(state.execution_id)
    assert row.status == ExecutionStatus.COMPLETED


def test_step_through_three_nodes(window, qtbot):
    tab = open_graph(window, chain_graph("three", [delay("work")]))
    ui = window.run_ui
    controller = ui.controller(tab)
    overlay = controller.overlay
    step = action(window, "actionStep")
    step.trigger()
    give_input(qtbot, window, '{"n": 1}')
    qtbot.waitUntil(
        lambda: controller.live is not None and overlay.lit_nodes == {"start"}, timeout=EVENTUALLY_MS
    )
    assert controller.paused and controller.live.status == "paused"
    assert action(window, "actionContinue").isEnabled() and step.isEnabled()
    for done, lit in (("start", "work"), ("work", "end")):
        step.trigger()
        qtbot.waitUntil(
            lambda d=done, lt=lit: overlay.lit_nodes == {lt} and d in overlay.badges, timeout=EVENTUALLY_MS
        )
        assert controller.live.status == "paused"
        assert controller.live.nodes[done].status == "success"
        assert lit not in controller.live.nodes  # not run yet
        assert ui.step_label.text() == f"Step: {lit}"
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        step.trigger()
    assert controller.live.status == "completed"
    assert overlay.lit_nodes == set()
    assert set(overlay.badges) == {"start", "work", "end"}


def test_step_through_a_loop_and_the_label_names_the_next_node(window, qtbot):
    nodes = [
        Node(name="start", node_type=NodeType.START),
        Node(name="each", node_type=NodeType.LOOP, config={"items": [1, 2]}, position_x=260),
        delay("work").model_copy(update={"position_x": 520, "position_y": 200}),
        Node(name="end", node_type=NodeType.END, position_x=780),
    ]
    conns = [
        Connection(from_node="start", to_node="each"),
        Connection(from_node="each", to_node="work", connection_type=ConnectionType.LOOP),
        Connection(from_node="work", to_node="each"),
        Connection(from_node="each", to_node="end"),
    ]
    tab = open_graph(
        window, WorkflowGraph(workflow=Workflow(name="stepped loop"), nodes=nodes, connections=conns)
    )
    ui = window.run_ui
    controller = ui.controller(tab)
    step = action(window, "actionStep")
    step.trigger()
    give_input(qtbot, window)
    qtbot.waitUntil(
        lambda: controller.live is not None and ui.step_label.text() == "Step: start", timeout=5000
    )
    for after in ("each", "work[0]", "work[1]", "end"):
        step.trigger()  # each click runs one node, and the label names the next one at once
        qtbot.waitUntil(lambda a=after: ui.step_label.text() == f"Step: {a}", timeout=10_000)
        assert controller.live.status == "paused"
    with qtbot.waitSignal(controller.run_finished, timeout=10_000):
        step.trigger()
    assert controller.live.status == "completed"


def test_breakpoint_pauses_before_its_node_and_continue_finishes(window, qtbot):
    tab = open_graph(window, chain_graph("bp", [delay("a"), delay("b"), delay("c")]))
    controller = window.run_ui.controller(tab)
    b = tab.doc.node_by_name("b")
    tab.doc.set_selection([b.uid], [])
    action(window, "actionToggleBreakpoint").trigger()
    assert set(controller.overlay.breakpoint_dots) == {b.uid}
    assert controller.overlay.breakpoint_dots[b.uid].parentItem() is tab.scene.node_items[b.uid]
    action(window, "actionRun").trigger()
    give_input(qtbot, window)
    qtbot.waitUntil(
        lambda: controller.paused and controller.overlay.lit_nodes == {"b"}, timeout=EVENTUALLY_MS
    )
    live = controller.live
    assert live.nodes["a"].status == "success" and "b" not in live.nodes
    assert "breakpoint" in window.run_ui.status_label.text()
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        action(window, "actionContinue").trigger()
    assert live.status == "completed" and live.nodes["c"].status == "success"
    # toggling again removes the dot
    action(window, "actionToggleBreakpoint").trigger()
    assert controller.overlay.breakpoint_dots == {}


def _stop_a_running_delay(window, qtbot, seconds: float):
    """Run START -> DELAY(seconds) -> END, press Stop while the DELAY runs; returns (controller,
    seconds from Stop to the end of the run)."""
    tab = open_graph(window, chain_graph("slow", [delay("nap", seconds)]))
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    give_input(qtbot, window)
    qtbot.waitUntil(lambda: "nap" in controller.overlay.highlights, timeout=EVENTUALLY_MS)
    assert window.run_ui.status_label.text() == "Running"
    assert window.run_ui.step_label.text() == "Step: nap"
    stop = action(window, "actionStop")
    assert stop.isEnabled()
    t0 = time.perf_counter()
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        stop.trigger()
    return controller, time.perf_counter() - t0


def test_stop_cancels_the_run(window, qtbot):
    # An hour-long DELAY: a Stop that did not cancel it would leave the run going past the wait.
    controller, _ = _stop_a_running_delay(window, qtbot, 3600)
    assert controller.live.status == "cancelled"
    assert controller.overlay.badges["nap"].text.startswith("■ cancelled")
    assert not controller.overlay.highlights


@pytest.mark.perf
def test_stop_cancels_within_a_second(window, qtbot):
    controller, took = _stop_a_running_delay(window, qtbot, 30)
    assert controller.live.status == "cancelled"
    assert took < 1.0


def test_failing_api_call_shows_failed_with_error_and_attempts_in_the_inspector(window, qtbot, http_server):
    graph = chain_graph(
        "failing", [api("broken", f"{http_server.url}/status/503", retry_count=1, retry_delay=0.01)]
    )
    tab = open_graph(window, graph)
    state = run_and_wait(qtbot, window, tab)
    assert state.status == "failed"
    overlay = window.run_ui.controller(tab).overlay
    assert overlay.badges["broken"].text.startswith("✗ failed")
    assert "2 tries" in overlay.badges["broken"].text
    tab.doc.set_selection([tab.doc.node_by_name("broken").uid], [])
    inspector = window.run_ui.data_inspector
    assert inspector.node_name == "broken"
    assert inspector.error.isVisible() or not inspector.error.isHidden()
    assert "503" in inspector.error.text()
    attempts = inspector.item_at_path("attempts", ())
    assert attempts is not None and attempts.childCount() == 2
    assert inspector.item_at_path("attempts", (0, "status")).text(1) == "503"
    assert any("broken" in line and "failed" in line for line in window.run_ui.log_view.lines())


def test_selecting_a_past_execution_replays_it_from_the_database(window, qtbot, http_server):
    tab = open_graph(window, branch_graph("replay", http_server.url))
    first = run_and_wait(qtbot, window, tab, '{"x": 5}')
    second = run_and_wait(qtbot, window, tab, '{"x": 0}')
    controller = window.run_ui.controller(tab)
    assert controller.overlay.badges["fetch"].text == "↷ skipped"
    history = window.run_ui.history
    assert history.table.rowCount() == 2
    assert history.select_execution(first.execution_id)
    shown = controller.state
    assert shown is not first and not shown.live and shown.execution_id == first.execution_id
    assert shown.nodes["fetch"].status == "success" and shown.nodes["wait"].status == "skipped"
    assert controller.overlay.badges["fetch"].text.startswith("✓ ")
    assert ("check", "fetch") in controller.overlay.taken_items
    assert ("check", "wait") in controller.overlay.dimmed
    assert "from history" in window.run_ui.status_label.text()
    tab.doc.set_selection([tab.doc.node_by_name("fetch").uid], [])
    inspector = window.run_ui.data_inspector
    assert inspector.item_at_path("response", ("status",)).text(1) == "200"
    assert inspector.item_at_path("input", ()) is not None  # the resolved input, read from the row
    body_id = inspector.item_at_path("response", ("body", "id"))
    assert body_id is not None and body_id.text(1) == "7"
    assert inspector.copy_path(body_id) == "{{fetch.response.data.id}}"
    assert history.select_execution(second.execution_id)
    assert controller.state.nodes["fetch"].status == "skipped"
    assert controller.overlay.badges["wait"].text.startswith("✓ ")


def test_rerun_and_delete_from_history(window, qtbot, http_server):
    tab = open_graph(window, branch_graph("again", http_server.url))
    run_and_wait(qtbot, window, tab, '{"x": 9}')
    history = window.run_ui.history
    controller = window.run_ui.controller(tab)
    history.table.selectRow(0)
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        history.rerun_button.click()
    assert history.table.rowCount() == 2
    service = ExecutionService(window.backend.db)
    runs = service.list_executions(workflow_id=tab.workflow_id)
    assert [r.input_data for r in runs] == [{"x": 9}, {"x": 9}]
    history.select_execution(runs[1].id)
    assert history.delete_selected(ask=False) == 1
    assert [r.id for r in service.list_executions(workflow_id=tab.workflow_id)] == [runs[0].id]
    assert history.table.rowCount() == 1
    history.status.setCurrentIndex(history.status.findData("failed"))
    assert history.table.rowCount() == 0
    history.status.setCurrentIndex(history.status.findData("completed"))
    assert history.table.rowCount() == 1


def test_two_workflows_run_at_once_each_tab_shows_its_own(window, qtbot):
    tab_a = open_graph(window, chain_graph("first", [delay("sleep a", 5)]))
    ui = window.run_ui
    action(window, "actionRun").trigger()
    give_input(qtbot, window, '{"which": "a"}')
    tab_b = open_graph(window, chain_graph("second", [delay("sleep b", 5)]))
    action(window, "actionRun").trigger()
    give_input(qtbot, window, '{"which": "b"}')
    a, b = ui.controller(tab_a), ui.controller(tab_b)
    qtbot.waitUntil(
        lambda: "sleep a" in a.overlay.highlights and "sleep b" in b.overlay.highlights, timeout=EVENTUALLY_MS
    )
    assert a.running and b.running
    assert ui.log_view.state is b.state
    window.tabs.setCurrentWidget(tab_a)
    assert ui.log_view.state is a.state
    assert any("sleep a" in line for line in ui.log_view.lines() + [e.text() for e in a.state.log])
    qtbot.waitUntil(lambda: a.live.done and b.live.done, timeout=EVENTUALLY_MS)
    assert a.live.status == b.live.status == "completed"
    assert set(a.live.nodes) == {"start", "sleep a", "end"}
    assert set(b.live.nodes) == {"start", "sleep b", "end"}


def test_closing_a_tab_during_a_run_stops_it_cleanly(window, qtbot):
    tab = open_graph(window, chain_graph("closing", [delay("long nap", 3600)]))
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    give_input(qtbot, window)
    qtbot.waitUntil(lambda: "long nap" in controller.overlay.highlights, timeout=EVENTUALLY_MS)
    live = controller.live
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        window.close_tab(tab, ask=False)
        qtbot.waitUntil(lambda: not window.editor_tabs(), timeout=EVENTUALLY_MS)
    assert live.status == "cancelled"
    assert controller not in window.run_ui.controllers.values()
    assert not action(window, "actionRun").isEnabled()
