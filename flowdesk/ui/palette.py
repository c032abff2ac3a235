"""The node palette: node types to drag onto the canvas (a real QDrag carrying the type)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from .canvas.view import NODE_TYPE_MIME
from .style import theme

PALETTE_LABELS = {
    "START": "Start",
    "END": "End",
    "API_CALL": "API call",
    "CONDITION": "Condition",
    "DELAY": "Delay",
    "PARALLEL": "Parallel",
    "LOOP": "Loop",
}


@cache
def node_type_icon(node_type: str) -> QIcon:
    """A small rounded badge in the type's colour with its glyph: the SVGs in resources/icons
    are the same drawings for the app and docs; painting here keeps icons crisp at any scale."""
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = theme.node_color(node_type)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(4, 4, 56, 56, 14, 14)
    font = QFont()
    font.setPixelSize(34)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, theme.NODE_GLYPHS.get(node_type, "●"))
    painter.end()
    return QIcon(pix)


class NodePalette(QListWidget):
    """Lists node types; dragging one starts a QDrag with NODE_TYPE_MIME, double-click adds it."""

    def __init__(self, node_types: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodePalette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setIconSize(QSize(22, 22))
        self.setSpacing(2)
        self.set_node_types(node_types)

    def set_node_types(self, node_types: list[str]) -> None:
        self.clear()
        for node_type in node_types:
            label = PALETTE_LABELS.get(node_type, node_type)
            item = QListWidgetItem(node_type_icon(node_type), label)
            item.setData(Qt.ItemDataRole.UserRole, node_type)
            item.setToolTip(
                f"{node_type}: {theme.NODE_DESCRIPTIONS.get(node_type, 'Custom node type')}\n"
                "Drag onto the canvas."
            )
            self.addItem(item)

    def mime_for(self, node_type: str) -> QMimeData:
        mime = QMimeData()
        mime.setData(NODE_TYPE_MIME, node_type.encode("utf-8"))
        mime.setText(node_type)
        return mime

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [NODE_TYPE_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        return self.mime_for(items[0].data(Qt.ItemDataRole.UserRole))

    def startDrag(self, supported_actions) -> None:  # noqa: N802
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mime_for(item.data(Qt.ItemDataRole.UserRole)))
        drag.setPixmap(item.icon().pixmap(32, 32))
        drag.exec(Qt.DropAction.CopyAction)
