"""QtEventAdapter: the one place engine events become Qt signals.

The engine's EventBus calls listeners synchronously on the event loop (the Qt thread under qasync).
The adapter only appends each event to a buffer; a ~30 ms single-shot QTimer hands the buffered
events on as one `events_ready` signal, grouped by execution, so a burst of thousands of node
events costs a handful of model updates and repaints. Execution-level events (started, paused,
resumed, finished) flush at once so the debugger's controls react without delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from flowdesk.engine import events as ev

COALESCE_MS = 30
_IMMEDIATE = (ev.ExecutionStarted, ev.ExecutionPaused, ev.ExecutionResumed, ev.ExecutionFinished)


class QtEventAdapter(QObject):
    """Buffers engine events and emits them in batches: `events_ready({execution_id: [events]})`."""

    events_ready = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = COALESCE_MS) -> None:
        super().__init__(parent)
        self._buffer: list[ev.EngineEvent] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        self._unsubscribe: list[Callable[[], None]] = []
        self.batches = 0  # how many batches were emitted (the coalescing, measurable)

    def attach(self, bus: Any) -> None:
        """Listen to an engine EventBus (or anything with `subscribe(listener) -> unsubscribe`)."""
        self._unsubscribe.append(bus.subscribe(self.on_event))

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._timer.stop()

    def on_event(self, event: ev.EngineEvent) -> None:
        """The engine listener: O(1), never touches a widget."""
        self._buffer.append(event)
        if isinstance(event, _IMMEDIATE):
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Emit everything buffered now (grouped by execution id, in arrival order)."""
        self._timer.stop()
        if not self._buffer:
            return
        buffered, self._buffer = self._buffer, []
        grouped: dict[int | None, list[ev.EngineEvent]] = {}
        for event in buffered:
            grouped.setdefault(event.execution_id, []).append(event)
        self.batches += 1
        self.events_ready.emit(grouped)
