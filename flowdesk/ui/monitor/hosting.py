"""MonitorHost: the monitoring views inside the main window.

`MonitorHost(window)` adds, without the window's own code knowing about monitoring:

- the action `actionMonitor` (View menu, Ctrl+Shift+M): a "Monitor" page for the current workflow
  (or the one selected in the Workflows list) in the dock `dockMonitor`, one tab per workflow;
- the dock `dockTimeline` with the run timeline (Gantt) of the run last opened from a monitor
  page's drill-down or from the active runs; clicking a bar selects that node on its workflow's canvas;
- the dock `dockActiveRuns` with the running and paused runs of every workflow, following the
  run UI's executor (for live updates and Cancel) once `install_run_ui` has added it;
- the dock `dockWorkers` with the workers on the configured broker (setting `workers/broker`, else
  $FLOWDESK_BROKER): who is alive, what each runs, the queue lengths (workers_panel.py);
- the retention job (`RetentionPolicy`, settings group `retention/`) on the app's qasync loop.

`close()` (called by the window when it closes) stops the retention job and the live panel.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QDockWidget,
    QFrame,
    QScrollArea,
    QStyle,
    QStyleOption,
    QTabBar,
    QTabWidget,
    QWidget,
)

from flowdesk.domain.errors import FlowdeskError, InvalidInputError
from flowdesk.services.monitor import RetentionPolicy, WorkflowMonitor
from flowdesk.services.monitoring import MonitorQueries

from .active_panel import ActiveExecutionsPanel
from .monitor_view import MonitorView
from .query_runner import wait_for_queries
from .timeline import RunTimeline
from .workers_panel import WorkersPanel

log = logging.getLogger(__name__)

#: Below this a monitor page scrolls instead of squeezing its charts.
MONITOR_MIN_WIDTH = 760
MONITOR_MIN_HEIGHT = 600

#: QSettings keys (group `retention/`) and how their text is read.
RETENTION_KEYS = {
    "enabled": "bool",
    "older_than_days": "float",
    "keep_last": "int",
    "interval_hours": "float",
    "batch_size": "int",
}


def retention_settings(settings: Any) -> dict[str, Any]:
    """The `retention/*` values of a QSettings as RetentionPolicy.from_settings wants them.

    An empty value means "no limit" (None); unreadable text raises InvalidInputError naming the key.
    """
    values: dict[str, Any] = {}
    for key, kind in RETENTION_KEYS.items():
        raw = settings.value(f"retention/{key}")
        if raw is None:
            continue
        if isinstance(raw, str):
            text = raw.strip()
            if kind == "bool":
                if text.casefold() not in ("true", "false", "1", "0", "yes", "no"):
                    raise InvalidInputError(f"Setting retention/{key} must be true or false, not '{raw}'.")
                values[key] = text.casefold() in ("true", "1", "yes")
                continue
            if text == "":
                values[key] = None
                continue
            try:
                values[key] = int(text) if kind == "int" else float(text)
            except ValueError:
                raise InvalidInputError(f"Setting retention/{key} must be a number, not '{raw}'.") from None
        else:
            values[key] = raw
    return values


class _TabCloseButton(QAbstractButton):
    """The tab bar's own close button look (PE_IndicatorTabClose), for monitor pages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.ArrowCursor)
        self.setToolTip("Close this monitor")
        self.resize(self.sizeHint())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        style = self.style()
        w = style.pixelMetric(QStyle.PixelMetric.PM_TabCloseIndicatorWidth, None, self)
        h = style.pixelMetric(QStyle.PixelMetric.PM_TabCloseIndicatorHeight, None, self)
        return QSize(w, h)

    def enterEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().leaveEvent(event)

    def paintEvent(self, _event) -> None:  # noqa: N802
        option = QStyleOption()
        option.initFrom(self)
        if self.isEnabled() and self.underMouse() and not self.isChecked() and not self.isDown():
            option.state |= QStyle.StateFlag.State_Raised
        if self.isDown():
            option.state |= QStyle.StateFlag.State_Sunken
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorTabClose, option, painter, self)
        painter.end()


class MonitorHost(QObject):
    """Monitoring in a MainWindow: monitor pages, run timeline and active runs docks, retention."""

    def __init__(self, window: Any, *, queries: MonitorQueries | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.queries = queries if queries is not None else MonitorQueries(window.backend.db)
        self.executor: Any = None
        self.views: dict[int, MonitorView] = {}
        self.retention_task: asyncio.Task[None] | None = None
        self._retention_monitor: WorkflowMonitor | None = None
        self._run_workflows: dict[int, int] = {}  # execution id -> workflow id, as far as known
        self._closed = False
        self._build_docks()
        self._build_action()
        window.tabs.currentChanged.connect(lambda _i: self._update_action())
        self._update_action()
        QTimer.singleShot(0, self._late_setup)

    # ------------------------------------------------------------ construction
    def _build_docks(self) -> None:
        w = self.window
        self.monitor_tabs = QTabWidget()
        self.monitor_tabs.setObjectName("monitorTabs")
        self.monitor_tabs.setDocumentMode(True)
        self.monitor_tabs.setMovable(True)
        self.dock_monitor = w.add_dock(
            "dockMonitor", "Monitor", self.monitor_tabs, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.dock_monitor.hide()

        self.timeline = RunTimeline(self.queries)
        self.timeline.setObjectName("runTimeline")
        self.timeline.nodeActivated.connect(self.select_node)
        self.dock_timeline = w.add_dock(
            "dockTimeline", "Run timeline", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.dock_timeline.hide()

        self.active = self._make_active_panel(None)
        self.dock_active = w.add_dock(
            "dockActiveRuns", "Active runs", self.active, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.dock_active.visibilityChanged.connect(self._active_visibility)
        self.dock_active.hide()
        self.active.timer.stop()  # started again when the dock is shown

        from flowdesk.ui.run.worker_runs import configured_broker

        self.workers = WorkersPanel(configured_broker(w.settings))
        self.workers.setObjectName("workersPanel")
        self.dock_workers = w.add_dock(
            "dockWorkers", "Workers", self.workers, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.dock_workers.visibilityChanged.connect(self._workers_visibility)
        self.dock_workers.hide()

    def _make_active_panel(self, executor: Any) -> ActiveExecutionsPanel:
        panel = ActiveExecutionsPanel(self.queries, executor=executor)
        panel.setObjectName("activeRuns")
        panel.executionActivated.connect(lambda eid, p=panel: self._active_run_activated(p, eid))
        return panel

    def _build_action(self) -> None:
        w = self.window
        self.action_monitor = QAction("&Monitor workflow", w)
        self.action_monitor.setObjectName("actionMonitor")
        self.action_monitor.setShortcut(QKeySequence("Ctrl+Shift+M"))
        tip = "Show the workflow's runs, timings and errors (Ctrl+Shift+M)"
        self.action_monitor.setToolTip(tip)
        self.action_monitor.setStatusTip(tip)
        self.action_monitor.triggered.connect(lambda: self.show_monitor())
        w.addAction(self.action_monitor)
        menu = next((a.menu() for a in w.menuBar().actions() if a.menu() and a.text() == "&View"), None)
        if menu is None:
            menu = w.menuBar().addMenu("&View")
        menu.addSeparator()
        menu.addAction(self.action_monitor)
        for dock in (self.dock_monitor, self.dock_timeline, self.dock_active, self.dock_workers):
            menu.addAction(dock.toggleViewAction())
        w.browser.table.itemSelectionChanged.connect(self._update_action)
        w.browser.deleted.connect(self.close_monitor)  # a deleted workflow has nothing to monitor

    def _late_setup(self) -> None:
        """After the window is built (and the run UI installed): executor, retention. The docks'
        default places are the main window's (MainWindow.apply_default_layout)."""
        if self._closed:
            return
        run_ui = getattr(self.window, "run_ui", None)
        executor = getattr(getattr(run_ui, "host", None), "executor", None)
        if executor is not None:
            self.attach_executor(executor)
        if not self.views:
            # a saved layout may show the monitor dock, but its pages are not restored: no empty dock
            self.dock_monitor.hide()
        self.start_retention()

    # ------------------------------------------------------------ executor and retention
    def attach_executor(self, executor: Any) -> None:
        """Follow `executor`'s events in the active runs panel (live node, immediate end, Cancel)."""
        if executor is self.executor:
            return
        self.executor = executor
        old = self.active
        old.shutdown()
        self.active = self._make_active_panel(executor)
        self.dock_active.setWidget(self.active)
        old.deleteLater()
        self._active_visibility(self.dock_active.isVisible())

    def _active_visibility(self, visible: bool) -> None:
        self._live_panel_visibility(self.active, visible)

    def _workers_visibility(self, visible: bool) -> None:
        self._live_panel_visibility(self.workers, visible)

    def _live_panel_visibility(self, panel: Any, visible: bool) -> None:
        # A live panel asks again every second or two (the database, the workers): only while
        # someone can see it.
        if self._closed:
            return
        if visible:
            panel.timer.start()
            panel.refresh()
        else:
            panel.timer.stop()

    def start_retention(self) -> asyncio.Task[None] | None:
        """Start the retention job on the running asyncio (qasync) loop, if there is one."""
        if self.retention_task is not None or self._closed:
            return self.retention_task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # no qasync loop (tests, scripts): nothing runs on a schedule
        try:
            policy = RetentionPolicy.from_settings(retention_settings(self.window.settings))
        except (FlowdeskError, TypeError, ValueError) as err:
            log.warning("Retention is off: %s", err)
            self.window.show_status(f"Retention is off: {err}")
            return None
        if not policy.enabled:
            return None
        self._retention_monitor = WorkflowMonitor(db=self.window.backend.db)
        self.retention_task = loop.create_task(policy.run_periodically(self._retention_monitor))
        return self.retention_task

    # ------------------------------------------------------------ monitor pages
    def _target_workflow(self) -> int | None:
        tab = self.window.current_tab()
        if tab is not None and tab.workflow_id is not None:
            return tab.workflow_id
        return self.window.browser.selected_id()

    def _update_action(self) -> None:
        if not self._closed:
            self.action_monitor.setEnabled(self._target_workflow() is not None)

    def show_monitor(self, workflow_id: int | None = None) -> MonitorView | None:
        """Show the monitor page of `workflow_id` (the current workflow by default), made on first use."""
        workflow_id = workflow_id if workflow_id is not None else self._target_workflow()
        if workflow_id is None:
            self.window.show_status("Open or select a workflow to monitor it")
            return None
        view = self.views.get(workflow_id)
        if view is None:
            view = MonitorView(self.queries, workflow_id)
            view.setObjectName(f"monitor-{workflow_id}")
            view.executionActivated.connect(lambda eid, wid=workflow_id: self.show_execution(eid, wid))
            view.loaded.connect(lambda v=view: self._view_loaded(v))
            self.views[workflow_id] = view
            # A page scrolls rather than squeezing its charts when the dock is small.
            view.setMinimumSize(MONITOR_MIN_WIDTH, MONITOR_MIN_HEIGHT)
            page = QScrollArea()
            page.setObjectName(f"monitorPage-{workflow_id}")
            page.setWidgetResizable(True)
            page.setFrameShape(QFrame.Shape.NoFrame)
            page.setWidget(view)
            index = self.monitor_tabs.addTab(page, self._workflow_name(workflow_id))
            button = _TabCloseButton()
            button.clicked.connect(lambda _c=False, v=view: self.close_monitor(v.workflow_id))
            self.monitor_tabs.tabBar().setTabButton(index, QTabBar.ButtonPosition.RightSide, button)
        else:
            view.refresh()
        self.monitor_tabs.setCurrentWidget(self._page(view))
        first_time = not self.dock_monitor.isVisible()
        self.dock_monitor.show()
        self.dock_monitor.raise_()
        if first_time and not self.dock_monitor.isFloating():
            QTimer.singleShot(0, self._make_room)  # once the dock has its place in the layout
        return view

    def _make_room(self) -> None:
        """Give a newly shown monitor dock room for its charts: most of the bottom area's width and
        a bit more than half the window's height (the user's own sizes are kept afterwards)."""
        w = self.window
        if self._closed or self.dock_monitor.isFloating() or not self.dock_monitor.isVisible():
            return
        width = max(MONITOR_MIN_WIDTH + 30, int(w.width() * 0.6))
        area = w.dockWidgetArea(self.dock_monitor)
        # the dock in front of each other tab group of the area shares the rest of the width
        groups = [
            d
            for d in w.findChildren(QDockWidget)
            if d is not self.dock_monitor
            and d.isVisible()
            and not d.isFloating()
            and w.dockWidgetArea(d) == area
            and not d.visibleRegion().isEmpty()
        ]
        rest = max(0, w.width() - width)
        docks = [self.dock_monitor, *groups]
        sizes = [width] + [rest // max(1, len(groups))] * len(groups)
        w.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)
        w.resizeDocks([self.dock_monitor], [int(w.height() * 0.62)], Qt.Orientation.Vertical)
        # A bottom area ends where the side docks start (the inspector runs the window's full
        # height): when that leaves too little, the right-hand docks give up the difference.
        short = width - self.dock_monitor.width()
        if short > 0 and area == Qt.DockWidgetArea.BottomDockWidgetArea:
            right = [
                d
                for d in w.findChildren(QDockWidget)
                if d.isVisible()
                and not d.isFloating()
                and w.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea
                and not d.visibleRegion().isEmpty()
            ]
            if right:
                narrower = [max(d.minimumSizeHint().width(), d.width() - short) for d in right]
                w.resizeDocks(right, narrower, Qt.Orientation.Horizontal)

    def _workflow_name(self, workflow_id: int) -> str:
        tab = self.window.tab_for(workflow_id)
        if tab is not None:
            return tab.doc.workflow.name
        try:
            return self.window.backend.workflows.get_workflow(workflow_id).name
        except FlowdeskError:
            return f"Workflow {workflow_id}"

    def _page(self, view: MonitorView) -> QWidget:
        page = view.parentWidget()
        while page is not None and page.parentWidget() is not None and not isinstance(page, QScrollArea):
            page = page.parentWidget()
        return page if isinstance(page, QScrollArea) else view

    def current_view(self) -> MonitorView | None:
        """The monitor page in front, if any."""
        page = self.monitor_tabs.currentWidget()
        view = page.widget() if isinstance(page, QScrollArea) else page
        return view if isinstance(view, MonitorView) else None

    def _view_loaded(self, view: MonitorView) -> None:
        index = self.monitor_tabs.indexOf(self._page(view))
        if index >= 0 and view.workflow_id is not None:
            self.monitor_tabs.setTabText(index, self._workflow_name(view.workflow_id))

    def close_monitor(self, workflow_id: int) -> None:
        """Close the monitor page of `workflow_id`; the dock hides when no page is left."""
        view = self.views.pop(workflow_id, None)
        if view is None:
            return
        page = self._page(view)
        self.monitor_tabs.removeTab(self.monitor_tabs.indexOf(page))
        page.deleteLater()
        if not self.views:
            self.dock_monitor.hide()

    # ------------------------------------------------------------ timeline
    def show_execution(self, execution_id: int, workflow_id: int | None = None) -> None:
        """Load run `execution_id` into the timeline dock and bring the dock forward."""
        if workflow_id is not None:
            self._run_workflows[execution_id] = workflow_id
        self.timeline.load(execution_id)
        self.dock_timeline.show()
        self.dock_timeline.raise_()

    def _active_run_activated(self, panel: ActiveExecutionsPanel, execution_id: int) -> None:
        run = panel.runs.get(execution_id) or {}
        self.show_execution(execution_id, run.get("workflow_id"))

    def _workflow_of(self, execution_id: int) -> int | None:
        workflow_id = self._run_workflows.get(execution_id)
        if workflow_id is None:
            try:
                workflow_id = self.queries.execution_summary(execution_id)["workflow_id"]
            except FlowdeskError as err:
                self.window.show_status(str(err))
                return None
            self._run_workflows[execution_id] = workflow_id
        return workflow_id

    def select_node(self, node_name: str) -> bool:
        """Select and centre `node_name` on the canvas of the timeline's run's workflow (opened if
        needed). Returns whether the node was found."""
        execution_id = self.timeline.execution_id
        workflow_id = self._workflow_of(execution_id) if execution_id is not None else None
        tab = self.window.current_tab()
        if workflow_id is not None and (tab is None or tab.workflow_id != workflow_id):
            try:
                tab = self.window.open_workflow(workflow_id)
            except FlowdeskError as err:
                self.window.show_status(str(err))
                return False
        if tab is None:
            return False
        node = tab.doc.node_by_name(node_name)
        if node is None:
            self.window.show_status(f"'{tab.doc.workflow.name}' has no node named '{node_name}' any more")
            return False
        tab.focus_node(node.uid)
        return True

    # ------------------------------------------------------------ closing
    def close(self) -> None:
        """Stop the retention job and the live panel (before the executor goes away)."""
        if self._closed:
            return
        self._closed = True
        if self.retention_task is not None:
            self.retention_task.cancel()
            self.retention_task = None
        self.active.shutdown()
        self.workers.shutdown()
        # A read still running must not outlive the window: the app closes the database next.
        wait_for_queries(2000)
