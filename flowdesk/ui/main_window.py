"""MainWindow: workflows as tabs around the canvas, with the browser, palette, inspector and
problems docks, the actions (stable objectNames for tests and automation) and the status bar."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QWidget,
)

from flowdesk.domain.enums import NodeType
from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import WorkflowGraph
from flowdesk.domain.node_descriptors import ordered_type_names
from flowdesk.gc_control import gc_paused

from .autosave import Autosaver
from .backend import EditorBackend
from .editor_tab import EditorTab
from .file_controller import FileController
from .inspector.panel import InspectorPanel
from .palette import NodePalette
from .problems_dock import ProblemsList
from .run.run_actions import RunActions
from .style.toolbar_look import dress_toolbar
from .workflow_browser import WorkflowBrowser

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

ORGANIZATION = "flowdesk"
APPLICATION = "flowdesk"
# 2: the inspector owns the right side (issue 13); a layout saved before is not restored
SETTINGS_VERSION = 2

# The default layout (docs/editor.md, "The layout, and why"): the inspector owns the right side, full
# height, with Run data, the API library and the run timeline as tabs beside it; workflows above
# nodes on the left; under the canvas and the left docks, the run log, problems and run history as
# tabs (the monitor joins them and gets the area's whole width). Each tuple is one tab group, first
# in front.
DEFAULT_DOCKS: tuple[tuple[Qt.DockWidgetArea, tuple[str, ...]], ...] = (
    (Qt.DockWidgetArea.LeftDockWidgetArea, ("dockWorkflows",)),
    (Qt.DockWidgetArea.LeftDockWidgetArea, ("dockPalette",)),
    (
        Qt.DockWidgetArea.RightDockWidgetArea,
        ("dockInspector", "dockDataInspector", "dockApiLibrary", "dockTimeline"),
    ),
    (
        Qt.DockWidgetArea.BottomDockWidgetArea,
        (
            "dockLog",
            "dockProblems",
            "dockHistory",
            "dockActiveRuns",
            "dockWorkers",
            "dockAlerts",
            "dockMonitor",
        ),
    ),
)
# Shown on demand (View menu, Monitor action, a run's timeline), hidden in the default layout.
HIDDEN_BY_DEFAULT = frozenset({"dockActiveRuns", "dockWorkers", "dockAlerts", "dockMonitor", "dockTimeline"})


def app_settings() -> QSettings:
    """The user's settings (dock layout, window geometry)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class MainWindow(QMainWindow):
    """The editor window."""

    def __init__(
        self,
        backend: EditorBackend,
        *,
        settings: QSettings | None = None,
        autosave_dir: Path | None = None,
        autosave_interval_s: float = 30.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.backend = backend
        self.settings = settings if settings is not None else app_settings()
        self.undo_group = QUndoGroup(self)
        self._docks_to_build: dict[str, tuple[QDockWidget, Callable[[], QWidget]]] = {}
        self.resize(1440, 900)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("workflowTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self._close_tab_at)
        self.tabs.currentChanged.connect(self._current_tab_changed)
        self.empty_hint = QLabel(
            "No workflow open.\nCreate one with New, open one from the Workflows list, or import a file.",
            self,
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setObjectName("emptyHint")
        self.central = QStackedWidget(self)
        self.central.addWidget(self.empty_hint)
        self.central.addWidget(self.tabs)
        self.setCentralWidget(self.central)

        self.files = FileController(self)  # file actions: new, save, import, export, versions, audit
        self._build_docks()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self.autosaver = Autosaver(autosave_dir, self.editor_tabs, autosave_interval_s, self)
        from .monitor.hosting import MonitorHost  # monitor pages, run timeline, active runs (issue 7)

        self.monitor_host = MonitorHost(self)
        self.restore_layout()
        self._update_actions()

    # ------------------------------------------------------------ construction
    def add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """A movable, closable, floatable dock named `name` (the key the saved layout uses) holding
        `widget`, added to `area`: the one way run, monitor and editor docks join the window."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def add_dock_built_when_shown(
        self, name: str, title: str, area: Qt.DockWidgetArea, attribute: str, build: Callable[[], QWidget]
    ) -> QDockWidget:
        """A dock whose widget is made the first time the dock is shown, or when `window.<attribute>`
        is first read (a behind-a-tab dock costs nothing at start-up). `build()` returns the widget;
        it becomes `window.<attribute>`."""
        dock = self.add_dock(name, title, QWidget(), area)
        self._docks_to_build[attribute] = (dock, build)
        dock.visibilityChanged.connect(lambda visible: visible and getattr(self, attribute))
        return dock

    def dock_widget_built(self, attribute: str) -> bool:
        """Whether the widget of a dock made by add_dock_built_when_shown exists yet."""
        return attribute in vars(self)

    def __getattr__(self, name: str):
        # Only reached for attributes not set yet: a dock's widget still to build.
        pending = vars(self).get("_docks_to_build")
        if not pending or name not in pending:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        dock, build = pending.pop(name)
        widget = build()
        setattr(self, name, widget)
        placeholder = dock.widget()
        dock.setWidget(widget)
        if placeholder is not None:
            placeholder.deleteLater()
        if dock.isVisible():
            widget.show()
        return widget

    def _build_docks(self) -> None:
        self.browser = WorkflowBrowser(self.backend, self)
        self.browser.open_requested.connect(self.open_workflow)
        self.browser.new_requested.connect(self.files.new_workflow)
        self.browser.deleted.connect(self._workflow_deleted)
        self.browser.status_message.connect(self.show_status)
        self.dock_workflows = self.add_dock(
            "dockWorkflows", "Workflows", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea
        )

        known = self.backend.known_node_types()
        self.node_palette = NodePalette({name: known[name] for name in ordered_type_names(known)}, self)
        self.node_palette.itemDoubleClicked.connect(self._palette_double_clicked)
        self.dock_palette = self.add_dock(
            "dockPalette", "Nodes", self.node_palette, Qt.DockWidgetArea.LeftDockWidgetArea
        )

        self.inspector = InspectorPanel(self)
        self.dock_inspector = self.add_dock(
            "dockInspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.problems = ProblemsList(self)
        self.problems.problem_activated.connect(self._problem_activated)
        self.dock_problems = self.add_dock(
            "dockProblems", "Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        # the inspector runs the window's full height, so its form has room; the bottom docks
        # (log, monitor) take the width left of it
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)

    def make_action(self, name: str, text: str, slot=None, shortcut=None, tip: str = "") -> QAction:
        """A window action named `name` (its objectName), with shortcut(s), tip and slot."""
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _on_tab(self, method: str, *args):
        def run(*_ignored):
            tab = self.current_tab()
            if tab is not None:
                return getattr(tab, method)(*args)
            return None

        return run

    def _build_actions(self) -> None:
        K = QKeySequence
        files = self.files
        self.action_new, self.action_new_from_template = files.action_new, files.action_new_from_template
        self.action_save, self.action_import = files.action_save, files.action_import
        self.action_insert_file, self.action_export = files.action_insert_file, files.action_export
        self.action_versions, self.action_audit = files.action_versions, files.action_audit
        self.action_node_types = files.action_node_types
        self.action_close_tab = self.make_action(
            "actionCloseTab", "&Close", self._close_current, K.StandardKey.Close
        )
        self.action_quit = self.make_action("actionQuit", "&Quit", self.close, K.StandardKey.Quit)

        self.action_undo = self.undo_group.createUndoAction(self, "&Undo")
        self.action_undo.setObjectName("actionUndo")
        self.action_undo.setShortcuts([K(K.StandardKey.Undo)])
        self.addAction(self.action_undo)
        self.action_redo = self.undo_group.createRedoAction(self, "&Redo")
        self.action_redo.setObjectName("actionRedo")
        self.action_redo.setShortcuts([K("Ctrl+Shift+Z"), K("Ctrl+Y")])
        self.addAction(self.action_redo)
        self.action_cut = self.make_action(
            "actionCut", "Cu&t", self._on_tab("cut_selection"), K.StandardKey.Cut
        )
        self.action_copy = self.make_action(
            "actionCopy", "&Copy", self._on_tab("copy_selection"), K.StandardKey.Copy
        )
        self.action_paste = self.make_action(
            "actionPaste", "&Paste", self._on_tab("paste"), K.StandardKey.Paste
        )
        self.action_duplicate = self.make_action(
            "actionDuplicate", "D&uplicate", self._on_tab("duplicate_selection"), K("Ctrl+D")
        )
        self.action_delete = self.make_action(
            "actionDelete",
            "&Delete",
            self._on_tab("delete_selection"),
            [K(Qt.Key.Key_Delete), K(Qt.Key.Key_Backspace)],
        )
        self.action_select_all = self.make_action(
            "actionSelectAll", "Select &all", self._on_tab("select_all"), K.StandardKey.SelectAll
        )
        self.action_find = self.make_action("actionFind", "&Find node…", self._focus_find, K.StandardKey.Find)

        self.action_fit = self.make_action(
            "actionFitView", "&Fit to view", self._on_tab("fit_to_view"), K("Ctrl+0")
        )
        self.action_zoom_in = self.make_action(
            "actionZoomIn", "Zoom &in", self._on_tab("zoom_by", 1.25), K.StandardKey.ZoomIn
        )
        self.action_zoom_out = self.make_action(
            "actionZoomOut", "Zoom &out", self._on_tab("zoom_by", 0.8), K.StandardKey.ZoomOut
        )
        self.action_layout = self.make_action(
            "actionAutoLayout",
            "Auto-&layout",
            self._on_tab("auto_layout"),
            K("Ctrl+L"),
            "Arrange the graph left to right",
        )
        self.action_snap = self.make_action("actionSnapToGrid", "&Snap to grid", self._set_snap)
        self.action_snap.setCheckable(True)
        self.action_snap.setChecked(True)
        self.action_minimap = self.make_action("actionMinimap", "&Minimap", self._set_minimap)
        self.action_minimap.setCheckable(True)
        self.action_minimap.setChecked(True)
        self.action_reset_layout = self.make_action(
            "actionResetLayout",
            "&Reset layout",
            self.reset_layout,
            None,
            "Put every panel back where it was on the first start",
        )

        # Running and debugging arrive with the run/debug UI (ui/run/run_ui.py), which wires these.
        self.run_actions = RunActions(self.make_action)
        self.action_run, self.action_step, self.action_continue, self.action_stop = self.run_actions.all()

        self.find_box = QLineEdit(self)
        self.find_box.setObjectName("findNode")
        self.find_box.setPlaceholderText("Find node…  (Ctrl+F)")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setFixedWidth(200)
        self.find_box.returnPressed.connect(lambda: self._on_tab("find_node", self.find_box.text())())

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for a in (
            self.action_new,
            self.action_new_from_template,
            self.action_save,
            None,
            self.action_import,
            self.action_insert_file,
            self.action_export,
            self.action_versions,
            self.action_audit,
            self.action_node_types,
            None,
            self.action_close_tab,
            self.action_quit,
        ):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        edit = bar.addMenu("&Edit")
        for a in (
            self.action_undo,
            self.action_redo,
            None,
            self.action_cut,
            self.action_copy,
            self.action_paste,
            self.action_duplicate,
            self.action_delete,
            None,
            self.action_select_all,
            self.action_find,
        ):
            edit.addSeparator() if a is None else edit.addAction(a)
        view = bar.addMenu("&View")
        for a in (
            self.action_fit,
            self.action_zoom_in,
            self.action_zoom_out,
            None,
            self.action_layout,
            self.action_snap,
            self.action_minimap,
            None,
            self.action_reset_layout,
            None,
        ):
            view.addSeparator() if a is None else view.addAction(a)
        for dock in (self.dock_workflows, self.dock_palette, self.dock_inspector, self.dock_problems):
            view.addAction(dock.toggleViewAction())
        run = bar.addMenu("&Run")
        for a in self.run_actions.all():
            run.addAction(a)

        tools = QToolBar("Main", self)
        tools.setObjectName("mainToolBar")
        tools.setMovable(False)
        for a in (
            self.action_new,
            self.action_new_from_template,
            self.action_save,
            None,
            self.action_undo,
            self.action_redo,
            None,
            self.action_import,
            self.action_export,
            self.action_versions,
            None,
            self.action_layout,
            self.action_fit,
            None,
            self.action_run,
            self.action_step,
            self.action_continue,
            self.action_stop,
            None,
        ):
            tools.addSeparator() if a is None else tools.addAction(a)
        tools.addWidget(self.find_box)
        self.addToolBar(tools)
        self.toolbar = tools
        dress_toolbar(tools)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        status.setObjectName("statusBar")
        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("problemsSummary")
        self.count_label = QLabel(self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setObjectName("zoomLabel")
        for label in (self.problems_label, self.count_label, self.zoom_label):
            status.addPermanentWidget(label)

    # ------------------------------------------------------------ layout memory
    def restore_layout(self) -> None:
        """The user's saved layout, else the default one. Called again once the run UI and API
        library have added their docks (app.build_window), so theirs are placed too."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is None or not self.restoreState(state, SETTINGS_VERSION):
            self.apply_default_layout()

    def apply_default_layout(self) -> None:
        """Put every dock where DEFAULT_DOCKS says, in front or hidden, with the default sizes."""
        docks = {d.objectName(): d for d in self.findChildren(QDockWidget)}
        groups = [(area, [docks[n] for n in names if n in docks]) for area, names in DEFAULT_DOCKS]
        groups = [(area, group) for area, group in groups if group]
        for _area, group in groups:
            for dock in group:
                dock.setFloating(False)
                self.removeDockWidget(dock)
        # leaders first, split side by side (a split onto a tabbed dock would make a tab instead)
        previous: dict[Qt.DockWidgetArea, QDockWidget] = {}
        for area, group in groups:
            leader = group[0]
            if area in previous:
                orientation = (
                    Qt.Orientation.Horizontal
                    if area == Qt.DockWidgetArea.BottomDockWidgetArea
                    else Qt.Orientation.Vertical
                )
                self.splitDockWidget(previous[area], leader, orientation)
            else:
                self.addDockWidget(area, leader)
            previous[area] = leader
        for _area, group in groups:
            for dock in group[1:]:
                self.tabifyDockWidget(group[0], dock)
            for dock in group:
                dock.setVisible(dock.objectName() not in HIDDEN_BY_DEFAULT)
        for _area, group in groups:
            group[0].raise_()
        side = max(240, min(320, self.width() // 5))
        inspector_width = max(380, min(460, self.width() * 3 // 10))
        left = [d for n in ("dockWorkflows", "dockPalette") if (d := docks.get(n)) is not None]
        bottom = [d for n in ("dockLog",) if (d := docks.get(n)) is not None]
        self.resizeDocks(
            [*left[:1], self.dock_inspector],
            [side, inspector_width][-1 - len(left[:1]) :],
            Qt.Orientation.Horizontal,
        )
        if len(left) == 2:
            self.resizeDocks(left, [210, 300], Qt.Orientation.Vertical)
        if bottom:
            self.resizeDocks([bottom[0]], [180], Qt.Orientation.Vertical)

    def reset_layout(self) -> None:
        """View > Reset layout: the default layout, and the saved one forgotten."""
        self.apply_default_layout()
        self.settings.remove("window/state")
        self.show_status("Layout reset to the default")

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(SETTINGS_VERSION))
        self.settings.sync()

    # ------------------------------------------------------------ tabs
    def editor_tabs(self) -> list[EditorTab]:
        tabs = (self.tabs.widget(i) for i in range(self.tabs.count()))
        return [tab for tab in tabs if isinstance(tab, EditorTab)]

    def current_tab(self) -> EditorTab | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, EditorTab) else None

    def tab_for(self, workflow_id: int) -> EditorTab | None:
        return next((t for t in self.editor_tabs() if t.workflow_id == workflow_id), None)

    def add_tab(self, graph: WorkflowGraph) -> EditorTab:
        """A tab for `graph` (stored or not), made current."""
        tab = EditorTab(self.backend, graph, self)
        tab.scene.snap_to_grid = self.action_snap.isChecked()
        tab.set_minimap_enabled(self.action_minimap.isChecked())
        tab.status_message.connect(self.show_status)
        tab.title_changed.connect(lambda t=tab: self._tab_title_changed(t))
        tab.validation.problems_changed.connect(lambda _p, t=tab: self._problems_changed(t))
        tab.view.zoom_changed.connect(lambda _z, t=tab: self._update_zoom_label(t))
        tab.doc.graph_changed.connect(lambda t=tab: self._update_counts(t))
        tab.view.node_double_clicked.connect(lambda uid, t=tab: self.open_subworkflow(t, uid))
        self.undo_group.addStack(tab.doc.undo_stack)
        index = self.tabs.addTab(tab, tab.title())
        self.tabs.setCurrentIndex(index)
        QTimer.singleShot(0, tab.fit_to_view)
        tab.fit_to_view()
        return tab

    def open_workflow(self, workflow_id: int, stored: WorkflowGraph | None = None) -> EditorTab:
        """Show the workflow's tab, opening it from the database if needed (`stored`: the workflow
        just read from the database, so it is not read again)."""
        tab = self.tab_for(workflow_id)
        if tab is None:
            with gc_paused():
                graph = stored if stored is not None else self.backend.workflows.load_graph(workflow_id)
                tab = self.add_tab(graph)
        self.tabs.setCurrentWidget(tab)
        return tab

    def open_subworkflow(self, tab: EditorTab, uid: int) -> EditorTab | None:
        """A double-clicked SUBWORKFLOW node, or node of a custom type whose handler is
        `workflow:NAME`, opens the workflow it calls in a tab (another node: nothing); a workflow
        that cannot be found is said in the status bar."""
        from flowdesk.domain.execution_handlers import handler_workflow
        from flowdesk.domain.subworkflow_calls import reference_of

        if not tab.doc.has_node(uid):
            return None
        node = tab.doc.node(uid)
        if node.node_type == NodeType.SUBWORKFLOW:
            reference = reference_of(node.config)
        else:
            reference = handler_workflow(tab.doc.descriptor(node.node_type).handler)
            if reference is None:
                return None
        if reference is None:
            self.show_status(
                f"'{node.name}' names no stored workflow to open (its workflow field is empty or a template)."
            )
            return None
        try:
            found = self.backend.workflows.find_workflow(reference)
        except FlowdeskError as exc:
            self.show_status(f"'{node.name}' calls a workflow that cannot be opened: {exc}")
            return None
        assert found.id is not None
        return self.open_workflow(found.id)

    def import_file(self, path: str | os.PathLike[str] | None = None) -> EditorTab | None:
        """Open a workflow file in a tab (FileController.import_file: the command line's FILE too)."""
        return self.files.import_file(path)

    def reload_node_types(self) -> None:
        """Read the node types again, their handlers checked: the palette shows them, each tab
        validates with them, the inspector says again whether the shown node's handler is found.
        Called when the types change (File > Node types…) and when what a handler names may have
        appeared or gone (a workflow saved, the API library changed)."""
        known = self.backend.known_node_types()
        self.node_palette.set_node_types({name: known[name] for name in ordered_type_names(known)})
        for tab in self.editor_tabs():
            tab.doc.node_types = known
            tab.validation.node_types = known
            tab.validation.schedule()
        self.inspector.refresh()

    def _close_tab_at(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if isinstance(tab, EditorTab):
            self.close_tab(tab)

    def close_tab(self, tab: EditorTab, *, ask: bool = True) -> bool:
        """Close a tab; a dirty one asks Save / Discard / Cancel first. Returns whether it closed."""
        if tab is None:
            return False
        if tab.doc.is_dirty and ask:
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                f"Save the changes to '{tab.doc.workflow.name}' before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return False
            if answer == QMessageBox.StandardButton.Save and not self.files.save_tab(tab):
                return False
        self.autosaver.discard(tab.workflow_id)
        self.undo_group.removeStack(tab.doc.undo_stack)
        self.tabs.removeTab(self.tabs.indexOf(tab))
        tab.deleteLater()
        return True

    def _close_current(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            self.close_tab(tab)

    def _workflow_deleted(self, workflow_id: int) -> None:
        tab = self.tab_for(workflow_id)
        if tab is not None:
            self.close_tab(tab, ask=False)

    def _current_tab_changed(self, _index: int) -> None:
        tab = self.current_tab()
        # None (no tab) leaves no stack active, as Qt allows; PySide6's stub omits None
        self.undo_group.setActiveStack(tab.doc.undo_stack if tab else None)  # type: ignore[arg-type]
        self.inspector.set_tab(tab)
        if tab is not None:
            self.problems.set_problems(tab.validation.problems)
            self._update_zoom_label(tab)
            self._update_counts(tab)
            self._problems_changed(tab)
        else:
            self.problems.set_problems([])
            self.problems_label.clear()
            self.count_label.clear()
            self.zoom_label.clear()
        self.central.setCurrentWidget(self.tabs if self.tabs.count() else self.empty_hint)
        self._update_actions()
        self._update_window_title()

    def _update_actions(self) -> None:
        has_tab = self.current_tab() is not None
        for action in (
            self.action_save,
            self.action_insert_file,
            self.action_export,
            self.action_versions,
            self.action_close_tab,
            self.action_cut,
            self.action_copy,
            self.action_paste,
            self.action_duplicate,
            self.action_delete,
            self.action_select_all,
            self.action_fit,
            self.action_zoom_in,
            self.action_zoom_out,
            self.action_layout,
            self.action_find,
        ):
            action.setEnabled(has_tab)

    def _tab_title_changed(self, tab: EditorTab) -> None:
        index = self.tabs.indexOf(tab)
        if index >= 0:
            self.tabs.setTabText(index, tab.title())
            self.tabs.setTabToolTip(index, tab.doc.workflow.description or tab.doc.workflow.name)
        if tab is self.current_tab():
            self._update_window_title()

    def _update_window_title(self) -> None:
        tab = self.current_tab()
        self.setWindowTitle(f"{tab.title()} — flowdesk" if tab else "flowdesk")

    def _problems_changed(self, tab: EditorTab) -> None:
        if tab is not self.current_tab():
            return
        self.problems.set_problems(tab.validation.problems)
        self.problems_label.setText(self.problems.summary())

    def _update_zoom_label(self, tab: EditorTab) -> None:
        if tab is self.current_tab():
            self.zoom_label.setText(f"{tab.view.zoom * 100:.0f} %")

    def _update_counts(self, tab: EditorTab) -> None:
        if tab is self.current_tab():
            self.count_label.setText(f"{tab.doc.node_count} nodes · {tab.doc.connection_count} connections")

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ------------------------------------------------------------ actions
    def _focus_find(self) -> None:
        self.find_box.setFocus()
        self.find_box.selectAll()

    def _set_snap(self, on: bool) -> None:
        for tab in self.editor_tabs():
            tab.scene.snap_to_grid = on

    def _set_minimap(self, on: bool) -> None:
        for tab in self.editor_tabs():
            tab.set_minimap_enabled(on)

    def _palette_double_clicked(self, item) -> None:
        tab = self.current_tab()
        node_type = item.data(Qt.ItemDataRole.UserRole)
        if tab is not None and node_type is not None:  # None: a category header
            tab.add_node_at(node_type, tab.view.visible_scene_rect().center())

    def _problem_activated(self, problem) -> None:
        tab = self.current_tab()
        if tab is None:
            return
        target = tab.validation.problem_target(problem)
        if target is None:
            return
        kind, uid = target
        if kind == "node":
            tab.focus_node(uid)
        else:
            tab.focus_connection(uid)

    # ------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for tab in self.editor_tabs():
            if tab.doc.is_dirty:
                self.tabs.setCurrentWidget(tab)
                if not self.close_tab(tab):
                    event.ignore()
                    return
        self.save_layout()
        self.autosaver.timer.stop()
        self.monitor_host.close()
        event.accept()
