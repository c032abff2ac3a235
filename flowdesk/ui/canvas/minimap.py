"""Minimap: the whole graph in miniature with the visible area framed; click or drag to go there.

It paints node rectangles from the document (one batched drawRects call), not the scene, so it
stays cheap for thousands of nodes. Repaints are coalesced with a short timer.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from flowdesk.ui.style import theme

from .node_item import NODE_HEIGHT, NODE_WIDTH


class Minimap(QWidget):
    """An overlay in the canvas's bottom-right corner."""

    def __init__(self, view, doc) -> None:
        super().__init__(view)
        self.view, self.doc = view, doc
        self.setObjectName("minimap")
        self.setFixedSize(220, 150)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self._redraw)
        doc.graph_changed.connect(self._timer.start)
        doc.reset.connect(self._timer.start)
        view.viewport_moved.connect(self._redraw)
        self._dragging = False
        # The nodes drawn once per change of the graph or the view: the minimap sits on the
        # viewport, so every repaint beneath it (a running node's animation, 14 times a second)
        # repaints it too, and drawing a thousand nodes each time cost milliseconds.
        self._picture: QPixmap | None = None

    def _redraw(self) -> None:
        self._picture = None
        self.update()

    def place(self) -> None:
        vp = self.view.viewport().geometry()
        self.move(vp.right() - self.width() - 12, vp.bottom() - self.height() - 12)

    def _world(self) -> QRectF:
        nodes = self.doc.nodes()
        if not nodes:
            return QRectF(-200, -150, 400, 300)
        xs = [n.x for n in nodes]
        ys = [n.y for n in nodes]
        rect = QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + NODE_HEIGHT)
        return rect.united(self.view.visible_scene_rect()).adjusted(-60, -60, 60, 60)

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        world = self._world()
        inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        scale = min(inner.width() / world.width(), inner.height() / world.height())
        offset = QPointF(
            inner.left() + (inner.width() - world.width() * scale) / 2,
            inner.top() + (inner.height() - world.height() * scale) / 2,
        )
        return world, scale, offset

    def paintEvent(self, event) -> None:  # noqa: N802
        ratio = self.devicePixelRatioF()
        if self._picture is None or self._picture.devicePixelRatio() != ratio:
            self._picture = self._paint_nodes(ratio)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._picture)
        world, scale, offset = self._mapping()
        vis = self.view.visible_scene_rect()
        frame = QRectF(
            offset.x() + (vis.left() - world.left()) * scale,
            offset.y() + (vis.top() - world.top()) * scale,
            vis.width() * scale,
            vis.height() * scale,
        )
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(theme.SELECTION, 1.5))
        fill = QColor(theme.SELECTION)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.drawRect(frame)

    def _paint_nodes(self, ratio: float) -> QPixmap:
        """The background and every node, as a pixmap of this widget's size."""
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(theme.NODE_BORDER, 1))
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        world, scale, offset = self._mapping()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        by_color: dict[str, list[QRectF]] = {}
        w, h = max(NODE_WIDTH * scale, 1.5), max(NODE_HEIGHT * scale, 1.5)
        for n in self.doc.nodes():
            r = QRectF(
                offset.x() + (n.x - world.left()) * scale, offset.y() + (n.y - world.top()) * scale, w, h
            )
            by_color.setdefault(n.node_type, []).append(r)
        painter.setPen(Qt.PenStyle.NoPen)
        for node_type, rects in by_color.items():
            painter.setBrush(theme.node_color(self.doc.descriptor(node_type)))
            painter.drawRects(rects)
        painter.end()
        return pixmap

    def _go(self, pos: QPointF) -> None:
        world, scale, offset = self._mapping()
        self.view.centerOn(
            QPointF(
                world.left() + (pos.x() - offset.x()) / scale, world.top() + (pos.y() - offset.y()) / scale
            )
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = True
        self._go(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._dragging:
            self._go(event.position())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = False
        event.accept()
