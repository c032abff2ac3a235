"""The start-up notice for runs a previous session left cut off (marked `interrupted` by the store
when the database opened): a non-modal dialog listing them, with Resume and Dismiss."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.executions import ExecutionService


def unresumed_interrupted(db: Any, dismissed: set[int], limit: int = 50) -> list[Any]:
    """Interrupted executions not resumed yet and not dismissed, newest first (one per workflow)."""
    service = ExecutionService(db)
    interrupted = service.list_executions(status=ExecutionStatus.INTERRUPTED, limit=limit)
    if not interrupted:
        return []
    resumed = {e.resumed_from_id for e in service.list_executions(limit=1000) if e.resumed_from_id}
    seen: set[int] = set()
    result = []
    for e in interrupted:
        if e.id in resumed or e.id in dismissed or e.workflow_id in seen:
            continue
        seen.add(e.workflow_id)
        result.append(e)
    return result


class InterruptedRunsNotice(QDialog):
    """Lists interrupted runs; `resume_requested(execution_ids)` / `dismissed(execution_ids)`."""

    resume_requested = Signal(list)
    dismissed = Signal(list)

    def __init__(self, executions: list[Any], names: dict[int, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("interruptedRunsNotice")
        self.setWindowTitle("Runs cut off by the last session")
        self.setModal(False)
        self.ids = [e.id for e in executions]
        label = QLabel(
            "flowdesk stopped while these runs were going on. Resume re-runs each from where it "
            "stopped (steps that succeeded are reused).",
            self,
        )
        label.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("interruptedList")
        for e in executions:
            when = e.started_at.strftime("%Y-%m-%d %H:%M") if e.started_at else "?"
            step = f", at {e.current_node}" if e.current_node else ""
            item = QListWidgetItem(
                f"#{e.id}  {names.get(e.workflow_id, e.workflow_id)}  (started {when}{step})"
            )
            item.setData(Qt.ItemDataRole.UserRole, e.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(self)
        self.resume_button = buttons.addButton("Resume", QDialogButtonBox.ButtonRole.AcceptRole)
        self.resume_button.setObjectName("resumeInterrupted")
        self.dismiss_button = buttons.addButton("Dismiss", QDialogButtonBox.ButtonRole.RejectRole)
        self.dismiss_button.setObjectName("dismissInterrupted")
        self.resume_button.clicked.connect(self._resume)
        self.dismiss_button.clicked.connect(self._dismiss)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(520, 260)

    def checked_ids(self) -> list[int]:
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _resume(self) -> None:
        ids = self.checked_ids()
        self.hide()
        self.resume_requested.emit(ids)
        self.dismissed.emit([i for i in self.ids if i not in ids])
        self.deleteLater()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit(list(self.ids))
        self.deleteLater()
