"""The run log: one row per event in columns (time, level, node, status, duration, message),
coloured by level, filterable by level and node, searchable, capped and copyable.

A model/view table (not a text widget): appending a batch of a thousand lines is one row insert,
the view paints only the rows on screen (fixed row heights), and filters re-scan a capped list.
Each field has a column of its own, so the columns line up whatever script a node name is in:
CJK glyphs are about twice as wide as Latin ones, emoji and combining marks differ again, and
padding text with spaces aligns none of that in a proportional font, nor always in a monospace
one. Column widths come from the font's metrics, never from the rows (ResizeToContents measures
rows on every insert); a name too long for the node column is elided, its tooltip has it whole.
Copy gives plain text padded by terminal columns (flowdesk/text_width.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QKeySequence, QShortcut, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus, StepStatus

from .run_state import LogEntry, RunChange, RunState, plain_lines

LEVELS = ("debug", "info", "warning", "error")
LEVEL_COLORS = {
    "debug": QColor("#80868b"),
    "info": QColor("#1f2430"),
    "warning": QColor("#b06000"),
    "error": QColor("#c5221f"),
}
STATUS_COLORS = {
    StepStatus.SUCCESS: QColor("#1e8e3e"),
    StepStatus.FAILED: QColor("#c5221f"),
    StepStatus.CANCELLED: QColor("#b06000"),
}
#: Every status a log line can carry (node and execution statuses), to size the status column.
STATUSES: tuple[str, ...] = tuple(dict.fromkeys([*StepStatus, "started", *ExecutionStatus]))
#: The node column fits the names it has seen, between these many digit widths of the log's font.
NODE_COLUMN_MIN_CHARS = 6
NODE_COLUMN_MAX_CHARS = 26
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_Parent = QModelIndex | QPersistentModelIndex
#: Scripts whose glyphs come from fallback fonts with taller lines than the log's monospace font.
_ROW_HEIGHT_SAMPLE = "Ag|登录한あ🚀é́"


class LogModel(QAbstractTableModel):
    """The visible log lines: the entries passing the filters, at most CAP (oldest dropped)."""

    CAP = 5_000
    COLUMNS = ("Time", "Level", "Node", "Status", "Duration", "Message")
    TIME, LEVEL, NODE, STATUS, DURATION, MESSAGE = range(6)

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
        if self.search and self.search not in " ".join(entry.fields()).casefold():
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

    def rowCount(self, parent: _Parent = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Parent = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section] + ("\u2007" if section == self.DURATION else "")
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if section == self.DURATION else None
        return None

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NODE:
                return entry.node_text()
            if column == self.STATUS:
                return entry.status
            if column == self.DURATION:  # right-aligned; a figure space keeps it off the message
                return entry.duration_text() + "\u2007" if entry.duration is not None else ""
            if column == self.TIME:
                return entry.clock()
            if column == self.LEVEL:
                return entry.level.upper()
            return entry.message.replace("\n", " ↵ ")  # one line per row; the tooltip has it all
        if role == Qt.ItemDataRole.ForegroundRole:
            if entry.level in ("warning", "error", "debug"):
                return LEVEL_COLORS[entry.level]
            return STATUS_COLORS.get(entry.status, LEVEL_COLORS["info"])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column == self.DURATION else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.NODE:
                return entry.node
            if column == self.MESSAGE:
                return entry.message or None
            return None
        if role == Qt.ItemDataRole.UserRole:
            return entry
        return None


def row_height(font: QFont) -> int:
    """A row as tall as a line of text in `font` with CJK, Hangul, kana and emoji in it: their
    glyphs come from fallback fonts whose lines are taller than the monospace font's own."""
    layout = QTextLayout(_ROW_HEIGHT_SAMPLE, font)
    layout.beginLayout()
    line = layout.createLine()
    layout.endLayout()
    return int(line.height() + 0.999) + 2


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

        self.view = QTableView(self)
        self.view.setObjectName("logLines")
        self.view.setModel(self.model)
        self.view.setShowGrid(False)
        self.view.setCornerButtonEnabled(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setWordWrap(False)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(9.0)
        self.view.setFont(mono)
        rows = self.view.verticalHeader()
        rows.hide()
        # Fixed row heights: the view never asks the rows for their size (inserting a batch is
        # cheap at any length, where a QTreeView lays every row out again, calling into Python)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setMinimumSectionSize(1)
        rows.setDefaultSectionSize(row_height(mono))
        header = self.view.horizontalHeader()
        header.setSectionsMovable(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)  # the message takes what the fixed columns leave
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._section_resized)
        self._node_names: set[str] = set()
        self._node_width = 0  # the node column's width as fitted to the names (px)
        self._node_width_chosen = False  # the user resized the node column: keep their width
        self._fitting = False
        self._fit_columns()
        QShortcut(
            QKeySequence.StandardKey.Copy, self.view, self.copy, context=Qt.ShortcutContext.WidgetShortcut
        )
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
            self.state.unfollow(self._on_change)
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
            self._fit_node_column(new)
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
        self._node_width = 0
        graph_names = self.state.node_names() if self.state is not None else set()
        self._fit_node_column(self._node_names | graph_names)
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

    # ------------------------------------------------------------ column widths
    def _cell_padding(self) -> int:
        """What an item view adds around a cell's text: the style's text margins, plus room for
        the eye between columns."""
        margin = self.view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.view)
        return 2 * (margin + 1) + QFontMetrics(self.view.font()).averageCharWidth()

    def _fit_columns(self) -> None:
        """Widths of the fixed columns from the font's metrics (the widest text each can hold) and
        of their headers; the message column stretches."""
        metrics = QFontMetrics(self.view.font())
        pad = self._cell_padding()
        header = self.view.horizontalHeader()
        widths = {
            LogModel.TIME: metrics.horizontalAdvance("00:00:00.000"),
            LogModel.LEVEL: max(metrics.horizontalAdvance(level.upper()) for level in LEVELS),
            LogModel.STATUS: max(metrics.horizontalAdvance(status) for status in STATUSES),
            LogModel.DURATION: metrics.horizontalAdvance("000000 ms"),
        }
        self._fitting = True
        try:
            for column, width in widths.items():
                header.resizeSection(column, max(width + pad, header.sectionSizeHint(column)))
        finally:
            self._fitting = False
        self._fit_node_column(self._node_names)

    def _fit_node_column(self, names: Iterable[str]) -> None:
        """Widen the node column to the widest of `names` (measured once, when first seen), up to
        NODE_COLUMN_MAX_CHARS digit widths; longer names are elided. Never narrows during a run,
        so columns do not jump; a width the user chose is kept."""
        if self._node_width_chosen:
            return
        metrics = QFontMetrics(self.view.font())
        digit = metrics.horizontalAdvance("0")
        widest = max((metrics.horizontalAdvance(name) for name in names), default=0)
        width = min(max(widest, digit * NODE_COLUMN_MIN_CHARS), digit * NODE_COLUMN_MAX_CHARS)
        width = max(width + self._cell_padding(), self.view.horizontalHeader().sectionSizeHint(LogModel.NODE))
        if width <= self._node_width:
            return
        self._node_width = width
        self._fitting = True
        try:
            self.view.horizontalHeader().resizeSection(LogModel.NODE, width)
        finally:
            self._fitting = False

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if column == LogModel.NODE and not self._fitting:
            self._node_width_chosen = True

    # ------------------------------------------------------------ reading
    def lines(self) -> list[str]:
        """The shown lines as aligned plain text."""
        return plain_lines(self.model.rows)

    def copy(self) -> str:
        """Copy the selected lines (or all shown) to the clipboard as aligned plain text; returns it."""
        # whole rows are selected (SelectRows); reading the ranges beats asking row by row
        selected = self.view.selectionModel().selection()
        rows = sorted({row for part in selected.toList() for row in range(part.top(), part.bottom() + 1)})
        entries = [self.model.rows[r] for r in rows] if rows else self.model.rows
        text = "\n".join(plain_lines(entries))
        QGuiApplication.clipboard().setText(text)
        return text
