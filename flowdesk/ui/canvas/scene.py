"""WorkflowScene: mirrors a WorkflowDocument as items and turns gestures into undo commands.

The scene keeps uid -> item maps and listens to the document through one connection per signal
(not one per item), so building 2,000 nodes costs 2,000 item constructions and nothing more.
Removing an object drops its item and its map entry; no per-item connection is left behind.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneMouseEvent

from flowdesk.domain.enums import ConnectionType, Severity
from flowdesk.domain.errors import FlowdeskError
from flowdesk.gc_control import gc_paused
from flowdesk.ui.commands import AddConnectionCommand, MoveNodesCommand
from flowdesk.ui.document import ConnectionState, WorkflowDocument
from flowdesk.ui.style import theme

from .connection_item import ConnectionItem, DraftConnectionItem
from .node_item import NODE_HEIGHT, NODE_WIDTH, NodeItem

log = logging.getLogger(__name__)

SCENE_EXTENT = 50_000.0
GRID = 20.0
OVERVIEW_ZOOM = 0.3  # below this zoom connections are drawn by one ConnectionOverview item


class ConnectionOverview(QGraphicsItem):
    """Every connection as a plain line, painted in one call: what the eye needs when zoomed far out.

    Painting 3,000 connection items costs 3,000 Python paint calls; this costs a few drawLines.
    """

    def __init__(self, scene: WorkflowScene) -> None:
        super().__init__()
        self._scene = scene
        self._lines: list[tuple[QColor, list[QLineF]]] | None = None
        self._node_rects: list[tuple[QColor, list[QRectF]]] | None = None
        self.setZValue(-1.0)
        self.setVisible(False)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def invalidate(self) -> None:
        """Connections or nodes changed: recollect lines and rectangles at the next paint."""
        self._lines = None
        self._node_rects = None
        if self.isVisible():
            self.update()

    def invalidate_nodes(self) -> None:
        self._node_rects = None
        if self.isVisible():
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._scene.sceneRect()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._lines is None:
            by_color: dict[str, tuple[QColor, list[QLineF]]] = {}
            for item in self._scene.connection_items.values():
                color = item.line_color
                key = color.name()
                entry = by_color.get(key)
                if entry is None:
                    entry = by_color[key] = (color, [])
                entry[1].append(QLineF(*item.ends))
            self._lines = list(by_color.values())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for color, lines in self._lines:
            painter.setPen(QPen(color, 0))
            painter.drawLines(lines)
        # nodes: their items carry ItemHasNoContents at this zoom; draw them here, batched by colour
        if self._node_rects is None:
            self._node_rects = self._collect_node_rects()
        painter.setPen(Qt.PenStyle.NoPen)
        for color, rs in self._node_rects:
            painter.setBrush(color)
            painter.drawRects(rs)

    def _collect_node_rects(self) -> list[tuple[QColor, list[QRectF]]]:
        rects: dict[str, tuple[QColor, list[QRectF]]] = {}
        selected: list[QRectF] = []
        flagged: list[QRectF] = []
        for item in self._scene.node_items.values():
            r = QRectF(item.x(), item.y(), NODE_WIDTH, NODE_HEIGHT)
            if item.isSelected():
                selected.append(r)
            else:
                entry = rects.get(item.node_type)
                if entry is None:
                    entry = rects[item.node_type] = (item.color, [])
                entry[1].append(r)
            if item.has_problems:
                flagged.append(QRectF(item.x() + NODE_WIDTH - 40, item.y(), 40, 40))
        result = list(rects.values())
        if selected:
            result.append((theme.SELECTION, selected))
        if flagged:
            result.append((theme.ERROR_MARK, flagged))
        return result


class WorkflowScene(QGraphicsScene):
    """The canvas contents for one document."""

    status_message = Signal(str)
    context_menu_requested = Signal(str, int, QPointF, object)  # kind, uid, scene pos, screen QPoint

    def __init__(self, doc: WorkflowDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        # Static, fixed rect: the scene never recomputes its bounds when items move.
        self.setSceneRect(QRectF(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setBackgroundBrush(theme.CANVAS_BACKGROUND)
        self.snap_to_grid = True
        self.api_names: dict[int, str] = {}  # API library id -> "METHOD name", for API_CALL summaries
        self.node_items: dict[int, NodeItem] = {}
        self.connection_items: dict[int, ConnectionItem] = {}
        self._node_links: dict[int, list[ConnectionItem]] = {}
        self._syncing_selection = False
        self._press_positions: dict[int, tuple[float, float]] | None = None
        self._draft: DraftConnectionItem | None = None
        self._draft_source: tuple[int, int] | None = None
        self._draft_target: int | None = None
        self.overview = ConnectionOverview(self)
        self.addItem(self.overview)

        doc.reset.connect(self._rebuild)
        doc.node_added.connect(self._on_node_added)
        doc.node_removed.connect(self._on_node_removed)
        doc.node_moved.connect(self._on_node_moved)
        doc.node_renamed.connect(self._on_node_changed)
        doc.node_changed.connect(self._on_node_changed)
        doc.connection_added.connect(self._on_connection_added)
        doc.connection_removed.connect(self._on_connection_removed)
        doc.connection_changed.connect(self._on_connection_changed)
        doc.selection_changed.connect(self._on_document_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        self._rebuild()

    # ------------------------------------------------------------ model -> items
    def _rebuild(self) -> None:
        with gc_paused():
            self._rebuild_items()

    def _rebuild_items(self) -> None:
        self._syncing_selection = True
        try:
            for item in list(self.connection_items.values()) + list(self.node_items.values()):
                self.removeItem(item)
            self.node_items.clear()
            self.connection_items.clear()
            self._node_links.clear()
            for node in self.doc.nodes():
                self._on_node_added(node.uid)
            for conn in self.doc.connections():
                self._on_connection_added(conn.uid)
        finally:
            self._syncing_selection = False

    def _on_node_added(self, uid: int) -> None:
        node = self.doc.node(uid)
        item = NodeItem(node, self.api_names, self.doc.descriptor(node.node_type))
        if self.overview.isVisible():
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        self.node_items[uid] = item
        self.addItem(item)
        self.overview.invalidate_nodes()

    def _on_node_removed(self, uid: int) -> None:
        item = self.node_items.pop(uid, None)
        self._node_links.pop(uid, None)
        if item is not None:
            self.removeItem(item)
            self.overview.invalidate_nodes()

    def _on_node_moved(self, uid: int) -> None:
        node = self.doc.node(uid)
        item = self.node_items[uid]
        if item.x() != node.x or item.y() != node.y:
            item.setPos(node.x, node.y)  # the model's position is exact: no snapping here
            self._node_item_moved(item)

    def _on_node_changed(self, uid: int) -> None:
        node = self.doc.node(uid)
        self.node_items[uid].update_from_model(node, self.api_names, self.doc.descriptor(node.node_type))

    def _on_connection_added(self, uid: int) -> None:
        conn = self.doc.connection(uid)
        source, target = self.node_items[conn.source], self.node_items[conn.target]
        item = ConnectionItem(
            uid,
            source,
            target,
            conn.connection_type,
            self.doc.descriptor(source.node_type).port_index(conn.connection_type),
            conn.condition,
        )
        item.overview_changed = self.overview.invalidate
        if self.overview.isVisible():
            item.setVisible(False)
        self.overview.invalidate()
        self.connection_items[uid] = item
        self._node_links.setdefault(conn.source, []).append(item)
        self._node_links.setdefault(conn.target, []).append(item)
        self.addItem(item)

    def _on_connection_removed(self, uid: int) -> None:
        item = self.connection_items.pop(uid, None)
        if item is None:
            return
        for end in (item.source.uid, item.target.uid):
            links = self._node_links.get(end)
            if links and item in links:
                links.remove(item)
        item.overview_changed = None
        self.removeItem(item)
        self.overview.invalidate()

    def _on_connection_changed(self, uid: int) -> None:
        conn = self.doc.connection(uid)
        item = self.connection_items[uid]
        item.set_type(
            conn.connection_type,
            self.doc.descriptor(item.source.node_type).port_index(conn.connection_type),
            conn.condition,
        )

    def set_zoom_level(self, zoom: float) -> None:
        """Switch between connection items (readable zoom) and the one-item line overview."""
        overview = zoom < OVERVIEW_ZOOM
        if overview == self.overview.isVisible():
            return
        for item in self.connection_items.values():
            item.setVisible(not overview)
        for node_item in self.node_items.values():
            node_item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, overview)
        self.overview.invalidate()
        self.overview.setVisible(overview)

    def _node_item_moved(self, item: NodeItem) -> None:
        if self.overview.isVisible():
            self.overview.invalidate_nodes()
        for link in self._node_links.get(item.uid, ()):
            link.update_path()

    def _snap(self, pos: QPointF) -> QPointF:
        if not self.snap_to_grid:
            return pos
        return QPointF(round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)

    # ------------------------------------------------------------ problems
    def set_problems(
        self,
        node_problems: dict[int, list[tuple[Severity, str]]],
        connection_problems: dict[int, list[tuple[Severity, str]]],
    ) -> None:
        """Show validation markers (uid -> problems); items not named get theirs cleared."""
        for uid, item in self.node_items.items():
            item.set_problems(node_problems.get(uid, []))
        for uid, conn_item in self.connection_items.items():
            conn_item.set_problems(connection_problems.get(uid, []))
        self.overview.invalidate_nodes()

    # ------------------------------------------------------------ selection
    def _on_scene_selection(self) -> None:
        self.overview.invalidate_nodes()
        if self._syncing_selection:
            return
        nodes, conns = [], []
        for item in self.selectedItems():
            if isinstance(item, NodeItem):
                nodes.append(item.uid)
            elif isinstance(item, ConnectionItem):
                conns.append(item.uid)
        self._syncing_selection = True
        try:
            self.doc.set_selection(nodes, conns)
        finally:
            self._syncing_selection = False

    def _on_document_selection(self) -> None:
        if self._syncing_selection:
            return
        self._syncing_selection = True
        try:
            wanted_nodes, wanted_conns = self.doc.selected_nodes, self.doc.selected_connections
            for item in self.selectedItems():
                if (isinstance(item, NodeItem) and item.uid not in wanted_nodes) or (
                    isinstance(item, ConnectionItem) and item.uid not in wanted_conns
                ):
                    item.setSelected(False)
            for uid in wanted_nodes:
                if uid in self.node_items:
                    self.node_items[uid].setSelected(True)
            for uid in wanted_conns:
                if uid in self.connection_items:
                    self.connection_items[uid].setSelected(True)
        finally:
            self._syncing_selection = False

    def select_all(self) -> None:
        self.doc.set_selection(self.node_items.keys(), self.connection_items.keys())

    def nodes_bounding_rect(self, uids=None) -> QRectF:
        """Bounds of the nodes (all, or `uids`) from the model: cheaper than itemsBoundingRect."""
        nodes = self.doc.nodes() if uids is None else [self.doc.node(u) for u in uids]
        if not nodes:
            return QRectF(-200, -150, 400, 300)
        xs = [n.x for n in nodes]
        ys = [n.y for n in nodes]
        return QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + NODE_HEIGHT)

    # ------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802
        painter.fillRect(rect, theme.CANVAS_BACKGROUND)
        scale = painter.worldTransform().m11()
        step = GRID if scale >= 0.6 else GRID * 5
        if scale * step < 6:
            return  # too dense to help anyone
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        major = GRID * 5
        lines_minor: list[QLineF] = []
        lines_major: list[QLineF] = []
        x = left
        while x < rect.right():
            (lines_major if abs(x % major) < 1e-6 else lines_minor).append(
                QLineF(x, rect.top(), x, rect.bottom())
            )
            x += step
        y = top
        while y < rect.bottom():
            (lines_major if abs(y % major) < 1e-6 else lines_minor).append(
                QLineF(rect.left(), y, rect.right(), y)
            )
            y += step
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QPen(theme.GRID_MINOR, 0))
        painter.drawLines(lines_minor)
        painter.setPen(QPen(theme.GRID_MAJOR, 0))
        painter.drawLines(lines_major)

    # ------------------------------------------------------------ gestures
    def node_item_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder):
            if isinstance(item, NodeItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.node_item_at(event.scenePos())
            if item is not None:
                port = item.port_at(item.mapFromScene(event.scenePos()))
                if port is not None and port[0] == "out":
                    self._start_draft(item, port[1])
                    event.accept()
                    return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_positions = {
                it.uid: (it.x(), it.y()) for it in self.selectedItems() if isinstance(it, NodeItem)
            }

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._draft is not None:
            self._update_draft(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._press_positions and event.buttons() & Qt.MouseButton.LeftButton:
            # Qt moved the dragged nodes (from their press positions plus the mouse delta, so
            # snapping here never accumulates); snap them and let their connections follow.
            for uid in self._press_positions:
                item = self.node_items.get(uid)
                if item is None:
                    continue
                snapped = self._snap(item.pos())
                if snapped != item.pos():
                    item.setPos(snapped)
                self._node_item_moved(item)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._draft is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_draft(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._press_positions:
            self._push_moves()
        self._press_positions = None

    def _push_moves(self) -> None:
        moves = {}
        for uid in self._press_positions or {}:
            if uid not in self.node_items or not self.doc.has_node(uid):
                continue
            node = self.doc.node(uid)
            item = self.node_items[uid]
            # snapped again: a view that pans at its edge during the drag moves items after the
            # last mouse move, by a scroll offset that may not be whole
            end = self._snap(item.pos())
            if (end.x(), end.y()) != (node.x, node.y):
                moves[uid] = ((node.x, node.y), (end.x(), end.y()))
        if moves:
            text = "Move node" if len(moves) == 1 else f"Move {len(moves)} nodes"
            self.doc.undo_stack.push(MoveNodesCommand(self.doc, moves, text))

    def _start_draft(self, item: NodeItem, port_index: int) -> None:
        ctype = item.ports[port_index].connection_type
        self._draft_source = (item.uid, port_index)
        self._draft_target = None
        self._draft = DraftConnectionItem(item.output_pos(port_index), theme.CONNECTION_STYLES[ctype].color)
        self.addItem(self._draft)
        self.status_message.emit(f"Connect '{item.name}' ({ctype.value}): release on another node's input")

    def _drafting(self) -> tuple[DraftConnectionItem, int, int]:
        """The draft line with its source node and port, while a connection is being dragged."""
        assert self._draft is not None and self._draft_source is not None
        return self._draft, *self._draft_source

    def _draft_type(self) -> ConnectionType:
        _draft, uid, index = self._drafting()
        return self.node_items[uid].ports[index].connection_type

    def _update_draft(self, pos: QPointF) -> None:
        target = self.node_item_at(pos)
        draft, src_uid, _index = self._drafting()
        self._draft_target = None
        if target is None or target.uid == src_uid and target.port_at(target.mapFromScene(pos)) is None:
            draft.set_end(pos, True)
            return
        try:
            self.doc.check_connect(src_uid, target.uid, self._draft_type())
        except FlowdeskError as err:
            draft.set_end(pos, False)
            self.status_message.emit(f"Cannot connect: {err}")
            return
        self._draft_target = target.uid
        draft.set_end(target.input_pos(), True)
        self.status_message.emit(f"Release to connect to '{target.name}'")

    def _finish_draft(self, pos: QPointF) -> None:
        self._update_draft(pos)
        draft, source_uid, _index = self._drafting()
        target_uid = self._draft_target
        ctype = self._draft_type()
        self.removeItem(draft)
        self._draft = None
        self._draft_source = None
        self._draft_target = None
        if target_uid is None:
            return
        conn = ConnectionState(self.doc.new_uid(), source_uid, target_uid, ctype)
        try:
            self.doc.undo_stack.push(AddConnectionCommand(self.doc, conn))
        except FlowdeskError as err:  # the rules changed between the move and the release
            self.status_message.emit(f"Cannot connect: {err}")
            return
        self.status_message.emit(
            f"Connected '{self.doc.node(source_uid).name}' to '{self.doc.node(target_uid).name}' ({ctype.value})"
        )

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        pos = event.scenePos()
        for item in self.items(
            pos, Qt.ItemSelectionMode.IntersectsItemShape, Qt.SortOrder.DescendingOrder, QTransform()
        ):
            if isinstance(item, NodeItem):
                if not item.isSelected():
                    self.doc.set_selection([item.uid], [])
                self.context_menu_requested.emit("node", item.uid, pos, event.screenPos())
                event.accept()
                return
            if isinstance(item, ConnectionItem):
                self.doc.set_selection([], [item.uid])
                self.context_menu_requested.emit("connection", item.uid, pos, event.screenPos())
                event.accept()
                return
        self.context_menu_requested.emit("canvas", 0, pos, event.screenPos())
        event.accept()


def is_canvas_item(item: QGraphicsItem) -> bool:
    return isinstance(item, NodeItem | ConnectionItem)
