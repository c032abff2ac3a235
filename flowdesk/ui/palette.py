"""The node palette: node types to drag onto the canvas (a real QDrag carrying the type)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QColor, QDrag, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from flowdesk.domain.node_descriptors import NodeTypeDescriptor, describe

from .canvas.view import NODE_TYPE_MIME

NodeTypes = Mapping[str, NodeTypeDescriptor] | Iterable[str]


def _descriptors(node_types: NodeTypes) -> list[NodeTypeDescriptor]:
    known = node_types if isinstance(node_types, Mapping) else {}
    names = list(node_types) if isinstance(node_types, Mapping) else list(node_types)
    return [describe(name, known) for name in names]


@cache
def _badge(color: str, glyph: str) -> QIcon:
    """A small rounded badge in the type's colour with its glyph (the descriptor's `color` and
    `icon`); painted rather than loaded, so icons stay crisp at any scale and custom types get one."""
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawRoundedRect(4, 4, 56, 56, 14, 14)
    font = QFont()
    font.setPixelSize(34)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, glyph)
    painter.end()
    return QIcon(pix)


def node_type_icon(descriptor: NodeTypeDescriptor | str) -> QIcon:
    """The badge of a node type: its descriptor's colour and icon."""
    if isinstance(descriptor, str):
        descriptor = describe(descriptor)
    return _badge(descriptor.color, descriptor.icon)


def type_tooltip(descriptor: NodeTypeDescriptor) -> str:
    """The type's name and help text, as the palette and the quick-add list show them."""
    return f"{descriptor.type_name}: {descriptor.help}"


class NodePalette(QListWidget):
    """Lists node types under their category (descriptors' label, icon, colour, help); dragging one
    starts a QDrag with NODE_TYPE_MIME, double-click adds it. Category headers carry no type."""

    def __init__(self, node_types: NodeTypes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodePalette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setIconSize(QSize(22, 22))
        self.setSpacing(2)
        self.set_node_types(node_types)

    def set_node_types(self, node_types: NodeTypes) -> None:
        """Show `node_types` (names, or a mapping of name -> descriptor), grouped by category in
        the order each category first appears."""
        self.clear()
        groups: dict[str, list[NodeTypeDescriptor]] = {}
        for descriptor in _descriptors(node_types):
            groups.setdefault(descriptor.category, []).append(descriptor)
        for category, members in groups.items():
            header = QListWidgetItem(category)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            self.addItem(header)
            for descriptor in members:
                item = QListWidgetItem(node_type_icon(descriptor), descriptor.label)
                item.setData(Qt.ItemDataRole.UserRole, descriptor.type_name)
                item.setToolTip(type_tooltip(descriptor) + "\nDrag onto the canvas.")
                self.addItem(item)

    def type_items(self) -> list[QListWidgetItem]:
        """The items that stand for a node type (not the category headers)."""
        items = (self.item(i) for i in range(self.count()))
        return [item for item in items if item.data(Qt.ItemDataRole.UserRole) is not None]

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
        if item is None or item.data(Qt.ItemDataRole.UserRole) is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mime_for(item.data(Qt.ItemDataRole.UserRole)))
        drag.setPixmap(item.icon().pixmap(32, 32))
        drag.exec(Qt.DropAction.CopyAction)
