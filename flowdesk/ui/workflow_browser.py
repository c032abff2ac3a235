"""WorkflowBrowser: the workflows in the database, with search, tag and status filters, and
new / open / duplicate / delete (delete asks first)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import Workflow

ALL = "__all__"


class WorkflowBrowser(QWidget):
    """A filterable table of workflows; emits `open_requested(id)` and `new_requested()`."""

    open_requested = Signal(int)
    new_requested = Signal()
    deleted = Signal(int)
    status_message = Signal(str)

    def __init__(self, backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workflowBrowser")
        self.backend = backend
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search workflows…")
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox(self)
        self.tag.setObjectName("tagFilter")
        self.status = QComboBox(self)
        self.status.setObjectName("statusFilter")
        self.status.addItem("any status", ALL)
        self.status.addItem("draft", "draft")
        self.status.addItem("active", "active")
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("workflowTable")
        self.table.setHorizontalHeaderLabels(["Name", "Version", "Status", "Tags"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            self.table.horizontalHeader().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)
        self.new_button = QPushButton("New", self)
        self.open_button = QPushButton("Open", self)
        self.duplicate_button = QPushButton("Duplicate", self)
        self.delete_button = QPushButton("Delete", self)
        filters = QHBoxLayout()
        filters.addWidget(self.tag, 1)
        filters.addWidget(self.status, 1)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.search.textChanged.connect(self.refresh)
        self.tag.activated.connect(self.refresh)
        self.status.activated.connect(self.refresh)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._open_row(row))
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.workflows: list[Workflow] = []
        self.refresh()

    def refresh(self, *_args) -> None:
        every = self.backend.workflows.list_workflows()
        tags = sorted({t for w in every for t in w.tags})
        current_tag = self.tag.currentData()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItem("any tag", ALL)
        for t in tags:
            self.tag.addItem(t, t)
        index = self.tag.findData(current_tag) if current_tag else 0
        self.tag.setCurrentIndex(max(index, 0))
        self.tag.blockSignals(False)
        tag = self.tag.currentData()
        status = self.status.currentData()
        self.workflows = self.backend.workflows.list_workflows(
            tag=None if tag in (None, ALL) else tag,
            search=self.search.text().strip() or None,
            status=None if status in (None, ALL) else status,
        )
        self.table.setRowCount(len(self.workflows))
        for row, w in enumerate(self.workflows):
            name = QTableWidgetItem(w.name)
            name.setData(Qt.ItemDataRole.UserRole, w.id)
            name.setToolTip(w.description or w.name)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(w.version))
            self.table.setItem(row, 2, QTableWidgetItem(w.status))
            self.table.setItem(row, 3, QTableWidgetItem(", ".join(w.tags)))

    def selected_id(self) -> int | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.workflows):
            return self.workflows[row].id
        return None

    def select_id(self, workflow_id: int) -> None:
        for row, w in enumerate(self.workflows):
            if w.id == workflow_id:
                self.table.selectRow(row)
                return

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.workflows):
            self.open_requested.emit(self.workflows[row].id)

    def duplicate_selected(self) -> int | None:
        workflow_id = self.selected_id()
        if workflow_id is None:
            return None
        try:
            copy = self.backend.workflows.duplicate_workflow(workflow_id)
        except FlowdeskError as err:
            self.status_message.emit(str(err))
            return None
        self.refresh()
        self.select_id(copy.id)
        self.status_message.emit(f"Duplicated as '{copy.name}'")
        return copy.id

    def delete_selected(self, *, confirm: bool = True) -> bool:
        workflow_id = self.selected_id()
        if workflow_id is None:
            return False
        workflow = next(w for w in self.workflows if w.id == workflow_id)
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete workflow",
                f"Delete '{workflow.name}' with its nodes, connections and run history?\nThis cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.backend.workflows.delete_workflow(workflow_id)
        self.refresh()
        self.deleted.emit(workflow_id)
        self.status_message.emit(f"Deleted '{workflow.name}'")
        return True
