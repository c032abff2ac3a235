"""Run overlays on the canvas: the animated running highlight, result badges, breakpoint dots,
taken connections drawn as taken and dead ones dimmed.

Everything here is added beside the editor's items (children of NodeItems, or path items in the
scene); the cached node bodies are never asked to repaint for a run. The running highlight is a
small uncached child item: the animation timer updates only those items, so each frame repaints
a thin ring per running node and the body under it comes from its pixmap cache.
"""

from __future__ import annotations

import math
import re
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from flowdesk.domain.enums import ExecutionStatus, StepStatus
from flowdesk.ui.canvas.connection_item import ConnectionItem
from flowdesk.ui.canvas.node_item import NODE_HEIGHT, NODE_WIDTH
from flowdesk.ui.status_colors import STATUS_COLORS, status_color

from .run_state import RunChange, RunState

if TYPE_CHECKING:
    from flowdesk.ui.canvas.scene import WorkflowScene
    from flowdesk.ui.document import WorkflowDocument

STATUS_GLYPHS: dict[str, str] = {
    StepStatus.RUNNING: "▶",
    StepStatus.SUCCESS: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.SKIPPED: "↷",
    StepStatus.CANCELLED: "■",
}
PAUSED_COLOR = STATUS_COLORS[ExecutionStatus.PAUSED]
DEAD_OPACITY = 0.22
SKIPPED_NODE_OPACITY = 0.55
FRAME_MS = 70  # the running highlight's animation step
STILL_BELOW_ZOOM = 0.35  # no animation below this zoom
BUDGET_S = 0.006  # at most this long per turn of the event loop mirroring a batch
INLINE_NODES = 64  # a change of more nodes than this is mirrored on the next turns, not inside the
# event batch that brought it (so the batch, the mirroring and a paint never add up in one turn)

_BADGE_FONT = QFont()
_BADGE_FONT.setPointSizeF(7.5)
_BADGE_FONT.setBold(True)


WARNING_MARK = "⚠"


def badge_text(status: str, duration: float | None, attempts: int, runs: int = 1, warnings: int = 0) -> str:
    """What a node's result badge says, e.g. `✓ 12 ms`, `✗ failed · 3 tries`, `↷ skipped`,
    `✓ 3 ms · ⚠ 2` (two warnings, such as unresolved references)."""
    glyph = STATUS_GLYPHS.get(status, "•")
    parts: list[str] = []
    if status in (StepStatus.SUCCESS, StepStatus.FAILED) and duration is not None:
        parts.append(_duration(duration))
    elif status != StepStatus.SUCCESS:
        parts.append(status)
    if status == StepStatus.FAILED and duration is not None:
        parts.insert(0, StepStatus.FAILED)
    if attempts > 1:
        parts.append(f"{attempts} tries")
    if runs > 1:
        parts.append(f"×{runs}")
    if warnings:
        parts.append(f"{WARNING_MARK} {warnings}")
    return f"{glyph} " + " · ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 1.0:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


_ITERATION = re.compile(r"(\[\d+\])+$")


def node_of_step(doc: WorkflowDocument, step_name: str | None) -> str | None:
    """`loop body[2]` -> `loop body`: the node a step name belongs to (None when unknown)."""
    if not step_name:
        return None
    if doc.node_by_name(step_name) is not None:
        return step_name
    stripped = _ITERATION.sub("", step_name)
    return stripped if doc.node_by_name(stripped) is not None else None


_METRICS: list[QFontMetricsF] = []


def _badge_metrics() -> QFontMetricsF:
    if not _METRICS:
        _METRICS.append(QFontMetricsF(_BADGE_FONT))
    return _METRICS[0]


class RunningHighlight(QGraphicsItem):
    """A pulsing ring around a running node (uncached; the only thing repainted per frame).

    With `paused=True` it is a still amber ring: the node a paused run will run next."""

    _RECT = QRectF(-5, -5, NODE_WIDTH + 10, NODE_HEIGHT + 10)

    def __init__(self, parent: QGraphicsItem, paused: bool = False) -> None:
        super().__init__(parent)
        self.phase = 0.0
        self.paused = paused
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(-0.5)  # under the body's text, over the canvas

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._RECT.adjusted(-3, -3, 3, 3)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.paused:
            painter.setPen(QPen(PAUSED_COLOR, 3.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self._RECT, 11, 11)
            return
        color = QColor(STATUS_COLORS[StepStatus.RUNNING])
        color.setAlpha(int(110 + 110 * (0.5 + 0.5 * math.sin(self.phase))))
        pen = QPen(color, 4.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        pen.setDashPattern([4.0, 2.5])
        pen.setDashOffset(-self.phase * 2.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._RECT, 11, 11)


class ResultBadge(QGraphicsItem):
    """A small pill under a node: status glyph, duration, attempts."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text = ""
        self.color = STATUS_COLORS[StepStatus.SUCCESS]
        self._rect = QRectF()
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setPos(6, NODE_HEIGHT + 4)

    def set_result(self, text: str, color: QColor) -> None:
        if text == self.text and color == self.color:
            return
        width = _badge_metrics().horizontalAdvance(text) + 14
        self.prepareGeometryChange()
        self.text, self.color = text, color
        self._rect = QRectF(0, 0, width, 17)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRoundedRect(self._rect, 8.5, 8.5)
        painter.setPen(QColor("white"))
        painter.setFont(_BADGE_FONT)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class BreakpointDot(QGraphicsItem):
    """The red dot of a breakpoint, on the node's top-left corner."""

    _RECT = QRectF(-8, -8, 16, 16)

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setPos(2, 2)
        self.setZValue(2)
        self.setToolTip("Breakpoint: the run pauses before this node")

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._RECT.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor("white"), 2.0))
        painter.setBrush(QColor("#d93025"))
        painter.drawEllipse(QPointF(0, 0), 7, 7)


def _connection_path(conn) -> QPainterPath:
    """The connection's curve in scene coordinates (the item computes and caches it)."""
    return conn.mapToScene(conn.curve())


class RunOverlay(QObject):
    """Mirrors one RunState onto one tab's scene (and breakpoints, which outlive runs)."""

    def __init__(self, scene: WorkflowScene, doc: WorkflowDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.doc = doc
        self.state: RunState | None = None
        self.highlights: dict[str, RunningHighlight] = {}
        self.badges: dict[str, ResultBadge] = {}
        self.breakpoint_dots: dict[int, BreakpointDot] = {}
        # Taken connections are drawn by their own items (ConnectionItem.set_taken): a separate
        # thick translucent path per connection cost 20-40 ms a repaint with a few hundred taken.
        self.taken_items: dict[tuple[str, str], list[ConnectionItem]] = {}
        self.dimmed: set[tuple[str, str]] = set()
        self.faded_nodes: set[str] = set()
        self.paused_marker: RunningHighlight | None = None
        self.paused_node: str | None = None
        self.frames = 0
        self._dirty_nodes: set[str] = set()
        self._dirty_connections = False
        self._dirty_status = False
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._animate)

    # ------------------------------------------------------------ lookups
    def _node_item(self, name: str):
        node = self.doc.node_by_name(name)
        return self.scene.node_items.get(node.uid) if node is not None else None

    def _connection_items(self, source: str, target: str) -> list:
        src, tgt = self.doc.node_by_name(source), self.doc.node_by_name(target)
        if src is None or tgt is None:
            return []
        # Walk the shorter side: a PARALLEL node with 800 branches has 800 outgoing connections,
        # each branch's first node one incoming (the other way round at a node where they meet).
        outgoing, incoming = self.doc.outgoing(src.uid), self.doc.incoming(tgt.uid)
        items = self.scene.connection_items
        found = []
        for uid in outgoing if len(outgoing) <= len(incoming) else incoming:
            conn = self.doc.connection(uid)
            if conn.source == src.uid and conn.target == tgt.uid and uid in items:
                found.append(items[uid])
        return found

    # ------------------------------------------------------------ state
    def show_state(self, state: RunState | None) -> None:
        """Show `state` (None clears the canvas back to the plain editor picture)."""
        if self.state is not None:
            self.state.unfollow(self._on_change)
        self.clear()
        self.state = state
        if state is None:
            return
        state.updated.connect(self._on_change)
        self._on_change(RunChange(nodes=set(state.nodes) | set(state.running), connections=True))

    def detach(self) -> None:
        """The tab is gone (its items deleted with it): stop following, touch no item."""
        if self.state is not None:
            self.state.unfollow(self._on_change)
        self.state = None
        self._timer.stop()
        self._drain_timer.stop()
        self.highlights.clear()
        self.badges.clear()
        self.taken_items.clear()
        self.dimmed.clear()
        self.faded_nodes.clear()
        self.breakpoint_dots.clear()
        self.paused_marker = None
        self.paused_node = None
        self._dirty_nodes.clear()

    def clear(self) -> None:
        for item in list(self.highlights.values()) + list(self.badges.values()):
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.highlights.clear()
        self.badges.clear()
        for taken in self.taken_items.values():
            for conn_item in taken:
                conn_item.set_taken(False)
        self.taken_items.clear()
        for key in self.dimmed:
            for item in self._connection_items(*key):
                item.setOpacity(1.0)
        self.dimmed.clear()
        for name in self.faded_nodes:
            item = self._node_item(name)
            if item is not None:
                item.setOpacity(1.0)
        self.faded_nodes.clear()
        self._set_paused_node(None)
        self._dirty_nodes.clear()
        self._dirty_connections = self._dirty_status = False
        self._drain_timer.stop()
        self._timer.stop()

    def _on_change(self, change: RunChange) -> None:
        if self.state is None:
            return
        self._dirty_nodes.update(change.nodes)
        self._dirty_connections = self._dirty_connections or change.connections
        self._dirty_status = self._dirty_status or change.status or bool(change.nodes)
        if len(self._dirty_nodes) > INLINE_NODES:
            self._drain_timer.start()
        else:
            self._drain()

    def _drain(self) -> None:
        """Mirror what changed, within a time budget per turn of the event loop: a batch of
        hundreds of finished nodes is spread over a few turns instead of blocking one."""
        state = self.state
        if state is None:
            return
        deadline = time.perf_counter() + BUDGET_S
        dirty = self._dirty_nodes
        while dirty:
            self._update_node(state, dirty.pop())
            if len(dirty) % 8 == 0 and time.perf_counter() > deadline:
                break
        if self._dirty_connections and time.perf_counter() <= deadline:
            self._dirty_connections = not self._update_connections(state, deadline)
        if dirty or self._dirty_connections:
            self._drain_timer.start()
            return
        if self._dirty_status:
            self._dirty_status = False
            paused = state.status == ExecutionStatus.PAUSED and not state.running
            self._set_paused_node(node_of_step(self.doc, state.current_step) if paused else None)
        if self.highlights and not self._timer.isActive():
            self._timer.start()
        elif not self.highlights:
            self._timer.stop()

    def _update_node(self, state: RunState, name: str) -> None:
        item = self._node_item(name)
        if item is None:
            return
        running = state.is_running(name)
        highlight = self.highlights.get(name)
        if running and highlight is None:
            self.highlights[name] = RunningHighlight(item)
        elif not running and highlight is not None:
            del self.highlights[name]
            if highlight.scene() is not None:
                highlight.scene().removeItem(highlight)
        run = state.node(name)
        if run is not None and run.status != StepStatus.RUNNING:
            badge = self.badges.get(name)
            if badge is None:
                badge = self.badges[name] = ResultBadge(item)
            badge.set_result(
                badge_text(run.status, run.duration, run.attempts, run.runs, len(run.warnings)),
                status_color(run.status),
            )
            badge.setToolTip("\n".join(run.warnings))
            fade = run.status == StepStatus.SKIPPED and not running
            if fade and name not in self.faded_nodes:
                item.setOpacity(SKIPPED_NODE_OPACITY)
                self.faded_nodes.add(name)
            elif not fade and name in self.faded_nodes:
                item.setOpacity(1.0)
                self.faded_nodes.discard(name)

    def _update_connections(self, state: RunState, deadline: float) -> bool:
        """Mark new taken/dead connections; False when the budget ran out first."""
        for i, key in enumerate(state.taken - set(self.taken_items)):
            if i % 8 == 7 and time.perf_counter() > deadline:
                return False
            items = self._connection_items(*key)
            for conn in items:
                conn.setOpacity(1.0)
                self.dimmed.discard(key)
                conn.set_taken(True)
            self.taken_items[key] = items
        for i, key in enumerate(state.dead - self.dimmed - set(self.taken_items)):
            if i % 8 == 7 and time.perf_counter() > deadline:
                return False
            for conn in self._connection_items(*key):
                conn.setOpacity(DEAD_OPACITY)
            self.dimmed.add(key)
        return True

    def _set_paused_node(self, name: str | None) -> None:
        if name == self.paused_node:
            return
        if self.paused_marker is not None and self.paused_marker.scene() is not None:
            self.paused_marker.scene().removeItem(self.paused_marker)
        self.paused_marker = None
        self.paused_node = name
        item = self._node_item(name) if name else None
        if item is not None:
            self.paused_marker = RunningHighlight(item, paused=True)

    @property
    def pending(self) -> bool:
        """Whether changes are still waiting to be mirrored (spread over turns of the loop)."""
        return bool(self._dirty_nodes or self._dirty_connections or self._dirty_status)

    @property
    def lit_nodes(self) -> set[str]:
        """Names of the nodes lit up now: running ones, and the one a paused run stops before."""
        lit = set(self.highlights)
        if self.paused_node is not None:
            lit.add(self.paused_node)
        return lit

    def _animate(self) -> None:
        """One frame: only highlights on screen are repainted, and none when zoomed out so far
        that the ring is a few pixels (then it stays still: the colour alone says "running")."""
        views = self.scene.views()
        if not views:
            return
        view = views[0]
        if view.transform().m11() < STILL_BELOW_ZOOM:
            return
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        self.frames += 1
        for name, highlight in self.highlights.items():
            node = self._node_item(name)
            if node is not None and visible.intersects(node.sceneBoundingRect()):
                highlight.phase += 0.6
                highlight.update()

    # ------------------------------------------------------------ breakpoints
    def set_breakpoints(self, uids: set[int]) -> None:
        """Show a red dot on exactly these nodes."""
        for uid in list(self.breakpoint_dots):
            if uid not in uids:
                dot = self.breakpoint_dots.pop(uid)
                if dot.scene() is not None:
                    dot.scene().removeItem(dot)
        for uid in uids:
            if uid not in self.breakpoint_dots and uid in self.scene.node_items:
                self.breakpoint_dots[uid] = BreakpointDot(self.scene.node_items[uid])

    def taken_path(self, key: tuple[str, str]) -> QPainterPath | None:
        """The scene path of a connection the run took (None when it was not taken)."""
        items = self.taken_items.get(key)
        return _connection_path(items[0]) if items else None
