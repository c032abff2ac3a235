"""RunDebugUI: wires running and debugging into a MainWindow — the Run/Step/Continue/Pause/Stop and
breakpoint actions, the log, history and data-inspector docks, the status bar's run status, one
RunController per tab — without the window's own code knowing about runs.

`install_run_ui(window)` is called by flowdesk.ui.app when it builds the window.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QProgressBar, QToolBar, QToolButton

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.domain.errors import FlowdeskError
from flowdesk.services.executions import ExecutionService

from .data_inspector import DataInspector
from .engine_host import EngineHost
from .history_dock import HistoryView
from .input_dialog import RunInputDialog, RunInputStore
from .interrupted_notice import InterruptedRunsNotice, unresumed_interrupted
from .log_dock import LogView
from .queue_dialog import QueueDialog, remember_queue, remembered_queue
from .run_controller import RunController
from .run_state import RunState
from .worker_runs import configured_broker

log = logging.getLogger(__name__)
DISMISSED_KEY = "runs/dismissedInterrupted"


class RunDebugUI(QObject):
    """The run/debug part of one main window."""

    def __init__(self, window: Any, *, load_plugins: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.host = EngineHost(window.backend.db, self, load_plugins=load_plugins)
        self.inputs = RunInputStore(window.settings)
        self.controllers: dict[int, RunController] = {}  # id(tab) -> controller
        self.input_dialog: RunInputDialog | None = None
        self.queue_dialog: QueueDialog | None = None
        self.notice: InterruptedRunsNotice | None = None
        self._shown: RunController | None = None
        self._build_actions()
        self._build_docks()
        self._build_status()
        window.tabs.currentChanged.connect(lambda _i: self._tab_changed())
        state = window.settings.value("window/state")
        if state is not None:
            from flowdesk.ui.main_window import SETTINGS_VERSION

            window.restoreState(state, SETTINGS_VERSION)
        self._tab_changed()

    # ------------------------------------------------------------ construction
    def _build_actions(self) -> None:
        w = self.window
        K = QKeySequence
        self.action_run, self.action_step = w.action_run, w.action_step
        self.action_continue, self.action_stop = w.action_continue, w.action_stop
        self.action_pause = QAction("&Pause", w)
        self.action_pause.setObjectName("actionPause")
        self.action_pause.setShortcut(K("F6"))
        w.addAction(self.action_pause)
        self.action_step_into = QAction("Step &into", w)
        self.action_step_into.setObjectName("actionStepInto")
        self.action_step_into.setShortcut(K("F11"))
        w.addAction(self.action_step_into)
        self.action_step_out = QAction("Step &out", w)
        self.action_step_out.setObjectName("actionStepOut")
        self.action_step_out.setShortcut(K("Shift+F11"))
        w.addAction(self.action_step_out)
        self.action_breakpoint = QAction("Toggle &breakpoint", w)
        self.action_breakpoint.setObjectName("actionToggleBreakpoint")
        self.action_breakpoint.setShortcut(K("F9"))
        w.addAction(self.action_breakpoint)
        tips = {
            self.action_run: "Run the workflow (F5): asks for the input data",
            self.action_step: "Step (F10): run the next ready node, then pause",
            self.action_continue: "Continue (F8): go on until the next breakpoint",
            self.action_pause: "Pause (F6): running nodes finish, no new node starts",
            self.action_stop: "Stop (Shift+F5): cancel the run",
            self.action_breakpoint: "Toggle a breakpoint on the selected node (F9)",
            self.action_step_into: "Step into (F11): before a SUBWORKFLOW node, debug its child run in its tab",
            self.action_step_out: "Step out (Shift+F11): let the child run finish and go back to its parent",
        }
        for action, tip in tips.items():
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.action_run.triggered.connect(self.run)
        self.action_step.triggered.connect(self.step)
        self.action_continue.triggered.connect(self.continue_)
        self.action_pause.triggered.connect(self.pause)
        self.action_stop.triggered.connect(self.stop)
        self.action_breakpoint.triggered.connect(self.toggle_breakpoint)
        self.action_step_into.triggered.connect(self.step_into)
        self.action_step_out.triggered.connect(self.step_out)

        menu = next(
            (a.menu() for a in w.menuBar().actions() if a.menu() and self.action_run in a.menu().actions()),
            None,
        )
        if menu is None:
            menu = w.menuBar().addMenu("&Run")
            for a in (self.action_run, self.action_step, self.action_continue, self.action_stop):
                menu.addAction(a)
        menu.insertAction(self.action_stop, self.action_pause)
        menu.insertAction(self.action_stop, self.action_step_into)
        menu.insertAction(self.action_stop, self.action_step_out)
        menu.addSeparator()
        menu.addAction(self.action_breakpoint)
        self.action_clear_cache = QAction("Clear response &cache", w)
        self.action_clear_cache.setObjectName("actionClearResponseCache")
        self.action_clear_cache.setStatusTip(
            "Forget the API answers cached for this workflow, in memory and in the database"
        )
        self.action_clear_cache.triggered.connect(self.clear_response_cache)
        menu.addAction(self.action_clear_cache)
        self.run_menu = menu
        view_menu = next((a.menu() for a in w.menuBar().actions() if a.menu() and a.text() == "&View"), None)
        self._view_menu = view_menu
        toolbar = next((t for t in w.findChildren(QToolBar) if self.action_stop in t.actions()), None)
        self._build_run_where(menu, toolbar)
        if toolbar is not None:
            toolbar.insertAction(self.action_stop, self.action_pause)
            actions = toolbar.actions()
            after = actions.index(self.action_stop) + 1
            toolbar.insertAction(actions[after] if after < len(actions) else None, self.action_breakpoint)

    def clear_response_cache(self) -> None:
        """Run > Clear response cache: the current workflow's answers kept by the app's engine and in
        the database (docs/semantics.md §2.12); the status bar says how many."""
        from flowdesk.services.response_cache import ResponseCacheService

        tab = self.window.current_tab()
        if tab is None:
            return
        workflow_id = tab.workflow_id
        in_memory = self.host.executor.clear_response_cache(workflow_id)
        stored = 0 if workflow_id is None else ResponseCacheService(self.window.backend.db).clear(workflow_id)
        self.window.show_status(
            f"Cleared the response cache of '{tab.doc.workflow.name}': {in_memory} answer(s) in memory, "
            f"{stored} in the database."
        )

    def _build_run_where(self, run_menu: QMenu, toolbar: QToolBar | None) -> None:
        """With a broker configured, the Run button's menu (its arrow) offers where to run."""
        w = self.window
        self.action_run_local = QAction("Run on this &computer", w)
        self.action_run_local.setObjectName("actionRunLocal")
        self.action_run_local.setStatusTip("Run the workflow in this app (F5)")
        self.action_run_local.triggered.connect(self.run)
        self.action_run_workers = QAction("Run on &workers", w)
        self.action_run_workers.setObjectName("actionRunOnWorkers")
        self.action_run_workers.setStatusTip(
            "Hand the run to the workers (flowdesk worker) through the broker"
        )
        self.action_run_workers.triggered.connect(self.run_on_workers)
        self.run_where_menu = QMenu("Run where", w)
        self.run_where_menu.addAction(self.action_run_local)
        self.run_where_menu.addAction(self.action_run_workers)
        self.broker = configured_broker(w.settings)
        if self.broker is None:
            return
        run_menu.insertAction(self.action_step, self.action_run_workers)
        button = toolbar.widgetForAction(self.action_run) if toolbar is not None else None
        if isinstance(button, QToolButton):
            button.setMenu(self.run_where_menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)

    def _build_docks(self) -> None:
        w = self.window
        self.log_view = LogView(w)
        self.dock_log = w.add_dock(
            "dockLog", "Run log", self.log_view, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.history = HistoryView(w.backend.db, w)
        self.history.replay_requested.connect(self.replay)
        self.history.rerun_requested.connect(self.rerun)
        self.history.resume_requested.connect(self.resume)
        self.dock_history = w.add_dock(
            "dockHistory", "Run history", self.history, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.data_inspector = DataInspector(w)
        self.dock_data = w.add_dock(
            "dockDataInspector", "Run data", self.data_inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        problems = getattr(w, "dock_problems", None)
        if problems is not None:
            w.splitDockWidget(problems, self.dock_log, Qt.Orientation.Horizontal)
            w.tabifyDockWidget(problems, self.dock_history)
        else:
            w.splitDockWidget(self.dock_log, self.dock_history, Qt.Orientation.Horizontal)
        inspector = getattr(w, "dock_inspector", None)
        if inspector is not None:
            w.splitDockWidget(inspector, self.dock_data, Qt.Orientation.Vertical)
            w.resizeDocks([inspector, self.dock_data], [330, 420], Qt.Orientation.Vertical)
        if problems is not None:
            w.resizeDocks([problems, self.dock_log], [420, 900], Qt.Orientation.Horizontal)
        w.resizeDocks([self.dock_log], [230], Qt.Orientation.Vertical)
        if self._view_menu is not None:
            for dock in (self.dock_log, self.dock_history, self.dock_data):
                self._view_menu.addAction(dock.toggleViewAction())

    def _build_status(self) -> None:
        bar = self.window.statusBar()
        self.status_label = QLabel(self.window)
        self.status_label.setObjectName("runStatus")
        self.progress = QProgressBar(self.window)
        self.progress.setObjectName("runProgress")
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(16)
        self.progress.setFormat("%p %")
        self.step_label = QLabel(self.window)
        self.step_label.setObjectName("runStep")
        for i, widget in enumerate((self.status_label, self.progress, self.step_label)):
            bar.insertPermanentWidget(i, widget)
        self.progress.hide()

    # ------------------------------------------------------------ tabs and controllers
    def controller(self, tab: Any = None) -> RunController | None:
        """The run controller of `tab` (the current tab by default), made on first use."""
        tab = tab if tab is not None else self.window.current_tab()
        if tab is None:
            return None
        controller = self.controllers.get(id(tab))
        if controller is None:
            controller = RunController(tab, self.host, self)
            self.controllers[id(tab)] = controller
            controller.state_changed.connect(lambda c=controller: self._controller_changed(c))
            controller.message.connect(self.window.show_status)
            controller.run_finished.connect(lambda s, c=controller: self._run_finished(c, s))
            controller.run_started.connect(lambda s, c=controller: self._run_started(c, s))
            controller.child_started.connect(self._debug_child)
            controller.step_out_to.connect(self._back_to_parent)
            tab.doc.selection_changed.connect(lambda c=controller: self._selection_changed(c))
            key = id(tab)
            tab.destroyed.connect(lambda _o=None, key=key: self._tab_closed(key))
        return controller

    def _tab_closed(self, key: int) -> None:
        controller = self.controllers.pop(key, None)
        if self._shown is controller:
            self._shown = None
        if controller is not None:
            try:
                controller.overlay.detach()
                controller.stop()
            except RuntimeError:  # the whole window is being destroyed: the controller went first
                pass

    def _tab_changed(self) -> None:
        tab = self.window.current_tab()
        if tab is not None and id(tab) in self.controllers and self.controllers[id(tab)].tab is not tab:
            self._tab_closed(id(tab))  # a new tab at the address of a closed one
        controller = self.controller(tab) if tab is not None else None
        self._shown = controller
        self.history.set_workflow(tab.workflow_id if tab is not None else None)
        state = controller.state if controller is not None else None
        self.log_view.show_state(state)
        self._selection_changed(controller) if controller is not None else self.data_inspector.show_node(
            None, None
        )
        self._update()

    def _controller_changed(self, controller: RunController) -> None:
        if controller is not self._shown:
            return
        if self.log_view.state is not controller.state:
            self.log_view.show_state(controller.state)
            self._selection_changed(controller)
        self._update()

    def _run_started(self, controller: RunController, state: RunState) -> None:
        if controller is self._shown:
            self.history.refresh()
            self.history.table.clearSelection()

    def _run_finished(self, controller: RunController, state: RunState) -> None:
        if controller is self._shown:
            self.history.refresh()
        name = controller.tab.doc.workflow.name
        self.window.show_status(
            f"'{name}' {state.status.replace('_', ' ')}"
            + (f": {state.error_message}" if state.error_message else "")
        )

    def _selection_changed(self, controller: RunController) -> None:
        if controller is not self._shown:
            return
        nodes = controller.tab.doc.selected_nodes
        name = controller.tab.doc.node(next(iter(nodes))).name if len(nodes) == 1 else None
        if name is None and self.data_inspector.state is controller.state:
            name = self.data_inspector.node_name  # keep showing the last node clicked
        self.data_inspector.show_node(controller.state, name, self._load_step)

    def _load_step(self, execution_id: int, node_name: str) -> Any:
        rows = [
            r
            for r in ExecutionService(self.window.backend.db).get_logs(execution_id)
            if r.node_name == node_name
        ]
        return rows[-1] if rows else None

    def _update(self) -> None:
        """Enable the actions and fill the status bar from the current tab's controller."""
        c = self._shown
        has_tab = c is not None
        running = bool(c and c.running)
        paused = bool(c and c.paused)
        queued = bool(c and c.queued and running)
        self.action_run.setEnabled(has_tab and not running)
        self.action_run_local.setEnabled(has_tab and not running)
        self.action_run_workers.setEnabled(has_tab and not running and self.broker is not None)
        self.action_step.setEnabled(has_tab and (not running or paused) and not queued)
        self.action_continue.setEnabled(paused and not queued)
        self.action_pause.setEnabled(running and not paused and not (c and c.starting) and not queued)
        self.action_stop.setEnabled(running and not (c and c.starting))
        self.action_breakpoint.setEnabled(has_tab)
        state = c.state if c is not None else None
        if state is None:
            self.status_label.setText("Starting…" if running else "")
            self.progress.hide()
            self.step_label.clear()
            return
        label = state.status.replace("_", " ")
        if not state.live:
            label = f"Execution {state.execution_id}: {label} (from history)"
        elif state.status == ExecutionStatus.PAUSED and state.pause_reason:
            label = f"Paused ({state.pause_reason})"
        else:
            label = label.capitalize()
        _set_text(self.status_label, label)
        if self.progress.isHidden():
            self.progress.show()
        value = int(round(state.progress))
        if self.progress.value() != value:
            self.progress.setValue(value)
        step = state.current_step
        _set_text(self.step_label, f"Step: {step}" if step and not state.done else "")

    # ------------------------------------------------------------ actions
    def _ask_input(self, title: str, then) -> RunInputDialog | None:
        c = self.controller()
        if c is None:
            return None
        if self.input_dialog is not None:
            self.input_dialog.close()
        from flowdesk.domain.workflow_inputs import declared_inputs, propose_inputs
        from flowdesk.services.environments import EnvironmentService

        environments = EnvironmentService(self.window.backend.db).list_environments()
        active = next((e.name for e in environments if e.is_active), None)
        declared = declared_inputs(c.tab.doc.workflow.config)
        dialog = RunInputDialog(
            self.inputs,
            c.workflow_id,
            c.tab.doc.workflow.name,
            title=title,
            environments=[e.name for e in environments],
            active_environment=active,
            inputs=declared if declared is not None else propose_inputs(c.tab.doc.to_graph()),
            declared=declared is not None,
            parent=self.window,
        )
        dialog.input_accepted.connect(lambda value, c=c, d=dialog: then(c, value, d.environment))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.input_dialog = dialog
        dialog.destroyed.connect(lambda _o=None: setattr(self, "input_dialog", None))
        dialog.open()
        return dialog

    def run(self) -> RunInputDialog | None:
        """F5: ask for the input, then run."""
        c = self.controller()
        if c is None or c.running:
            return None
        return self._ask_input("Run", lambda c, value, env: c.start(value, environment=env))

    def run_on_workers(self) -> QueueDialog | None:
        """Run on workers: choose the queue (queue_dialog.py), then ask for the input and hand the
        run to that queue of the broker."""
        c = self.controller()
        broker = self.broker
        if c is None or c.running or broker is None:
            return None
        settings = self.window.settings
        workflow_id = c.workflow_id
        monitor = getattr(self.window, "monitor_host", None)
        seen = getattr(getattr(monitor, "workers", None), "workers", None) or []  # the Workers dock's data
        known = sorted({q for w in seen for q in (w.get("queues") or [])})
        dialog = QueueDialog(broker, remembered_queue(settings, workflow_id), known, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.queue_dialog = dialog
        dialog.destroyed.connect(lambda _o=None: setattr(self, "queue_dialog", None))

        def chosen(queue: str) -> None:
            remember_queue(settings, workflow_id, queue)
            where = (broker, queue)
            self._ask_input(
                "Run on workers", lambda c, value, env: c.start(value, environment=env, on_workers=where)
            )

        dialog.queue_chosen.connect(chosen)
        dialog.open()
        return dialog

    def step(self) -> RunInputDialog | None:
        """F10: the next node of a paused run, or start a step-by-step run (asking the input)."""
        c = self.controller()
        if c is None:
            return None
        if c.running:
            c.step()
            return None
        return self._ask_input(
            "Step", lambda c, value, env: c.start(value, step_by_step=True, environment=env)
        )

    def step_into(self) -> None:
        """F11: step into the SUBWORKFLOW node the run is paused before (else a plain step)."""
        c = self.controller()
        if c is not None:
            c.step_into()

    def step_out(self) -> None:
        """Shift+F11: let the child run shown here finish; its parent's tab comes back."""
        c = self.controller()
        if c is not None:
            c.step_out()

    def _debug_child(self, child: Any) -> None:
        """A stepped-into child run: its workflow's tab opens and follows it, paused."""
        tab = self.window.open_workflow(child.workflow_id)
        controller = self.controller(tab)
        if controller is not None:
            controller.attach(child)

    def _back_to_parent(self, execution_id: int) -> None:
        for tab in self.window.editor_tabs():
            c = self.controller(tab)
            if c is not None and c.handle is not None and c.handle.id == execution_id:
                self.window.tabs.setCurrentWidget(tab)
                return

    def continue_(self) -> None:
        c = self.controller()
        if c is not None:
            c.continue_()

    def pause(self) -> None:
        c = self.controller()
        if c is not None:
            c.pause()

    def stop(self) -> None:
        c = self.controller()
        if c is not None:
            c.stop()

    def toggle_breakpoint(self) -> None:
        c = self.controller()
        if c is None:
            return
        if not c.tab.doc.selected_nodes:
            self.window.show_status("Select a node to set a breakpoint on it")
            return
        c.toggle_breakpoint()

    def replay(self, execution_id: int) -> None:
        c = self.controller()
        if c is None:
            return
        try:
            c.replay(execution_id)
        except FlowdeskError as err:
            self.window.show_status(str(err))

    def rerun(self, execution_id: int) -> None:
        c = self.controller()
        if c is not None:
            c.rerun(execution_id)

    def _resume_each(self, execution_ids: list[int]) -> None:
        for execution_id in execution_ids:
            self.resume(execution_id)

    def resume(self, execution_id: int) -> None:
        """Resume an execution in its workflow's tab (opened when needed)."""
        try:
            execution = ExecutionService(self.window.backend.db).get_execution(execution_id)
            tab = self.window.open_workflow(execution.workflow_id)
        except FlowdeskError as err:
            self.window.show_status(str(err))
            return
        c = self.controller(tab)
        if c is not None:
            c.resume_execution(execution_id)

    # ------------------------------------------------------------ interrupted runs
    def offer_interrupted(self) -> InterruptedRunsNotice | None:
        """Show the non-modal notice of runs a previous session left interrupted (if any)."""
        dismissed = set(self._dismissed())
        executions = unresumed_interrupted(self.window.backend.db, dismissed)
        if not executions:
            return None
        names = {wf.id: wf.name for wf in self.window.backend.workflows.list_workflows()}
        notice = InterruptedRunsNotice(executions, names, self.window)
        notice.resume_requested.connect(self._resume_each)
        notice.dismissed.connect(self._remember_dismissed)
        self.notice = notice
        notice.show()
        return notice

    def _dismissed(self) -> list[int]:
        raw = self.window.settings.value(DISMISSED_KEY)
        try:
            return [int(x) for x in json.loads(str(raw))] if raw else []
        except (ValueError, TypeError):
            return []

    def _remember_dismissed(self, ids: list[int]) -> None:
        if ids:
            kept = (self._dismissed() + list(ids))[-500:]
            self.window.settings.setValue(DISMISSED_KEY, json.dumps(kept))

    # ------------------------------------------------------------ closing
    def stop_all(self) -> None:
        for controller in self.controllers.values():
            controller.stop()

    async def aclose(self) -> None:
        """Cancel runs and close the engine (HTTP pool, writer thread)."""
        await self.host.aclose()


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:  # a label relayouts the status bar on every setText
        label.setText(text)


def _load_node_handlers() -> None:
    """Import the node handlers (API_CALL's HTTP stack among them) on a worker thread once the
    event loop runs: they are left out of start-up, and a first run must not pause for them."""
    import threading

    from flowdesk.engine.registry import default_registry

    threading.Thread(target=default_registry().load_all, name="flowdesk-load-handlers", daemon=True).start()


def install_run_ui(window: Any, *, load_plugins: bool = True) -> RunDebugUI:
    """Add running and debugging to `window` (a flowdesk MainWindow); returns the part added."""
    ui = RunDebugUI(window, load_plugins=load_plugins)
    window.run_ui = ui
    QTimer.singleShot(0, ui._update)
    QTimer.singleShot(0, _load_node_handlers)
    return ui
