"""MessageTable: a read-only table of short fields followed by a message (the monitor's error types
and the runs that had one).

With every column sized to its contents the fields could take the whole width (a long node name,
a timestamp) and push the message out of sight behind a horizontal scroll bar. Here the fields
get the width their contents need, the message stretches over the rest and is kept at least
MESSAGE_SHARE of the table: when room is short, the elastic fields (names, types) give way first,
down to a floor, and are elided like the message; each cell's tooltip has its whole text. Widths
are worked out again when the table is resized or refilled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

#: The message column keeps at least this share of the table's width, or MESSAGE_MIN_CHARS.
MESSAGE_SHARE = 0.4
MESSAGE_MIN_CHARS = 16
#: An elastic field is never made narrower than this many average characters, nor its header label
#: (nor wider than its contents).
ELASTIC_MIN_CHARS = 9


def shrink_to_fit(natural: Sequence[int], floors: Mapping[int, int], budget: int) -> list[int]:
    """Widths for columns wanting `natural` px within `budget` px. Only the columns in `floors`
    (column -> narrowest width) give way: the widest first, all cut to one common width, none
    below its floor. The others keep their natural width, so the result exceeds `budget` when
    even the floors are too wide."""

    def cut(level: int) -> list[int]:
        return [max(min(w, level), min(w, floors[i])) if i in floors else w for i, w in enumerate(natural)]

    if sum(natural) <= budget or not floors:
        return list(natural)
    low, high = 0, max(natural)  # the highest common width that fits (cut(0) = every floor)
    while low < high:
        level = (low + high + 1) // 2
        if sum(cut(level)) <= budget:
            low = level
        else:
            high = level - 1
    return cut(low)


def table_item(
    text: str, *, align_right: bool = False, data=None, tooltip: bool | str = False
) -> QTableWidgetItem:
    """A read-only cell; `tooltip=True` puts the whole text in its tooltip (for cells that may elide),
    a string puts that string there."""
    cell = QTableWidgetItem(text)
    cell.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    if align_right:
        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if data is not None:
        cell.setData(Qt.ItemDataRole.UserRole, data)
    if isinstance(tooltip, str):
        if tooltip:
            cell.setToolTip(tooltip)
    elif tooltip and text:
        cell.setToolTip(text)
    return cell


class MessageTable(QTableWidget):
    """A read-only, row-selecting table whose last column is a message (see the module docstring).

    `elastic` are the columns that may be narrowed and elided when room is short."""

    def __init__(self, headers: Sequence[str], *, elastic: Iterable[int] = (), parent: QWidget | None = None):
        super().__init__(0, len(headers), parent)
        self.elastic = frozenset(elastic)
        self.setHorizontalHeaderLabels(list(headers))
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(24)
        self.viewport().installEventFilter(self)  # its width changes with the vertical scroll bar too

    def fit_columns(self) -> None:
        """Size the fields to their contents within what the message leaves them (call after filling)."""
        fields = self.columnCount() - 1
        if fields <= 0:
            return
        header = self.horizontalHeader()
        labels = [header.sectionSizeHint(c) for c in range(fields)]
        natural = [max(self.sizeHintForColumn(c), labels[c]) for c in range(fields)]
        room = self.viewport().width()
        average = QFontMetrics(self.font()).averageCharWidth()
        message = max(int(room * MESSAGE_SHARE), average * MESSAGE_MIN_CHARS)
        # an elastic field keeps its header label whole (a style sheet's padding clips, not elides)
        floors = {c: max(labels[c], average * ELASTIC_MIN_CHARS) for c in self.elastic if c < fields}
        widths = shrink_to_fit(natural, floors, room - message)
        for column, width in enumerate(widths):
            if header.sectionSize(column) != width:
                header.resizeSection(column, width)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)
