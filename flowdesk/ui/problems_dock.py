"""ProblemsList: the current workflow's validation problems; double-click selects the node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from flowdesk.domain.enums import Severity
from flowdesk.domain.models import Problem

from .style import theme


class ProblemsList(QTreeWidget):
    """One row per problem: severity, where, message."""

    problem_activated = Signal(object)  # Problem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemsList")
        self.setColumnCount(3)
        self.setHeaderLabels(["", "Where", "Problem"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setColumnWidth(0, 70)
        self.setColumnWidth(1, 260)
        self.problems: list[Problem] = []
        self.itemDoubleClicked.connect(self._activated)
        self.itemActivated.connect(self._activated)

    def set_problems(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        self.clear()
        items = []
        for i, p in enumerate(problems):
            where = p.where() or "workflow"
            item = QTreeWidgetItem(["error" if p.severity == Severity.ERROR else "warning", where, p.message])
            color = theme.ERROR_MARK if p.severity == Severity.ERROR else theme.WARNING_MARK
            item.setForeground(0, QBrush(color))
            item.setToolTip(2, p.message)
            item.setData(0, Qt.ItemDataRole.UserRole, i)
            items.append(item)
        self.addTopLevelItems(items)

    def summary(self) -> str:
        errors = sum(1 for p in self.problems if p.severity == Severity.ERROR)
        warnings = len(self.problems) - errors
        return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        index = item.data(0, Qt.ItemDataRole.UserRole)
        if index is not None and 0 <= index < len(self.problems):
            self.problem_activated.emit(self.problems[index])
