"""Execution history of the current workflow: status, started, duration, input summary; filter by
status; selecting a row replays it on the canvas; re-run with the same input; delete old runs."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.executions import ExecutionService
from flowdesk.ui.status_colors import STATUS_COLORS as _ROW_COLORS

#: The end states a run can be resumed from (Resume button).
RESUMABLE = frozenset(
    {
        ExecutionStatus.INTERRUPTED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMED_OUT,
    }
)

HISTORY_LIMIT = 200


def input_summary(value: Any, width: int = 60) -> str:
    """Compact one-line JSON of a run's input."""
    if value is None:
        return "—"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


class HistoryView(QWidget):
    """The history dock's widget, for one workflow at a time."""

    replay_requested = Signal(int)
    rerun_requested = Signal(int)
    resume_requested = Signal(int)

    COLUMNS = ("#", "Status", "Started", "Duration", "Input")

    def __init__(self, db: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistory")
        self.service = ExecutionService(db)
        self.workflow_id: int | None = None
        self.executions: list[Any] = []

        self.status = QComboBox(self)
        self.status.setObjectName("historyStatus")
        self.status.addItem("All statuses", None)
        for status in ExecutionStatus:
            self.status.addItem(status.value.replace("_", " "), status.value)
        self.status.currentIndexChanged.connect(self.refresh)
        self.rerun_button = QPushButton("Re-run", self)
        self.rerun_button.setObjectName("historyRerun")
        self.rerun_button.setToolTip("Run again with the same input")
        self.rerun_button.clicked.connect(self._rerun)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setObjectName("historyResume")
        self.resume_button.setToolTip("Resume a stopped run: steps that succeeded are reused")
        self.resume_button.clicked.connect(self._resume)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("historyDelete")
        self.delete_button.clicked.connect(lambda: self.delete_selected(ask=True))
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.rerun_button)
        bar.addWidget(self.resume_button)
        bar.addWidget(self.delete_button)

        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self._update_buttons()

    def set_workflow(self, workflow_id: int | None) -> None:
        self.workflow_id = workflow_id
        self.refresh()

    def refresh(self) -> None:
        """Reload the list from the database (newest first), keeping the selection."""
        selected = set(self.selected_ids())
        if self.workflow_id is None:
            self.executions = []
        else:
            self.executions = self.service.list_executions(
                workflow_id=self.workflow_id, status=self.status.currentData(), limit=HISTORY_LIMIT
            )
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.executions))
        for row, e in enumerate(self.executions):
            status = str(getattr(e.status, "value", e.status))
            started = (
                e.started_at.replace(tzinfo=e.started_at.tzinfo or UTC).astimezone() if e.started_at else None
            )
            duration = (
                f"{(e.completed_at - e.started_at).total_seconds():.2f} s"
                if e.started_at and e.completed_at
                else ("…" if status in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED) else "—")
            )
            cells = [
                str(e.id),
                status.replace("_", " "),
                started.strftime("%Y-%m-%d %H:%M:%S") if started else "—",
                duration,
                input_summary(e.input_data),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, e.id)
                if col == 1 and status in _ROW_COLORS:
                    item.setForeground(_ROW_COLORS[status])
                if col == 4:
                    item.setToolTip(input_summary(e.input_data, 2000))
                if e.error_message:
                    item.setToolTip(e.error_message)
                self.table.setItem(row, col, item)
            if e.id in selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self._update_buttons()

    # ------------------------------------------------------------ selection and actions
    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.executions[r].id for r in rows if r < len(self.executions)]

    def select_execution(self, execution_id: int) -> bool:
        for row, e in enumerate(self.executions):
            if e.id == execution_id:
                self.table.clearSelection()
                self.table.selectRow(row)
                return True
        return False

    def _selection_changed(self) -> None:
        self._update_buttons()
        ids = self.selected_ids()
        if len(ids) == 1:
            self.replay_requested.emit(ids[0])

    def _update_buttons(self) -> None:
        ids = self.selected_ids()
        one = len(ids) == 1
        self.rerun_button.setEnabled(one)
        self.delete_button.setEnabled(bool(ids))
        status = None
        if one:
            status = next(
                (
                    str(getattr(e.status, "value", e.status))
                    for e in self.executions
                    if e.id == ids[0] and getattr(e, "resumed_as_id", None) is None  # resumed once only
                ),
                None,
            )
        self.resume_button.setEnabled(status in RESUMABLE)

    def _rerun(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.rerun_requested.emit(ids[0])

    def _resume(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.resume_requested.emit(ids[0])

    def delete_selected(self, *, ask: bool = True) -> int:
        """Delete the selected executions (their step rows too); running ones are kept."""
        ids = [
            e.id
            for e in self.executions
            if e.id in set(self.selected_ids())
            and str(getattr(e.status, "value", e.status))
            not in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED)
        ]
        if not ids:
            return 0
        if ask:
            answer = QMessageBox.question(
                self,
                "Delete executions",
                f"Delete {len(ids)} execution{'s' if len(ids) > 1 else ''} and their logs?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        count = self.service.delete_executions(ids)
        self.refresh()
        return count
