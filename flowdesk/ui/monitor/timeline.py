"""The run timeline: one bar per step on a time axis (a Gantt chart drawn with QGraphicsView).

Parallel branches get their own rows (lanes.assign_rows), loop iterations show as `name[i]`, bars
are coloured by status, hovering shows the step's details and clicking a bar emits
`nodeActivated(node_name)` so the main window can select that node on the canvas. Steps that never
started (skipped, pending) have no time to draw; the header counts them.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus, StepStatus
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.store.monitor.times import utcnow

from .lanes import assign_rows
from .query_runner import QueryRunner, as_queries
from .status_colors import STATUS_LABELS, format_seconds, status_color

ROW_HEIGHT = 26.0
ROW_GAP = 6.0
AXIS_HEIGHT = 28.0
MARGIN = 12.0
MIN_BAR_WIDTH = 3.0
#: Room right of the time axis for the labels of the last bars.
LABEL_ROOM = 120.0


def nice_step(span: float, target_ticks: int = 8) -> float:
    """A tick interval of 1, 2 or 5 times a power of ten giving about `target_ticks` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def step_label(step: dict[str, Any]) -> str:
    """The bar's text: the step name, which already carries loop indexes (`item[2]`)."""
    name = step.get("step_name") or step.get("node_name") or "?"
    path = step.get("iteration_path") or []
    if path and "[" not in name:
        name += "".join(f"[{i}]" for i in path)
    return name


class StepBar(QGraphicsRectItem):
    """One step's bar; knows its step row for tooltips and clicks."""

    def __init__(self, rect: QRectF, step: dict[str, Any], row: int) -> None:
        super().__init__(rect)
        self.step = step
        self.row = row
        color = status_color(step.get("status", ""))
        self.setBrush(QBrush(color))
        self.setPen(QPen(color.darker(125), 1))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self._tooltip())

    @property
    def node_name(self) -> str:
        return self.step.get("node_name") or self.step.get("step_name") or ""

    def _tooltip(self) -> str:
        s = self.step
        lines = [
            f"<b>{html.escape(step_label(s))}</b>",
            f"Node: {html.escape(str(s.get('node_name') or '—'))} ({html.escape(str(s.get('node_type') or '?'))})",
            f"Status: {html.escape(STATUS_LABELS.get(s.get('status', ''), str(s.get('status'))))}",
            f"Starts at: +{format_seconds(s.get('_offset'))}",
            f"Duration: {format_seconds(s.get('_duration'))}"
            + ((" (still running)" if s.get("_live") else " (never finished)") if s.get("_open") else ""),
        ]
        if (s.get("attempts") or 0) > 1:
            lines.append(f"Attempts: {s['attempts']}")
        if s.get("error_message"):
            lines.append(
                f"Error ({html.escape(str(s.get('error_type') or 'other'))}): {html.escape(s['error_message'])}"
            )
        return "<br>".join(lines)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.setPen(QPen(QColor("#1f2430"), 2))
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self.setPen(QPen(self.brush().color().darker(125), 1))
        super().hoverLeaveEvent(event)


class TimelineCanvas(QGraphicsView):
    """The drawing: a time axis and one bar per timed step; rebuilt on resize (a few hundred items)."""

    barClicked = Signal(str)  # noqa: N815 (Qt signal naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QColor("#ffffff"))
        self._steps: list[dict[str, Any]] = []
        self._rows: list[int] = []
        self._span = 0.0
        self.bars: list[StepBar] = []

    def set_steps(self, steps: list[dict[str, Any]], rows: list[int], span: float) -> None:
        """Show `steps` (each with `_offset`, `_duration`) on `rows` over `span` seconds."""
        self._steps, self._rows, self._span = steps, rows, span
        self._rebuild()

    @property
    def row_count(self) -> int:
        return max(self._rows, default=-1) + 1

    def _rebuild(self) -> None:
        scene = self.scene()
        scene.clear()
        self.bars = []
        width = max(self.viewport().width() - 2 * MARGIN - LABEL_ROOM, 200.0)
        span = self._span if self._span > 0 else 1.0
        scale = width / span
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() - 1, 7.0))
        metrics = QFontMetricsF(font)
        rows = self.row_count
        height = AXIS_HEIGHT + rows * (ROW_HEIGHT + ROW_GAP) + MARGIN
        axis_pen = QPen(QColor("#c9ced6"))
        grid_pen = QPen(QColor("#eef0f3"))
        tick = nice_step(span)
        t = 0.0
        while t <= span + 1e-9:
            x = MARGIN + t * scale
            scene.addLine(x, AXIS_HEIGHT - 4, x, height - MARGIN, grid_pen)
            label = QGraphicsSimpleTextItem(format_seconds(t) if t else "0")
            label.setFont(font)
            label.setBrush(QColor("#6b7280"))
            label.setPos(x - metrics.horizontalAdvance(label.text()) / 2 if t else x, 4)
            scene.addItem(label)
            t += tick
        scene.addLine(MARGIN, AXIS_HEIGHT - 4, MARGIN + span * scale, AXIS_HEIGHT - 4, axis_pen)
        # Where each row's next bar starts, so a label placed beside a bar never runs into the next one.
        placed = [
            (MARGIN + step["_offset"] * scale, max(step["_duration"] * scale, MIN_BAR_WIDTH), step, row)
            for step, row in zip(self._steps, self._rows, strict=True)
        ]
        next_start: dict[int, float] = {}
        limit = [MARGIN + width + LABEL_ROOM] * len(placed)
        for i in sorted(range(len(placed)), key=lambda i: -placed[i][0]):
            x, _w, _step, row = placed[i]
            limit[i] = next_start.get(row, MARGIN + width + LABEL_ROOM)
            next_start[row] = x
        for (x, w, step, row), right_limit in zip(placed, limit, strict=True):
            y = AXIS_HEIGHT + row * (ROW_HEIGHT + ROW_GAP)
            bar = StepBar(QRectF(x, y, w, ROW_HEIGHT), step, row)
            scene.addItem(bar)
            self.bars.append(bar)
            caption = step_label(step)
            text_w = metrics.horizontalAdvance(caption)
            if text_w + 8 <= w:  # inside the bar
                color = QColor("#ffffff")
                left = x + 4
            elif x + w + 4 + text_w <= right_limit:  # beside it, before the row's next bar
                color = QColor("#1f2430")
                left = x + w + 4
            elif w >= 40:  # shortened inside the bar
                caption = metrics.elidedText(caption, Qt.TextElideMode.ElideRight, w - 8)
                color = QColor("#ffffff")
                left = x + 4
            else:  # no room: the tooltip names it
                continue
            text = QGraphicsSimpleTextItem(caption, bar)
            text.setFont(font)
            text.setBrush(color)
            text.setPos(left, y + (ROW_HEIGHT - metrics.height()) / 2)
            text.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        scene.setSceneRect(0, 0, width + 2 * MARGIN + LABEL_ROOM, height)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._steps:
            self._rebuild()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, StepBar):
            item = item.parentItem()
        if isinstance(item, StepBar) and event.button() == Qt.MouseButton.LeftButton:
            self.barClicked.emit(item.node_name)
            event.accept()
            return
        super().mousePressEvent(event)


def layout_steps(
    steps: list[dict[str, Any]], now: datetime | None = None, *, live: bool = True
) -> tuple[list[dict[str, Any]], list[int], float, int]:
    """(timed steps with `_offset`/`_duration`, their rows, span in seconds, steps without a start).

    A step without an end is drawn up to `now` while the run is `live`; in a run that has stopped
    (an interrupted run's last step) it keeps its recorded time, or none, instead of reaching today.
    """
    now = now or utcnow()
    timed = [dict(s) for s in steps if s.get("started_at") is not None]
    untimed = len(steps) - len(timed)
    if not timed:
        return [], [], 0.0, untimed
    origin = min(s["started_at"] for s in timed)
    for s in timed:
        end = s.get("completed_at")
        s["_open"] = end is None
        s["_live"] = live
        if end is None:
            if s.get("status") == StepStatus.RUNNING and live:
                end = max(now, s["started_at"])
            else:
                end = s["started_at"] + timedelta(seconds=s.get("execution_time") or 0.0)
        s["_offset"] = (s["started_at"] - origin).total_seconds()
        s["_duration"] = max((end - s["started_at"]).total_seconds(), 0.0)
    rows = assign_rows([(s["_offset"], s["_offset"] + s["_duration"]) for s in timed])
    span = max(s["_offset"] + s["_duration"] for s in timed)
    return timed, rows, span, untimed


class RunTimeline(QWidget):
    """Gantt chart of one execution: `RunTimeline(db, execution_id)`; `load(id)` shows another run.

    Signals: `nodeActivated(str)` when a bar is clicked (its node name), `loaded()` after a run is shown.
    A run still going is re-read every `follow_interval_ms`, so its new steps appear as they start.
    """

    nodeActivated = Signal(str)  # noqa: N815
    loaded = Signal()

    def __init__(
        self,
        db: Any = None,
        execution_id: int | None = None,
        parent: QWidget | None = None,
        *,
        follow_interval_ms: int = 1000,
    ) -> None:
        super().__init__(parent)
        self.queries: MonitorQueries = as_queries(db)
        self.execution_id: int | None = None
        # While the run shown is still going, it is re-read on this timer so new steps appear.
        self._follow = QTimer(self)
        self._follow.setInterval(follow_interval_ms)
        self._follow.timeout.connect(self._reload)
        self._title = QLabel("No run selected")
        self._title.setTextFormat(Qt.TextFormat.RichText)
        self._title.setWordWrap(True)
        self.canvas = TimelineCanvas(self)
        self.canvas.barClicked.connect(self.nodeActivated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._title)
        layout.addWidget(self.canvas, 1)
        self._runner = QueryRunner(self)
        self._runner.result.connect(self._show)
        self._runner.error.connect(self._show_error)
        if execution_id is not None:
            self.load(execution_id)

    @property
    def bars(self) -> list[StepBar]:
        """The bars drawn, one per step that started."""
        return self.canvas.bars

    @property
    def row_count(self) -> int:
        return self.canvas.row_count

    def load(self, execution_id: int) -> None:
        """Read execution `execution_id` and its steps in a worker thread, then draw them."""
        self.execution_id = execution_id
        queries = self.queries
        self._runner.submit(
            lambda: (queries.execution_summary(execution_id), queries.execution_logs(execution_id))
        )

    def _reload(self) -> None:
        if self.execution_id is not None and not self._runner.busy:
            self.load(self.execution_id)

    def _show(self, value: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        summary, steps = value
        if summary["status"] in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED, ExecutionStatus.PENDING):
            self._follow.start()
        else:
            self._follow.stop()
        live = summary["status"] in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED, ExecutionStatus.PENDING)
        timed, rows, span, untimed = layout_steps(steps, self.queries.clock(), live=live)
        status = summary["status"]
        color = status_color(status).name()
        parts = [
            f"<b>Run {summary['id']}</b> of <b>{html.escape(summary['workflow_name'])}</b>",
            f"<span style='color:{color}'>● {STATUS_LABELS.get(status, status)}</span>",
            f"{len(timed)} steps on {max(rows, default=-1) + 1} rows over {format_seconds(span)}",
        ]
        if untimed:
            parts.append(f"{untimed} not started (skipped or pending)")
        self._title.setText(" · ".join(parts))
        self.canvas.set_steps(timed, rows, span)
        self.loaded.emit()

    def _show_error(self, message: str) -> None:
        self._follow.stop()
        self._title.setText(html.escape(message))
        self.canvas.set_steps([], [], 0.0)
        self.loaded.emit()
