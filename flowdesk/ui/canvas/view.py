"""WorkflowView: the canvas widget. Wheel zoom around the cursor, middle-drag or space+drag pan,
rubber-band selection, palette drops, double-click for quick add."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from .node_item import NodeItem

NODE_TYPE_MIME = "application/x-flowdesk-node-type"
API_MIME = "application/x-flowdesk-api"  # JSON {"api_id": N, "name": "..."}: drag from the API library
MIN_ZOOM = 0.05
MAX_ZOOM = 3.0


class WorkflowView(QGraphicsView):
    """A QGraphicsView tuned for large graphs (see GUIDE section 3, point 9)."""

    node_dropped = Signal(str, QPointF)  # node type, scene position
    api_dropped = Signal(int, str, QPointF)  # API definition id, its name, scene position
    quick_add_requested = Signal(QPointF, QPoint)  # scene position, global position
    node_double_clicked = Signal(int)  # node uid (a SUBWORKFLOW opens its child workflow)
    zoom_changed = Signal(float)
    viewport_moved = Signal()

    def __init__(self, scene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvasView")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPoint | None = None
        self._space_down = False
        self.horizontalScrollBar().valueChanged.connect(self.viewport_moved)
        self.verticalScrollBar().valueChanged.connect(self.viewport_moved)

    # ------------------------------------------------------------ zoom
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom to `factor` (clamped), keeping the scene point under `anchor` (viewport pos) fixed."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        if anchor is None:
            anchor = self.viewport().rect().center()
        before = self.mapToScene(anchor)
        scale = factor / self.zoom
        old_anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(scale, scale)
        after = self.mapToScene(anchor)
        delta = after - before
        self.translate(delta.x(), delta.y())
        self.setTransformationAnchor(old_anchor)
        self._zoomed()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if delta == 0:
            return
        self.set_zoom(self.zoom * (1.0015**delta), event.position().toPoint())
        event.accept()

    def fit_rect(self, rect: QRectF) -> None:
        """Show `rect` whole, with a margin, not beyond 100 %."""
        margin = 40.0
        rect = rect.adjusted(-margin, -margin, margin, margin)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:
            self.set_zoom(1.0)
        elif self.zoom < MIN_ZOOM:
            self.set_zoom(MIN_ZOOM)
        self.centerOn(rect.center())
        self._zoomed()

    def _zoomed(self) -> None:
        scene = self.scene()
        if hasattr(scene, "set_zoom_level"):
            scene.set_zoom_level(self.zoom)
        self.zoom_changed.emit(self.zoom)
        self.viewport_moved.emit()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # ------------------------------------------------------------ pan
    def _pan_by(self, delta: QPoint) -> None:
        # Translate through the scroll bars: with ScrollBarAlwaysOff they still move the view.
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            pos = event.position().toPoint()
            self._pan_by(pos - self._pan_from)
            self._pan_from = pos
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            if self._space_down:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            scene_pos = self.mapToScene(event.position().toPoint())
            node = next((i for i in self.items(event.position().toPoint()) if isinstance(i, NodeItem)), None)
            if node is not None:
                self.node_double_clicked.emit(node.uid)
            else:
                self.quick_add_requested.emit(scene_pos, event.globalPosition().toPoint())
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    # ------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(NODE_TYPE_MIME) or event.mimeData().hasFormat(API_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasFormat(NODE_TYPE_MIME) or event.mimeData().hasFormat(API_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasFormat(NODE_TYPE_MIME):
            node_type = bytes(mime.data(NODE_TYPE_MIME)).decode("utf-8")
            self.node_dropped.emit(node_type, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        if mime.hasFormat(API_MIME):
            import json

            try:
                info = json.loads(bytes(mime.data(API_MIME)).decode("utf-8"))
                api_id, name = int(info["api_id"]), str(info.get("name") or "")
            except (ValueError, KeyError, TypeError):
                event.ignore()
                return
            self.api_dropped.emit(api_id, name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        super().dropEvent(event)
