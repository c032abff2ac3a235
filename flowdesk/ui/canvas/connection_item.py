"""ConnectionItem: a typed connection drawn as a curve from an output port to an input port.

The path, its bounding rect and its hit shape are computed when an end moves (never per paint).
Colour, line style and a label say the connection type.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
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
_LABEL_WIDTHS: dict[str, float] = {}
_SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable


def _label_width(label: str) -> float:
    """Width of a connection label's box (measured once per distinct text)."""
    width = _LABEL_WIDTHS.get(label)
    if width is None:
        width = _LABEL_WIDTHS[label] = QFontMetricsF(_LABEL_FONT).horizontalAdvance(label) + 10
    return width


def _label_height() -> float:
    height = _LABEL_WIDTHS.get("\0height")
    if height is None:
        height = _LABEL_WIDTHS["\0height"] = QFontMetricsF(_LABEL_FONT).height() + 4
    return height


BACK_DROP = 110.0  # how far below its ends a backward connection (into a LOOP) swings


def control_points(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """The cubic's inner control points: horizontal tangents forward; a backward connection (the
    way back into a LOOP) swings below both nodes instead of cutting across them."""
    dx = x1 - x0
    if dx >= 0:
        bend = max(50.0, dx * 0.5)
        return x0 + bend, y0, x1 - bend, y1
    bend = max(90.0, min(-dx * 0.5, 240.0))
    low = max(y0, y1) + BACK_DROP
    return x0 + bend, low, x1 - bend, low


def _controls(p0: QPointF, p1: QPointF) -> tuple[QPointF, QPointF]:
    c1x, c1y, c2x, c2y = control_points(p0.x(), p0.y(), p1.x(), p1.y())
    return QPointF(c1x, c1y), QPointF(c2x, c2y)


def curve_path(p0: QPointF, p1: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic from p0 to p1 (loops back around when p1 is left of p0)."""
    c1, c2 = _controls(p0, p1)
    path = QPainterPath(p0)
    path.cubicTo(c1, c2, p1)
    return path


TAKEN_COLOR = QColor(30, 142, 62)
"""A connection a run took (the run overlay marks it; docs/run-debug.md)."""
_TAKEN_PEN = QPen(TAKEN_COLOR, 3.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)

_PENS: dict[ConnectionType, tuple[QPen, QPen]] = {
    ctype: (
        QPen(style.color, 2.0, style.pen_style, Qt.PenCapStyle.RoundCap),
        QPen(theme.SELECTION, 3.0, style.pen_style, Qt.PenCapStyle.RoundCap),
    )
    for ctype, style in theme.CONNECTION_STYLES.items()
}


class ConnectionItem(QGraphicsItem):
    """The picture of one connection between two NodeItems."""

    Type = QGraphicsItem.UserType + 2  # type: ignore[attr-defined]  # in Qt and at run time; missing from PySide6's stub

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
        self.setFlags(_SELECTABLE)
        self.setZValue(-1.0)
        self._problems: list[tuple[Severity, str]] = []
        self._path: QPainterPath | None = None
        self._shape: QPainterPath | None = None
        self._arrow: QPainterPath | None = None
        # set by the scene: the low-zoom line overview must refresh
        self.overview_changed: Callable[[], None] | None = None
        self.taken = False  # a run took this connection (set by the run overlay)
        self._apply_type(connection_type, port_index, condition)
        self.update_path()

    def type(self) -> int:  # noqa: A003
        return ConnectionItem.Type

    # ------------------------------------------------------------ model -> item
    def set_type(self, connection_type: ConnectionType, port_index: int, condition: str | None) -> None:
        self._apply_type(connection_type, port_index, condition)
        self._refresh_tooltip()
        self.update_path()
        self.update()

    def _apply_type(self, connection_type: ConnectionType, port_index: int, condition: str | None) -> None:
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

    def set_taken(self, taken: bool) -> None:
        """Draw the connection as taken by a run (solid green, a little wider), or as it is."""
        if taken == self.taken:
            return
        self.taken = taken
        self.update()
        if self.overview_changed is not None:
            self.overview_changed()

    @property
    def line_color(self) -> QColor:
        """The colour the connection is drawn in now (green once a run took it)."""
        return TAKEN_COLOR if self.taken else self.color

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
            if self.toolTip():
                self.setToolTip("")
            return
        tip = f"{self.connection_type.value}"
        if self._problems:
            tip += "\n" + "\n".join(f"{sev.value}: {msg}" for sev, msg in self._problems)
        self.setToolTip(tip)

    # ------------------------------------------------------------ geometry
    def update_path(self) -> None:
        """Recompute the geometry after an end moved: plain arithmetic on the four control points;
        the QPainterPath itself is built when first painted or hit-tested."""
        src, dst = self.source, self.target
        x0 = src.x() + src.output_dx
        y0 = src.y() + src.output_dys[self.port_index] if self.port_index < len(src.output_dys) else src.y()
        x1 = dst.x()
        y1 = dst.y() + dst.input_dy
        c1x, c1y, c2x, c2y = control_points(x0, y0, x1, y1)
        if self.scene() is not None:
            self.prepareGeometryChange()
        self._ends = (x0, y0, x1, y1)
        self._ctrl = (c1x, c1y, c2x, c2y)
        self._path = None
        self._arrow = None
        self._shape = None
        # the cubic's point at t = 1/2 (measured: QPainterPath.pointAtPercent costs 15 µs)
        mx, my = (x0 + 3 * c1x + 3 * c2x + x1) / 8, (y0 + 3 * c1y + 3 * c2y + y1) / 8
        self._mid_xy = (mx, my)
        # a Bézier curve lies inside the hull of its control points; markers and labels fit too
        left, right = min(x0, x1, c2x), max(x0, x1, c1x)
        top, bottom = min(y0, y1, c1y, c2y), max(y0, y1, c1y, c2y)
        if self.label:
            half_w = _label_width(self.label) / 2 + 8
            left, right = min(left, mx - half_w), max(right, mx + half_w)
            top, bottom = min(top, my - 20), max(bottom, my + 20)
        self._bounds = QRectF(left - 8, top - 12, right - left + 16, bottom - top + 24)
        if self.overview_changed is not None:
            self.overview_changed()

    @property
    def ends(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): where the connection leaves its source and reaches its target, in scene
        coordinates (the zoomed-out scene draws straight lines between them)."""
        return self._ends

    def curve(self) -> QPainterPath:
        """The connection's drawn curve in item coordinates, computed once and cached."""
        return self._ensure_path()

    def _ensure_path(self) -> QPainterPath:
        if self._path is None:
            x0, y0, x1, y1 = self._ends
            c1x, c1y, c2x, c2y = self._ctrl
            path = QPainterPath(QPointF(x0, y0))
            path.cubicTo(QPointF(c1x, c1y), QPointF(c2x, c2y), QPointF(x1, y1))
            self._path = path
            arrow = QPainterPath(QPointF(x1, y1))
            arrow.lineTo(QPointF(x1 - 9.0, y1 - 4.5))
            arrow.lineTo(QPointF(x1 - 9.0, y1 + 4.5))
            arrow.closeSubpath()
            self._arrow = arrow
        return self._path

    @property
    def _p0(self) -> QPointF:
        return QPointF(self._ends[0], self._ends[1])

    @property
    def _p1(self) -> QPointF:
        return QPointF(self._ends[2], self._ends[3])

    @property
    def _mid(self) -> QPointF:
        return QPointF(*self._mid_xy)

    def _label_rect(self) -> QRectF:
        w = _label_width(self.label)
        h = _label_height()
        mx, my = self._mid_xy
        return QRectF(mx - w / 2, my - h / 2, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10.0)
            self._shape = stroker.createStroke(self._ensure_path())
            if self.label:
                self._shape.addRect(self._label_rect())
        return self._shape

    # ------------------------------------------------------------ painting
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        pen = self._selected_pen if selected else _TAKEN_PEN if self.taken else self._pen
        if lod < 0.3:
            # Far away: a plain straight line, no antialiasing, no label.
            painter.setPen(QPen(pen.color(), 0))
            painter.drawLine(QLineF(*self._ends))
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._ensure_path())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pen.color())
        assert self._arrow is not None  # made by _ensure_path with the curve
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
