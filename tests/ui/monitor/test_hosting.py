"""The monitoring views inside the main window (MonitorHost): the Monitor action and pages, the run
timeline and active runs docks, bar click -> canvas selection, layout memory, executor and retention
under the run UI's qasync loop (pytest-qt, offscreen, real SQLite files in tmp_path)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

import flowdesk.ui  # noqa: F401  (the None refcount guard before any painting)
from flowdesk.domain.enums import NodeType
from flowdesk.domain.errors import NotFoundError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.services.executions import ExecutionService
from flowdesk.store.tables import ExecutionRow
from flowdesk.ui.monitor.hosting import MONITOR_MIN_WIDTH, retention_settings
from tests.support.app_driving import close_window, make_window, open_monitor
from tests.support.monitor_seed import step_log_row
from tests.support.qt_loop import qloop, qloop_session  # noqa: F401  (the run UI's qasync loop)
from tests.support.waiting import EVENTUALLY_MS

NOW = datetime.now(UTC).replace(microsecond=0)

#: One completed run's steps: (node, offset s, duration s); a and b run in parallel.
STEPS = [("start", 0.0, 0.5), ("fetch", 0.5, 2.0), ("a", 2.5, 3.0), ("b", 2.5, 4.0), ("end", 6.5, 0.5)]


def orders_graph(name: str = "orders") -> WorkflowGraph:
    """start -> fetch -> (a, b) -> end, all DELAY 0 in the middle."""
    names = ["fetch", "a", "b"]
    nodes = [Node(name="start", node_type=NodeType.START, position_x=0, position_y=100)]
    nodes += [
        Node(
            name=n, node_type=NodeType.DELAY, config={"seconds": 0}, position_x=300 * (i + 1), position_y=100
        )
        for i, n in enumerate(names)
    ]
    nodes.append(Node(name="end", node_type=NodeType.END, position_x=1200, position_y=100))
    pairs = [("start", "fetch"), ("fetch", "a"), ("fetch", "b"), ("a", "end"), ("b", "end")]
    return WorkflowGraph(
        workflow=Workflow(name=name),
        nodes=nodes,
        connections=[Connection(from_node=x, to_node=y) for x, y in pairs],
    )


def seed_runs(db, graph: WorkflowGraph) -> dict[str, int]:
    """Three completed runs (10, 20, 30 s) and one that failed at fetch with an HTTP 404, all in
    the last hours; returns label -> execution id."""
    node_ids = {n.name: n.id for n in graph.nodes}
    types = {n.name: str(n.node_type) for n in graph.nodes}
    runs = {
        "ok10": ("completed", NOW - timedelta(hours=4), 10.0),
        "ok20": ("completed", NOW - timedelta(hours=3), 20.0),
        "ok30": ("completed", NOW - timedelta(hours=2), 30.0),
        "e404": ("failed", NOW - timedelta(hours=1), 2.5),
    }
    ids = {}
    with db.session() as s:
        for label, (status, started, duration) in runs.items():
            failed = status == "failed"
            run = ExecutionRow(
                workflow_id=graph.workflow.id,
                execution_name=label,
                status=status,
                started_at=started,
                completed_at=started + timedelta(seconds=duration),
                created_at=started,
                error_message="Node 'fetch': GET https://shop.test/x answered 404 Not Found"
                if failed
                else None,
            )
            s.add(run)
            s.flush()
            ids[label] = run.id
            for seq, (node, offset, length) in enumerate(STEPS):
                kw = {}
                if failed and node == "fetch":
                    kw = {
                        "status": "failed",
                        "error_type": "http_4xx",
                        "error_message": "Node 'fetch': GET https://shop.test/x answered 404 Not Found",
                    }
                elif failed and seq > 1:
                    kw = {"status": "skipped", "attempts": 0}
                else:
                    kw = {"status": "success"}
                if kw["status"] != "skipped":
                    begin = started + timedelta(seconds=offset)
                    kw |= {
                        "started_at": begin,
                        "completed_at": begin + timedelta(seconds=length),
                        "execution_time": length,
                    }
                s.add(step_log_row(run.id, node_ids[node], node, node, types[node], seq, **kw))
    return ids


@pytest.fixture
def window(qtbot, backend, settings, tmp_path):
    w = make_window(qtbot, backend, settings, tmp_path)
    yield w
    close_window(w)


@pytest.fixture
def orders(window):
    """The "orders" workflow with its seeded runs, open in a tab: (graph, run ids, tab)."""
    graph = window.backend.workflows.create_from_graph(orders_graph())
    ids = seed_runs(window.backend.db, graph)
    window.browser.refresh()
    tab = window.open_workflow(graph.workflow.id)
    return graph, ids, tab


def test_the_docks_and_the_action_are_there(window):
    host = window.monitor_host
    for name in ("dockMonitor", "dockTimeline", "dockActiveRuns"):
        dock = window.findChild(QDockWidget, name)
        assert dock is not None and dock.objectName() == name
    assert window.findChild(QDockWidget, "dockTimeline").widget() is host.timeline
    assert window.findChild(QDockWidget, "dockActiveRuns").widget() is host.active
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    names = {a.objectName() for a in view_menu.actions()}
    assert "actionMonitor" in names
    texts = {a.text() for a in view_menu.actions()}
    assert {"Monitor", "Run timeline", "Active runs"} <= texts
    assert not host.action_monitor.isEnabled()  # nothing open, nothing selected
    assert not host.dock_active.isVisible() and not host.active.timer.isActive()


def test_monitor_action_shows_the_workflows_figures(qtbot, window, orders):
    graph, _ids, _tab = orders
    host = window.monitor_host
    view = open_monitor(qtbot, window)
    assert view is host.views[graph.workflow.id]
    assert host.dock_monitor.isVisible()
    # the dock is given room for the charts (it starts as a small bottom dock)
    qtbot.waitUntil(lambda: host.dock_monitor.width() >= MONITOR_MIN_WIDTH, timeout=EVENTUALLY_MS)
    qtbot.waitUntil(lambda: view.cards["executions"].value.text() == "4", timeout=EVENTUALLY_MS)
    assert view.title.text() == "Monitor — orders"
    assert view.cards["success"].value.text() == "75.0 %"  # 3 completed of 4 finished
    assert view.cards["avg"].value.text() == "20.0 s"
    assert view.cards["p95"].value.text() == "30.0 s"
    assert host.monitor_tabs.tabText(host.monitor_tabs.currentIndex()) == "orders"
    # the same action again brings back the same page; a second workflow gets its own page
    host.action_monitor.trigger()
    assert host.monitor_tabs.count() == 1
    other = window.backend.workflows.create_from_graph(orders_graph("billing"))
    window.open_workflow(other.workflow.id)
    host.action_monitor.trigger()
    assert host.monitor_tabs.count() == 2
    assert host.current_view().workflow_id == other.workflow.id
    # the page's own close button closes it; the last one hides the dock
    bar = host.monitor_tabs.tabBar()
    for _ in range(2):
        button = bar.tabButton(0, bar.ButtonPosition.RightSide)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert host.monitor_tabs.count() == 0 and host.views == {}
    assert not host.dock_monitor.isVisible()
    assert len(window.editor_tabs()) == 2  # the editor tabs were not touched


def test_deleting_a_workflow_closes_its_monitor_page(qtbot, window, orders):
    graph, _ids, _tab = orders
    host = window.monitor_host
    open_monitor(qtbot, window)
    assert graph.workflow.id in host.views
    window.browser.select_id(graph.workflow.id)
    assert window.browser.delete_selected(confirm=False)
    assert host.views == {} and host.monitor_tabs.count() == 0
    assert not host.dock_monitor.isVisible()
    assert not host.action_monitor.isEnabled()


def test_drill_down_double_click_loads_the_timeline(qtbot, window, orders):
    _graph, ids, _tab = orders
    host = window.monitor_host
    view = open_monitor(qtbot, window)
    qtbot.waitUntil(lambda: view.errors_table.rowCount() == 1, timeout=EVENTUALLY_MS)
    assert view.errors_table.item(0, 0).text() == "http_404"
    with qtbot.waitSignal(view.drillDownLoaded, timeout=EVENTUALLY_MS):
        view.errors_table.selectRow(0)
    assert view.runs_table.rowCount() == 1
    item = view.runs_table.item(0, 0)
    assert item.text() == f"#{ids['e404']}"
    with qtbot.waitSignal(host.timeline.loaded, timeout=EVENTUALLY_MS):
        view.runs_table.scrollToItem(item)
        rect = view.runs_table.visualItemRect(item)
        qtbot.mouseClick(view.runs_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.runs_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert host.timeline.execution_id == ids["e404"]
    assert host.dock_timeline.isVisible()
    assert [b.node_name for b in host.timeline.bars] == ["start", "fetch"]  # the rest never started
    # executionActivated from the monitor (any run) loads that run
    with qtbot.waitSignal(host.timeline.loaded, timeout=EVENTUALLY_MS):
        view.executionActivated.emit(ids["ok30"])
    assert host.timeline.execution_id == ids["ok30"]
    assert len(host.timeline.bars) == 5 and host.timeline.row_count == 2  # a and b in parallel


def test_clicking_a_bar_selects_the_node_on_its_workflows_canvas(qtbot, window, orders):
    graph, ids, tab = orders
    host = window.monitor_host
    with qtbot.waitSignal(host.timeline.loaded, timeout=EVENTUALLY_MS):
        host.show_execution(ids["ok20"])  # workflow not given: looked up from the run
    # another workflow is in front: the click brings the run's workflow back and selects there
    other = window.backend.workflows.create_from_graph(orders_graph("billing"))
    other_tab = window.open_workflow(other.workflow.id)
    assert window.current_tab() is other_tab
    bar = next(b for b in host.timeline.bars if b.node_name == "b")
    canvas = host.timeline.canvas
    with qtbot.waitSignal(host.timeline.nodeActivated, timeout=EVENTUALLY_MS) as clicked:
        canvas.ensureVisible(bar)
        point = canvas.mapFromScene(bar.sceneBoundingRect().center())
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == ["b"]
    assert window.current_tab() is tab
    assert tab.doc.selected_nodes == {tab.doc.node_by_name("b").uid}
    assert other_tab.doc.selected_nodes == frozenset()
    # a node deleted since is reported, nothing is selected
    assert host.select_node("gone") is False
    assert "no node named 'gone'" in window.statusBar().currentMessage()
    assert tab.doc.selected_nodes == {tab.doc.node_by_name("b").uid}


def test_dock_layout_is_remembered(qtbot, backend, settings, tmp_path):
    w = make_window(qtbot, backend, settings, tmp_path)
    graph = w.backend.workflows.create_from_graph(orders_graph())
    w.open_workflow(graph.workflow.id)
    w.monitor_host.action_monitor.trigger()
    w.monitor_host.dock_timeline.show()
    w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, w.monitor_host.dock_timeline)
    close_window(w)  # saves the layout
    again = make_window(qtbot, backend, settings, tmp_path)
    try:
        timeline = again.findChild(QDockWidget, "dockTimeline")
        assert timeline.isVisible()
        assert again.dockWidgetArea(timeline) == Qt.DockWidgetArea.RightDockWidgetArea
    finally:
        close_window(again)


def test_retention_settings_are_read_from_qsettings(settings):
    assert retention_settings(settings) == {}
    settings.setValue("retention/enabled", "true")
    settings.setValue("retention/older_than_days", "30")
    settings.setValue("retention/keep_last", "")
    assert retention_settings(settings) == {"enabled": True, "older_than_days": 30.0, "keep_last": None}
    settings.setValue("retention/keep_last", "many")
    with pytest.raises(Exception, match="retention/keep_last must be a number, not 'many'"):
        retention_settings(settings)


@pytest.mark.usefixtures("qloop")
def test_with_the_run_ui_the_panel_follows_the_executor_and_retention_runs(
    qtbot, backend, settings, tmp_path
):
    settings.setValue("retention/older_than_days", "30")
    settings.setValue("retention/keep_last", "")
    graph = backend.workflows.create_from_graph(orders_graph())
    old = ExecutionService(backend.db).create_execution(graph.workflow.id, status="completed")
    with backend.db.session() as s:
        s.get(ExecutionRow, old.id).created_at = NOW - timedelta(days=200)
    recent = seed_runs(backend.db, graph)
    w = make_window(qtbot, backend, settings, tmp_path, run_ui=True)
    host = w.monitor_host
    try:
        qtbot.waitUntil(lambda: host.executor is not None, timeout=EVENTUALLY_MS)
        assert host.executor is w.run_ui.host.executor
        assert host.active.executor is host.executor
        assert w.findChild(QDockWidget, "dockActiveRuns").widget() is host.active
        task = host.retention_task
        assert task is not None

        def old_run_gone() -> bool:
            try:
                ExecutionService(backend.db).get_execution(old.id)
            except NotFoundError:
                return True
            return False

        qtbot.waitUntil(old_run_gone, timeout=EVENTUALLY_MS)
        for run_id in recent.values():  # recent runs are kept
            ExecutionService(backend.db).get_execution(run_id)
    finally:
        w.run_ui.stop_all()
        done = asyncio.ensure_future(w.run_ui.aclose())
        qtbot.waitUntil(done.done, timeout=EVENTUALLY_MS)
        w.close()
    assert not host.active.timer.isActive()  # the live panel stopped with the window
    w.deleteLater()
    qtbot.waitUntil(task.done, timeout=EVENTUALLY_MS)
    assert task.cancelled()
