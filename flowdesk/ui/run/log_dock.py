"""The run log: one line per event (time, node, status, duration, message), coloured by level,
filterable by level and node, searchable, capped and copyable.

A model/view list (not a text widget): appending a batch of a thousand lines is one row insert,
the view lays out only the rows on screen (uniform row heights), and filters re-scan a capped list.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .run_state import LogEntry, RunChange, RunState

LEVELS = ("debug", "info", "warning", "error")
LEVEL_COLORS = {
    "debug": QColor("#80868b"),
    "info": QColor("#1f2430"),
    "warning": QColor("#b06000"),
    "error": QColor("#c5221f"),
}
STATUS_COLORS = {"success": QColor("#1e8e3e"), "failed": QColor("#c5221f"), "cancelled": QColor("#b06000")}


class LogModel(QAbstractListModel):
    """The visible log lines: the entries passing the filters, at most CAP (oldest dropped)."""

    CAP = 5_000

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[LogEntry] = []
        self.min_level = 1  # index into LEVELS: info and up by default
        self.node: str | None = None
        self.search = ""

    def accepts(self, entry: LogEntry) -> bool:
        level = LEVELS.index(entry.level) if entry.level in LEVELS else 1
        if level < self.min_level:
            return False
        if self.node is not None and entry.node != self.node:
            return False
        if self.search and self.search not in entry.text().casefold():
            return False
        return True

    def reset_to(self, entries: Iterable[LogEntry]) -> None:
        self.beginResetModel()
        kept = [e for e in entries if self.accepts(e)]
        self.rows = kept[-self.CAP :]
        self.endResetModel()

    def append(self, entries: Iterable[LogEntry]) -> None:
        new = [e for e in entries if self.accepts(e)]
        if not new:
            return
        new = new[-self.CAP :]
        overflow = len(self.rows) + len(new) - self.CAP
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.rows[:overflow]
            self.endRemoveRows()
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self.rows.extend(new)
        self.endInsertRows()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.text()
        if role == Qt.ItemDataRole.ForegroundRole:
            if entry.level in ("warning", "error", "debug"):
                return LEVEL_COLORS[entry.level]
            return STATUS_COLORS.get(entry.status, LEVEL_COLORS["info"])
        if role == Qt.ItemDataRole.UserRole:
            return entry
        return None


class LogView(QWidget):
    """The log dock's widget; `show_state(state)` follows one RunState (live or replayed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runLog")
        self.state: RunState | None = None
        self.model = LogModel(self)

        self.level = QComboBox(self)
        self.level.setObjectName("logLevel")
        self.level.addItems(["Debug and up", "Info and up", "Warnings and errors", "Errors only"])
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._filters_changed)
        self.node = QComboBox(self)
        self.node.setObjectName("logNode")
        self.node.setMinimumWidth(140)
        self.node.addItem("All nodes")
        self.node.currentIndexChanged.connect(self._filters_changed)
        self.search = QLineEdit(self)
        self.search.setObjectName("logSearch")
        self.search.setPlaceholderText("Search the log…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filters_changed)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("logCopy")
        self.copy_button.setToolTip("Copy the selected lines (all shown lines when none is selected)")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(self.level)
        bar.addWidget(self.node)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.copy_button)

        self.view = QListView(self)
        self.view.setObjectName("logLines")
        self.view.setModel(self.model)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(9.0)
        self.view.setFont(mono)
        QShortcut(
            QKeySequence.StandardKey.Copy, self.view, self.copy, context=Qt.ShortcutContext.WidgetShortcut
        )
        self._node_names: set[str] = set()
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(100)
        self._scroll_timer.timeout.connect(self.view.scrollToBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.view)

    # ------------------------------------------------------------ following a run
    def show_state(self, state: RunState | None) -> None:
        if self.state is not None:
            try:
                self.state.updated.disconnect(self._on_change)
            except (RuntimeError, TypeError):
                pass
        self.state = state
        self._refill_nodes()
        self.model.reset_to(state.log if state is not None else ())
        if state is not None:
            state.updated.connect(self._on_change)
        self.view.scrollToBottom()

    def _on_change(self, change: RunChange) -> None:
        if not change.log:
            return
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        self.model.append(change.log)
        known = self._node_names
        new = [n for n in dict.fromkeys(e.node for e in change.log if e.node) if n not in known]
        if new:
            known.update(new)
            self.node.addItems(new)
        if at_bottom and not self._scroll_timer.isActive():
            self._scroll_timer.start()  # follow the tail at most ten times a second

    def _refill_nodes(self) -> None:
        current = self.node.currentText()
        self.node.blockSignals(True)
        self.node.clear()
        self.node.addItem("All nodes")
        self._node_names = set()
        if self.state is not None:
            names = list(dict.fromkeys(e.node for e in self.state.log if e.node))
            self._node_names.update(names)
            self.node.addItems(names)
        index = self.node.findText(current)
        self.node.setCurrentIndex(max(index, 0))
        self.node.blockSignals(False)
        self.model.node = None if self.node.currentIndex() <= 0 else self.node.currentText()

    def _filters_changed(self) -> None:
        self.model.min_level = self.level.currentIndex()
        self.model.node = None if self.node.currentIndex() <= 0 else self.node.currentText()
        self.model.search = self.search.text().casefold()
        self.model.reset_to(self.state.log if self.state is not None else ())
        self.view.scrollToBottom()

    # ------------------------------------------------------------ reading
    def lines(self) -> list[str]:
        """The shown lines as text."""
        return [e.text() for e in self.model.rows]

    def copy(self) -> str:
        """Copy the selected lines (or all shown) to the clipboard; returns the text."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        entries = [self.model.rows[r] for r in rows] if rows else self.model.rows
        text = "\n".join(e.text() for e in entries)
        QGuiApplication.clipboard().setText(text)
        return text
