"""ImportProblemsDialog: why a file could not be imported, one located problem per line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import Severity
from flowdesk.domain.errors import FileFormatError, FlowdeskError


def problem_lines(error: FlowdeskError) -> list[str]:
    """Every problem of a failed import as a readable line (errors first)."""
    if isinstance(error, FileFormatError) and error.problems:
        from flowdesk.interchange.workflow_file import describe_problem

        ordered = sorted(error.problems, key=lambda p: p.severity != Severity.ERROR)
        return [describe_problem(p) for p in ordered]
    return [str(error)]


class ImportProblemsDialog(QDialog):
    """A list of problems; nothing was imported."""

    def __init__(self, source: str, error: FlowdeskError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importProblemsDialog")
        self.setWindowTitle("Import failed")
        self.resize(640, 360)
        self.lines = problem_lines(error)
        label = QLabel(
            f"<b>{source}</b> was not imported; nothing changed. "
            f"{len(self.lines)} problem{'s' if len(self.lines) != 1 else ''}:",
            self,
        )
        label.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("importProblems")
        # long sentences wrap to the dialog's width instead of running off to the right
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setSpacing(2)
        self.list.addItems(self.lines)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
