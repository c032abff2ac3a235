"""AuditDialog: who changed what, when — the audit log, filtered by workflow, actor and time.

The same rows `flowdesk audit` and `GET /audit` list (services.audit.AuditService), newest first.
Actors are server users for changes made through the REST API, the operating-system user for the app
and the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.services.audit import AuditEntry, AuditService

COLUMNS = ("When (local time)", "Actor", "Action", "What", "Summary")
PAGE = 500


class AuditDialog(QDialog):
    """The audit log with its filters; `refresh()` reads it again with the filters as they are."""

    def __init__(self, backend, workflow_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditDialog")
        self.setWindowTitle("Audit log")
        self.resize(1000, 560)
        self.service = AuditService(backend.db)
        self.workflows = backend.workflows

        self.workflow = QComboBox(self)
        self.workflow.setObjectName("auditWorkflow")
        self.workflow.addItem("Everything (every workflow, API, user, run...)", None)
        for wf in self.workflows.list_workflows():
            self.workflow.addItem(f"{wf.name}  (#{wf.id})", wf.id)
        if workflow_id is not None:
            self.workflow.setCurrentIndex(max(0, self.workflow.findData(workflow_id)))
        self.actor = QLineEdit(self)
        self.actor.setObjectName("auditActor")
        self.actor.setPlaceholderText("any actor")
        self.actor.setClearButtonEnabled(True)
        self.use_since = QCheckBox("From", self)
        self.since = QDateTimeEdit(QDateTime.currentDateTime().addDays(-7), self)
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since.setEnabled(False)
        self.use_since.toggled.connect(self.since.setEnabled)

        filters = QFormLayout()
        filters.addRow("Workflow", self.workflow)
        filters.addRow("Actor", self.actor)
        since_row = QHBoxLayout()
        since_row.addWidget(self.use_since)
        since_row.addWidget(self.since, 1)
        filters.addRow("Time", since_row)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.count = QLabel(self)
        self.count.setObjectName("auditCount")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.workflow.currentIndexChanged.connect(self.refresh)
        self.actor.editingFinished.connect(self.refresh)
        self.actor.textChanged.connect(lambda text: self.refresh() if not text else None)
        self.use_since.toggled.connect(self.refresh)
        self.since.dateTimeChanged.connect(self.refresh)
        self.refresh()

    def since_value(self) -> datetime | None:
        if not self.use_since.isChecked():
            return None
        return datetime.fromtimestamp(self.since.dateTime().toSecsSinceEpoch(), UTC)

    def entries(self) -> list[AuditEntry]:
        """The rows the filters select, newest first (at most PAGE)."""
        workflow_id = self.workflow.currentData()
        return self.service.list_entries(
            entity="workflow" if workflow_id is not None else None,
            entity_id=workflow_id,
            actor=self.actor.text().strip() or None,
            since=self.since_value(),
            limit=PAGE,
        )

    def refresh(self) -> None:
        rows = self.entries()
        self.table.setRowCount(len(rows))
        for r, entry in enumerate(rows):
            when = entry.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            what = f"{entry.entity} {entry.entity_id}" if entry.entity_id is not None else entry.entity
            for c, text in enumerate((when, entry.actor or "", entry.action, what, entry.summary)):
                item = QTableWidgetItem(text)
                if c == len(COLUMNS) - 1:
                    item.setToolTip(text)
                self.table.setItem(r, c, item)
        more = " (the newest; narrow the filters to see older ones)" if len(rows) == PAGE else ""
        self.count.setText(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}{more}")
