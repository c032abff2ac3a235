"""The live panel of active executions across all workflows: elapsed time, current node, cancel.

`ActiveExecutionsPanel(db, executor=None)` re-reads the running and paused executions every second
(in a worker thread; a refresh is skipped while one is still in flight) and ticks the elapsed times
locally. Given the app's `WorkflowExecutor`, it also follows the engine's events — a node starting
updates the current node at once, a run ending drops its row at once — and its Cancel buttons call
the run's `ExecutionHandle.cancel()`. Runs this executor does not hold (another process, or no
executor) cannot be cancelled from here: their button is disabled and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.ui.widgets import row_data

from .message_table import table_item
from .query_runner import QueryRunner, as_queries
from .status_colors import STATUS_LABELS, format_seconds, status_color

COLUMNS = ["Run", "Workflow", "Status", "Current node", "Elapsed", ""]
NO_EXECUTOR_TIP = "Runs can be cancelled only from the window that started them (no engine attached here)."
FOREIGN_RUN_TIP = "This run belongs to another flowdesk process; cancel it there."


RELEVANT_EVENTS = frozenset(
    {"node_started", "execution_started", "execution_finished", "execution_paused", "execution_resumed"}
)
"""The engine events the panel shows; the rest (node finished, log lines: most of a run's events)
never become a Qt signal."""
CURRENT_NODE_REFRESH_MS = 100


class EngineEventBridge(QObject):
    """Turns the engine's plain-Python events of the kinds in `kinds` into a Qt signal (queued if they
    come from another thread)."""

    received = Signal(object)  # not `event`: that would hide QObject.event()

    def __init__(
        self, executor: Any, parent: QObject | None = None, *, kinds: frozenset[str] | None = None
    ) -> None:
        super().__init__(parent)
        emit = self.received.emit
        if kinds is None:
            listener = emit
        else:

            def listener(event: Any) -> None:
                if getattr(event, "kind", "") in kinds:
                    emit(event)

        self._unsubscribe: Callable[[], None] | None = executor.subscribe(listener)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def live_table(columns: list[str], stretch: int) -> QTableWidget:
    """A read-only table of whole rows for a live panel, column `stretch` taking the spare width."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class ActiveExecutionsPanel(QWidget):
    """Running and paused executions of every workflow. Signals: `updated()` after each change shown,
    `executionActivated(int)` on double-click (the main window opens the run)."""

    updated = Signal()
    executionActivated = Signal(int)  # noqa: N815

    def __init__(
        self, db: Any = None, executor: Any = None, parent: QWidget | None = None, *, interval_ms: int = 1000
    ) -> None:
        super().__init__(parent)
        self.queries: MonitorQueries = as_queries(db)
        self.executor = executor
        self.runs: dict[int, dict[str, Any]] = {}  # execution id -> what the row shows
        self._live_node: dict[int, str] = {}  # from NodeStarted events: newer than the database row
        self._ended: set[int] = set()  # finished per the engine; ignore until the database agrees
        self.header = QLabel("Active executions")
        self.header.setStyleSheet("font-weight: bold;")
        self.table = live_table(COLUMNS, 3)
        self.table.itemDoubleClicked.connect(self._activate)
        self.empty = QLabel("Nothing is running.")
        self.empty.setStyleSheet("color: #6b7280;")
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self._runner = QueryRunner(self)
        self._runner.result.connect(self._apply_rows)
        self._runner.error.connect(lambda message: self.header.setText(f"Active executions — {message}"))
        self._bridge: EngineEventBridge | None = None
        self._rows: dict[int, int] = {}  # execution id -> table row, as last rendered
        # Current nodes change with every step: they are written into their cells at most ten
        # times a second, never by rebuilding the table (a 1,000-step run would rebuild it 1,000 times).
        self._node_timer = QTimer(self)
        self._node_timer.setSingleShot(True)
        self._node_timer.setInterval(CURRENT_NODE_REFRESH_MS)
        self._node_timer.timeout.connect(self._update_current_nodes)
        if executor is not None:
            self._bridge = EngineEventBridge(executor, self, kinds=RELEVANT_EVENTS)
            self._bridge.received.connect(self._on_event)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.refresh()

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the active executions unless a read is still in flight."""
        if not self._runner.busy:
            self._runner.submit(self.queries.active_executions)

    def _tick(self) -> None:
        self._update_elapsed()
        self.refresh()

    def shutdown(self) -> None:
        """Stop refreshing and stop listening to the engine (call before the executor goes away)."""
        self.timer.stop()
        if self._bridge is not None:
            self._bridge.close()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    def _apply_rows(self, active: list[dict[str, Any]]) -> None:
        ids = {a["id"] for a in active}
        self._ended &= ids  # the database caught up with the engine for the others
        self._live_node = {k: v for k, v in self._live_node.items() if k in ids}
        self.runs = {a["id"]: dict(a) for a in active if a["id"] not in self._ended}
        for run_id, node in self._live_node.items():
            if run_id in self.runs:
                self.runs[run_id]["current_node"] = node
        self._render()

    # -- engine events -------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        run_id = getattr(event, "execution_id", None)
        if run_id is None:
            return
        if kind == "node_started":
            self._live_node[run_id] = event.node_name
            if run_id in self.runs:
                self.runs[run_id]["current_node"] = event.node_name
                if not self._node_timer.isActive():
                    self._node_timer.start()
        elif kind == "execution_finished":
            self._ended.add(run_id)
            if self.runs.pop(run_id, None) is not None:
                self._render()
        elif kind in ("execution_paused", "execution_resumed") and run_id in self.runs:
            paused = kind == "execution_paused"
            self.runs[run_id]["status"] = ExecutionStatus.PAUSED if paused else ExecutionStatus.RUNNING
            self._render()
        elif kind == "execution_started":
            self.refresh()

    # -- showing -------------------------------------------------------------------------------
    def _handle(self, run_id: int) -> Any:
        if self.executor is None:
            return None
        for handle in getattr(self.executor, "active_executions", []):
            if getattr(handle, "id", None) == run_id:
                return handle
        return None

    def _render(self) -> None:
        runs = sorted(
            self.runs.values(),
            key=lambda r: (
                r["started_at"] is None,
                r["started_at"].timestamp() if r["started_at"] else 0.0,
                r["id"],
            ),
        )
        table = self.table
        table.setRowCount(len(runs))
        self._rows = {r["id"]: row for row, r in enumerate(runs)}
        for row, r in enumerate(runs):
            table.setItem(
                row,
                0,
                table_item(
                    f"#{r['id']}" + (f"  {r['execution_name']}" if r.get("execution_name") else ""),
                    data=r["id"],
                ),
            )
            table.setItem(row, 1, table_item(r.get("workflow_name") or str(r["workflow_id"])))
            status = table_item(STATUS_LABELS.get(r["status"], r["status"]))
            status.setForeground(status_color(r["status"]))
            table.setItem(row, 2, status)
            table.setItem(row, 3, table_item(r.get("current_node") or "—"))
            table.setItem(row, 4, table_item(format_seconds(self._elapsed(r))))
            table.setCellWidget(row, 5, self._cancel_button(r["id"]))
        self.header.setText(f"Active executions ({len(runs)})")
        self.empty.setVisible(not runs)
        self.updated.emit()

    def _cancel_button(self, run_id: int) -> QPushButton:
        button = QPushButton("Cancel")
        button.setObjectName(f"cancel-{run_id}")
        handle = self._handle(run_id)
        if handle is None:
            button.setEnabled(False)
            button.setToolTip(NO_EXECUTOR_TIP if self.executor is None else FOREIGN_RUN_TIP)
        else:
            button.setToolTip(f"Cancel run #{run_id}: running nodes stop and are logged as cancelled.")
            button.clicked.connect(lambda _checked=False, h=handle, b=button: self._cancel(h, b))
        return button

    def _cancel(self, handle: Any, button: QPushButton) -> None:
        handle.cancel()
        button.setEnabled(False)
        button.setText("Cancelling…")

    def cancel_button(self, run_id: int) -> QPushButton | None:
        """The Cancel button of run `run_id`'s row, if it is shown."""
        for row in range(self.table.rowCount()):
            if row_data(self.table, row) == run_id:
                widget = self.table.cellWidget(row, 5)
                return widget if isinstance(widget, QPushButton) else None
        return None

    def _elapsed(self, run: dict[str, Any]) -> float | None:
        started = run.get("started_at")
        if started is None:
            return run.get("elapsed_time")
        return max((self.queries.clock() - started).total_seconds(), 0.0)

    def _update_current_nodes(self) -> None:
        for run_id, row in self._rows.items():
            run, item = self.runs.get(run_id), self.table.item(row, 3)
            if run is not None and item is not None:
                text = run.get("current_node") or "—"
                if item.text() != text:
                    item.setText(text)
        self.updated.emit()

    def _update_elapsed(self) -> None:
        for row in range(self.table.rowCount()):
            run, cell = self.runs.get(row_data(self.table, row)), self.table.item(row, 4)
            if run is not None and cell is not None:
                cell.setText(format_seconds(self._elapsed(run)))

    def _activate(self, item: QTableWidgetItem) -> None:
        run_id = row_data(self.table, item.row())
        if run_id is not None:
            self.executionActivated.emit(int(run_id))
