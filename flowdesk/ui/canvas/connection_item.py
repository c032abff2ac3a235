"""ConnectionItem: a typed connection drawn as a curve from an output port to an input port.

The path, its bounding rect and its hit shape are computed when an end moves (never per paint).
Colour, line style and a label say the connection type.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from flowdesk.domain.enums import ConnectionType, Severity
from flowdesk.ui.style import theme

from .node_item import NodeItem

_LABEL_FONT = QFont()
_LABEL_FONT.setPointSizeF(7.5)
_LABEL_METRICS: QFontMetricsF | None = None


def _controls(p0: QPointF, p1: QPointF) -> tuple[QPointF, QPointF]:
    dx = p1.x() - p0.x()
    bend = max(50.0, abs(dx) * 0.5) if dx >= 0 else max(90.0, min(abs(dx) * 0.5, 240.0))
    return QPointF(p0.x() + bend, p0.y()), QPointF(p1.x() - bend, p1.y())


def curve_path(p0: QPointF, p1: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic from p0 to p1 (loops back around when p1 is left of p0)."""
    c1, c2 = _controls(p0, p1)
    path = QPainterPath(p0)
    path.cubicTo(c1, c2, p1)
    return path


_PENS: dict[ConnectionType, tuple[QPen, QPen]] = {
    ctype: (
        QPen(style.color, 2.0, style.pen_style, Qt.PenCapStyle.RoundCap),
        QPen(theme.SELECTION, 3.0, style.pen_style, Qt.PenCapStyle.RoundCap),
    )
    for ctype, style in theme.CONNECTION_STYLES.items()
}


class ConnectionItem(QGraphicsItem):
    """The picture of one connection between two NodeItems."""

    Type = QGraphicsItem.UserType + 2

    def __init__(
        self,
        uid: int,
        source: NodeItem,
        target: NodeItem,
        connection_type: ConnectionType,
        port_index: int,
        condition: str | None = None,
    ) -> None:
        super().__init__()
        self.uid = uid
        self.source, self.target = source, target
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1.0)
        self._problems: list[tuple[Severity, str]] = []
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._bounds = QRectF()
        self._arrow = QPainterPath()
        self.overview_changed = None  # set by the scene: the low-zoom line overview must refresh
        self.set_type(connection_type, port_index, condition)

    def type(self) -> int:  # noqa: A003
        return ConnectionItem.Type

    # ------------------------------------------------------------ model -> item
    def set_type(self, connection_type: ConnectionType, port_index: int, condition: str | None) -> None:
        self.connection_type = connection_type
        self.port_index = port_index
        style = theme.CONNECTION_STYLES[connection_type]
        label = style.label
        if connection_type == ConnectionType.CONDITIONAL and condition:
            label = f"if {condition}"
            if len(label) > 34:
                label = label[:33] + "…"
        self.label = label
        self.color = style.color
        self._pen, self._selected_pen = _PENS[connection_type]
        self._refresh_tooltip()
        self.update_path()

    def set_problems(self, problems: list[tuple[Severity, str]]) -> None:
        if problems == self._problems:
            return
        self._problems = list(problems)
        self._refresh_tooltip()
        self.update()

    @property
    def problems(self) -> list[tuple[Severity, str]]:
        return list(self._problems)

    def _refresh_tooltip(self) -> None:
        if not self._problems:
            self.setToolTip(self.connection_type.value)
            return
        tip = f"{self.connection_type.value}"
        if self._problems:
            tip += "\n" + "\n".join(f"{sev.value}: {msg}" for sev, msg in self._problems)
        self.setToolTip(tip)

    # ------------------------------------------------------------ geometry
    def update_path(self) -> None:
        """Recompute the curve after an end moved: the only place geometry is computed."""
        p0 = self.source.output_pos(self.port_index)
        p1 = self.target.input_pos()
        self.prepareGeometryChange()
        self._p0, self._p1 = p0, p1
        c1, c2 = _controls(p0, p1)
        self._path = path = QPainterPath(p0)
        path.cubicTo(c1, c2, p1)
        self._shape = None
        # the cubic's point at t = 1/2, without asking QPainterPath (measured: 15 µs each)
        self._mid = (p0 + 3 * c1 + 3 * c2 + p1) / 8
        if self.overview_changed is not None:
            self.overview_changed()
        # arrow head at the input port, pointing right
        a = QPainterPath(p1)
        a.lineTo(p1 + QPointF(-9.0, -4.5))
        a.lineTo(p1 + QPointF(-9.0, 4.5))
        a.closeSubpath()
        self._arrow = a
        # the marker (drawn at the middle or the label's corner) always fits: no geometry change later
        bounds = self._path.boundingRect().adjusted(-6, -6, 6, 6)
        bounds = bounds.united(QRectF(self._mid.x() - 10, self._mid.y() - 10, 20, 20))
        if self.label:
            bounds = bounds.united(self._label_rect().adjusted(-8, -8, 8, 8))
        self._bounds = bounds

    def _label_rect(self) -> QRectF:
        global _LABEL_METRICS
        if _LABEL_METRICS is None:
            _LABEL_METRICS = QFontMetricsF(_LABEL_FONT)
        w = _LABEL_METRICS.horizontalAdvance(self.label) + 10
        h = _LABEL_METRICS.height() + 4
        return QRectF(self._mid.x() - w / 2, self._mid.y() - h / 2, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10.0)
            self._shape = stroker.createStroke(self._path)
            if self.label:
                self._shape.addRect(self._label_rect())
        return self._shape

    # ------------------------------------------------------------ painting
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        pen = self._selected_pen if selected else self._pen
        if lod < 0.3:
            # Far away: a plain straight line, no antialiasing, no label.
            painter.setPen(QPen(pen.color(), 0))
            painter.drawLine(self._p0, self._p1)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pen.color())
        painter.drawPath(self._arrow)
        if lod >= 0.5 and self.label:
            rect = self._label_rect()
            painter.setBrush(QColor(255, 255, 255, 235))
            painter.setPen(QPen(pen.color(), 1.0))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setFont(_LABEL_FONT)
            painter.setPen(pen.color())
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)
        if self._problems:
            sev_error = any(sev == Severity.ERROR for sev, _ in self._problems)
            painter.setBrush(QBrush(theme.ERROR_MARK if sev_error else theme.WARNING_MARK))
            painter.setPen(QPen(QColor("white"), 1.5))
            c = self._mid if not self.label else self._label_rect().topRight()
            painter.drawEllipse(c, 7, 7)
            painter.setPen(QColor("white"))
            painter.drawText(QRectF(c.x() - 7, c.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, "!")


class DraftConnectionItem(QGraphicsPathItem):
    """The line that follows the pointer while a connection is being dragged out of a port."""

    def __init__(self, start: QPointF, color: QColor) -> None:
        super().__init__()
        self.start = start
        self.setZValue(10.0)
        self._ok_pen = QPen(color, 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self._bad_pen = QPen(theme.ERROR_MARK, 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.setPen(self._ok_pen)
        self.set_end(start, True)

    def set_end(self, end: QPointF, valid: bool) -> None:
        if math.isclose(end.x(), self.start.x()) and math.isclose(end.y(), self.start.y()):
            end = end + QPointF(0.1, 0)
        self.setPath(curve_path(self.start, end))
        self.setPen(self._ok_pen if valid else self._bad_pen)
