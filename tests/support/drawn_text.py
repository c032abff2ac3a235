"""What an item view draws in a cell: the text after elision, computed the way the style paints it
(QCommonStyle elides the item's text to its text rect minus the focus-frame margins)."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyleOptionViewItem


def drawn_text(view: QAbstractItemView, index) -> tuple[str, str, int]:
    """(full text, text as the view draws it, room for it in px) of the cell at `index`."""
    option = QStyleOptionViewItem()
    option.rect = view.visualRect(index)
    option.font = view.font()
    option.textElideMode = view.textElideMode()
    view.itemDelegateForIndex(index).initStyleOption(option, index)
    style = view.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    room = rect.width() - 2 * margin
    shown = QFontMetrics(option.font).elidedText(option.text, option.textElideMode, room)
    return option.text, shown, room
