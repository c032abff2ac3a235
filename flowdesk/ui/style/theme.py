"""The editor's palette: colours, and one colour and line style per connection type (a node type's
colour is its descriptor's: flowdesk/domain/node_descriptors.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.node_descriptors import NodeTypeDescriptor, describe

RESOURCES = Path(__file__).resolve().parents[3] / "resources"

CANVAS_BACKGROUND = QColor("#f5f6f8")
GRID_MINOR = QColor("#e9ebef")
GRID_MAJOR = QColor("#dcdfe5")
NODE_BODY = QColor("#ffffff")
NODE_BORDER = QColor("#c9ced6")
NODE_TEXT = QColor("#1f2430")
NODE_SUBTEXT = QColor("#6b7280")
SELECTION = QColor("#2f6fed")
PORT_FILL = QColor("#ffffff")
PORT_BORDER = QColor("#6b7280")
ERROR_MARK = QColor("#d93025")
WARNING_MARK = QColor("#e8a317")


def node_color(node_type: NodeTypeDescriptor | str) -> QColor:
    """A node type's colour, from its descriptor (a name: the built-in's, or the custom colour)."""
    descriptor = describe(node_type) if isinstance(node_type, str) else node_type
    return _color(descriptor.color)


@cache
def _color(text: str) -> QColor:
    return QColor(text)


@dataclass(frozen=True)
class ConnectionStyle:
    """How a connection type is drawn: colour, line style and the label on it."""

    color: QColor
    pen_style: Qt.PenStyle
    label: str


CONNECTION_STYLES: dict[ConnectionType, ConnectionStyle] = {
    ConnectionType.SEQUENCE: ConnectionStyle(QColor("#7b8494"), Qt.PenStyle.SolidLine, ""),
    ConnectionType.CONDITIONAL: ConnectionStyle(QColor("#d4860b"), Qt.PenStyle.DashLine, "if"),
    ConnectionType.CONDITIONAL_TRUE: ConnectionStyle(QColor("#2e9d5b"), Qt.PenStyle.SolidLine, "true"),
    ConnectionType.CONDITIONAL_FALSE: ConnectionStyle(QColor("#d93025"), Qt.PenStyle.SolidLine, "false"),
    ConnectionType.PARALLEL: ConnectionStyle(QColor("#0f9aa8"), Qt.PenStyle.SolidLine, "parallel"),
    ConnectionType.LOOP: ConnectionStyle(QColor("#c2418f"), Qt.PenStyle.DashDotLine, "loop"),
    ConnectionType.ERROR: ConnectionStyle(QColor("#b3261e"), Qt.PenStyle.DotLine, "on error"),
}


def style_sheet() -> str:
    """The application's Qt style sheet (resources/style.qss)."""
    path = RESOURCES / "style.qss"
    return path.read_text(encoding="utf-8") if path.exists() else ""
