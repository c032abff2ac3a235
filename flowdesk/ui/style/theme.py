"""The editor's palette: one colour per node type, one colour and line style per connection type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from flowdesk.domain.enums import ConnectionType, NodeType

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

NODE_COLORS: dict[str, QColor] = {
    NodeType.START: QColor("#2e9d5b"),
    NodeType.END: QColor("#5f6b7a"),
    NodeType.API_CALL: QColor("#2f6fed"),
    NodeType.CONDITION: QColor("#d4860b"),
    NodeType.DELAY: QColor("#7c5cd6"),
    NodeType.PARALLEL: QColor("#0f9aa8"),
    NodeType.LOOP: QColor("#c2418f"),
}
CUSTOM_NODE_COLOR = QColor("#8a6d3b")

NODE_GLYPHS: dict[str, str] = {
    NodeType.START: "▶",
    NodeType.END: "■",
    NodeType.API_CALL: "⇄",
    NodeType.CONDITION: "◆",
    NodeType.DELAY: "◷",
    NodeType.PARALLEL: "∥",
    NodeType.LOOP: "↻",
}

NODE_DESCRIPTIONS: dict[str, str] = {
    NodeType.START: "Where a run begins: receives the input.",
    NodeType.END: "Where a run ends: gives the output.",
    NodeType.API_CALL: "Calls an HTTP API from the library or inline.",
    NodeType.CONDITION: "Branches on an expression: true or false.",
    NodeType.DELAY: "Waits a number of seconds.",
    NodeType.PARALLEL: "Runs its branches at the same time.",
    NodeType.LOOP: "Repeats its body over items or while a condition holds.",
}


def node_color(node_type: str) -> QColor:
    return NODE_COLORS.get(node_type, CUSTOM_NODE_COLOR)


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
