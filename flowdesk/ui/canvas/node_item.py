"""NodeItem: one node on the canvas, painted from a NodeState, with its ports painted in.

Ports are painted by the node (not child items) so 2,000 nodes stay 2,000 items; the node answers
`port_at()` for hit tests. The body is cached (DeviceCoordinateCache) and repainted only when the
model changes; text and ports are skipped when too small to read (level of detail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsDropShadowEffect,
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from flowdesk.domain.enums import NodeType, Severity
from flowdesk.domain.node_descriptors import NodeTypeDescriptor, describe
from flowdesk.ui.style import theme

if TYPE_CHECKING:
    from flowdesk.ui.document import NodeState

NODE_WIDTH = 184.0
NODE_HEIGHT = 64.0
PORT_RADIUS = 5.5
PORT_HIT_RADIUS = 11.0
_PAD = 14.0
_BOUNDS = QRectF(-_PAD, -_PAD, NODE_WIDTH + 2 * _PAD, NODE_HEIGHT + 2 * _PAD)
_BODY = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)

_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(10.0)
_TITLE_FONT.setBold(True)
_SUB_FONT = QFont()
_SUB_FONT.setPointSizeF(8.0)
_PORT_FONT = QFont()
_PORT_FONT.setPointSizeF(7.5)
_PORT_LABEL_WIDTHS: dict[tuple[str, ...], float] = {}  # port names -> their label width
_GLYPH_FONT = QFont()
_GLYPH_FONT.setPointSizeF(11.0)
_GLYPH_FONT.setBold(True)


def node_summary(node: NodeState, api_names: dict[int, str] | None = None) -> str:
    """One line under the name saying what the node does (`api_names`: library id -> label)."""
    cfg: dict[str, Any] = node.config or {}
    t = node.node_type
    if t == NodeType.API_CALL:
        if cfg.get("url"):
            return f"{cfg.get('method', 'GET')} {cfg['url']}"
        if cfg.get("api_id") is not None:
            label = (api_names or {}).get(cfg["api_id"])
            return label if label else f"API #{cfg['api_id']} (not in the library)"
    elif t == NodeType.CONDITION and cfg.get("condition"):
        return str(cfg["condition"])
    elif t == NodeType.DELAY and "seconds" in cfg:
        return f"wait {cfg['seconds']} s"
    elif t == NodeType.LOOP:
        if cfg.get("items"):
            return f"for each {cfg['items']}"
        if cfg.get("condition"):
            return f"while {cfg['condition']}"
    elif t == NodeType.PARALLEL:
        limit = cfg.get("max_concurrent", 0)
        return f"max {limit} at once" if limit else "all branches at once"
    elif t == NodeType.TRANSFORM:
        parts = (cfg.get("template"), cfg.get("expressions"))
        keys = [key for part in parts if isinstance(part, dict) for key in part]
        if keys:
            shown = ", ".join(map(str, keys[:4])) + (", …" if len(keys) > 4 else "")
            return f"builds {{{shown}}}"
    elif t == NodeType.SWITCH:
        return "first case that holds, else default"
    elif t == NodeType.ASSERT:
        items = cfg.get("assertions")
        count = len(items) if isinstance(items, list) else 0
        schema = " + schema" if isinstance(cfg.get("schema"), dict) else ""
        return f"{count} check{'s' if count != 1 else ''}{schema}"
    elif t == NodeType.POLL and cfg.get("until"):
        return f"every {cfg.get('interval', 1)} s until {cfg['until']}"
    return node.description or str(t)


class NodeItem(QGraphicsItem):
    """The picture of one node. Holds only what it needs to paint; the document holds the truth."""

    Type = QGraphicsItem.UserType + 1  # type: ignore[attr-defined]  # in Qt and at run time; missing from PySide6's stub

    def __init__(
        self,
        node: NodeState,
        api_names: dict[int, str] | None = None,
        descriptor: NodeTypeDescriptor | None = None,
    ) -> None:
        super().__init__()
        self.uid = node.uid
        # No itemChange override and no ItemSendsGeometryChanges: every Python callback costs,
        # times 2,000 nodes; the scene follows drags itself (WorkflowScene.mouseMoveEvent).
        self.setFlags(_FLAGS)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self._tooltip_stale = True
        self._hover = False
        self._problems: list[tuple[Severity, str]] = []
        self.update_from_model(node, api_names, descriptor)
        self.setPos(node.x, node.y)

    def type(self) -> int:  # noqa: A003 (Qt's name)
        return NodeItem.Type

    # ------------------------------------------------------------ model -> item
    def update_from_model(
        self,
        node: NodeState,
        api_names: dict[int, str] | None = None,
        descriptor: NodeTypeDescriptor | None = None,
    ) -> None:
        """Take name, summary, ports and look from the node and its type's descriptor."""
        descriptor = descriptor or describe(node.node_type)
        self.name = node.name
        self.node_type = node.node_type
        self.summary = node_summary(node, api_names)
        self.ports = descriptor.ports
        self.has_input = descriptor.has_input
        # port offsets from the item's position, read by connections when they recompute
        n = max(len(self.ports), 1)
        self.output_dx = NODE_WIDTH
        self.output_dys = [NODE_HEIGHT * (i + 1) / (n + 1) for i in range(len(self.ports))] or [
            NODE_HEIGHT / 2
        ]
        self.input_dy = NODE_HEIGHT / 2
        self._color = theme.node_color(descriptor)
        self._glyph = descriptor.icon
        self._tooltip_stale = True
        if self.scene() is not None:
            self.update()

    def set_problems(self, problems: list[tuple[Severity, str]]) -> None:
        if problems == self._problems:
            return
        self._problems = list(problems)
        self._tooltip_stale = True
        self.update()

    @property
    def problems(self) -> list[tuple[Severity, str]]:
        return list(self._problems)

    @property
    def has_problems(self) -> bool:
        """Whether the item shows a problem marker (without copying the list, for batched painting)."""
        return bool(self._problems)

    @property
    def color(self) -> QColor:
        """The fill of its node type (the zoomed-out scene paints nodes batched by it)."""
        return self._color

    def toolTip(self) -> str:  # noqa: N802 (built when first asked: hover, not construction)
        if self._tooltip_stale:
            self._refresh_tooltip()
        return super().toolTip()

    def _refresh_tooltip(self) -> None:
        self._tooltip_stale = False
        tip = f"<b>{_escape(self.name)}</b> ({self.node_type})"
        if self._problems:
            tip += "<br>" + "<br>".join(f"{sev.value}: {_escape(msg)}" for sev, msg in self._problems)
        self.setToolTip(tip)

    # ------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:  # noqa: N802
        return _BOUNDS

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(_BODY.adjusted(-PORT_HIT_RADIUS, 0, PORT_HIT_RADIUS, 0))
        return path

    def input_pos(self) -> QPointF:
        """The input port in scene coordinates."""
        return self.pos() + QPointF(0.0, NODE_HEIGHT / 2)

    def output_pos(self, index: int) -> QPointF:
        return self.pos() + self._output_local(index)

    def _output_local(self, index: int) -> QPointF:
        n = max(len(self.ports), 1)
        return QPointF(NODE_WIDTH, NODE_HEIGHT * (index + 1) / (n + 1))

    def port_at(self, local: QPointF) -> tuple[str, int] | None:
        """('out', i) or ('in', 0) when `local` (item coordinates) is on a port."""
        r2 = PORT_HIT_RADIUS * PORT_HIT_RADIUS
        for i in range(len(self.ports)):
            d = local - self._output_local(i)
            if d.x() * d.x() + d.y() * d.y() <= r2:
                return ("out", i)
        if self.has_input:
            d = local - QPointF(0.0, NODE_HEIGHT / 2)
            if d.x() * d.x() + d.y() * d.y() <= r2:
                return ("in", 0)
        return None

    # ------------------------------------------------------------ painting
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        if lod < 0.3:
            # Far away: a coloured block is all the eye can use.
            painter.fillRect(_BODY, SELECTION_BRUSH if selected else QBrush(self._color))
            if self._problems:
                painter.fillRect(QRectF(NODE_WIDTH - 40, 0, 40, 40), _marker_color(self._problems))
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        border = QPen(theme.SELECTION if selected else theme.NODE_BORDER, 2.0 if selected else 1.0)
        if self._hover and not selected:
            border = QPen(self._color, 1.5)
        painter.setPen(border)
        painter.setBrush(theme.NODE_BODY)
        painter.drawRoundedRect(_BODY, 8, 8)
        # type stripe on the left edge
        stripe = QPainterPath()
        stripe.addRoundedRect(QRectF(0, 0, 12, NODE_HEIGHT), 8, 8)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, 6, NODE_HEIGHT))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._color)
        painter.drawPath(stripe.intersected(clip))

        if lod >= 0.45:
            self._paint_text(painter)
        self._paint_ports(painter, lod)
        if self._problems:
            self._paint_marker(painter)

    def _paint_text(self, painter: QPainter) -> None:
        # glyph badge
        badge = QRectF(16, 12, 26, 26)
        tint = QColor(self._color)
        tint.setAlpha(36)
        painter.setBrush(tint)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(badge, 6, 6)
        painter.setFont(_GLYPH_FONT)
        painter.setPen(self._color)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self._glyph)

        right = NODE_WIDTH - (self.port_label_width() + 14 if len(self.ports) > 1 else 14)
        text_w = right - 50
        painter.setFont(_TITLE_FONT)
        painter.setPen(theme.NODE_TEXT)
        fm = QFontMetricsF(_TITLE_FONT)
        painter.drawText(
            QRectF(50, 9, text_w, 20),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.name, Qt.TextElideMode.ElideRight, text_w),
        )
        painter.setFont(_SUB_FONT)
        painter.setPen(theme.NODE_SUBTEXT)
        fm = QFontMetricsF(_SUB_FONT)
        painter.drawText(
            QRectF(50, 31, text_w, 18),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.summary, Qt.TextElideMode.ElideRight, text_w),
        )
        if len(self.ports) > 1:
            painter.setFont(_PORT_FONT)
            for i, port in enumerate(self.ports):
                painter.drawText(
                    self.port_label_rect(i),
                    # never clipped: hinting at some zooms draws a name a little wider than measured
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextDontClip,
                    port.name,
                )

    def port_label_width(self) -> float:
        """The width of this node's longest port name in the port font ("branches" included)."""
        names = tuple(port.name for port in self.ports)
        width = _PORT_LABEL_WIDTHS.get(names)
        if width is None:
            fm = QFontMetricsF(_PORT_FONT)
            width = max((fm.horizontalAdvance(name) for name in names), default=0.0) + 6
            _PORT_LABEL_WIDTHS[names] = width
        return width

    def port_label_rect(self, index: int) -> QRectF:
        """Where output port `index`'s name is drawn: left of the port, wide enough for the name."""
        p = self._output_local(index)
        width = self.port_label_width()
        return QRectF(p.x() - 8 - width, p.y() - 8, width, 16)

    def _paint_ports(self, painter: QPainter, lod: float) -> None:
        if lod < 0.45:
            return
        painter.setPen(QPen(theme.PORT_BORDER, 1.2))
        painter.setBrush(theme.PORT_FILL)
        if self.has_input:
            painter.drawEllipse(QPointF(0.0, NODE_HEIGHT / 2), PORT_RADIUS, PORT_RADIUS)
        for i in range(len(self.ports)):
            painter.setBrush(theme.PORT_FILL)
            painter.drawEllipse(self._output_local(i), PORT_RADIUS, PORT_RADIUS)

    def _paint_marker(self, painter: QPainter) -> None:
        center = QPointF(NODE_WIDTH - 2, 2)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(_marker_color(self._problems))
        painter.drawEllipse(center, 9, 9)
        painter.setPen(QColor("white"))
        painter.setFont(_TITLE_FONT)
        painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18), Qt.AlignmentFlag.AlignCenter, "!")

    # ------------------------------------------------------------ interaction
    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        if self._tooltip_stale:
            self._refresh_tooltip()
        self._hover = True
        self._update_effect()
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self._update_effect()
        self.update()
        super().hoverLeaveEvent(event)

    def _update_effect(self) -> None:
        # A shadow only under the pointer: per-item effects on many nodes (select all of 2,000)
        # would freeze the canvas; selection shows as an accent border instead.
        want = self._hover
        if want and self.graphicsEffect() is None:
            effect = QGraphicsDropShadowEffect()
            effect.setBlurRadius(18)
            effect.setOffset(0, 3)
            effect.setColor(QColor(20, 30, 60, 60))
            self.setGraphicsEffect(effect)
        elif not want and self.graphicsEffect() is not None:
            self.setGraphicsEffect(None)  # type: ignore[arg-type]  # Qt takes nullptr (remove the effect); the stub omits None


SELECTION_BRUSH = QBrush(theme.SELECTION)
_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable


def _marker_color(problems: list[tuple[Severity, str]]) -> QColor:
    if any(sev == Severity.ERROR for sev, _ in problems):
        return theme.ERROR_MARK
    return theme.WARNING_MARK


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
