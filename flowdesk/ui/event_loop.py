"""The app's asyncio event loop: qasync's loop, with callbacks run a few milliseconds at a time.

qasync runs every asyncio callback as a Qt timer of its own (one `startTimer` per `call_soon`),
and Qt fires all timers that are due in one pass. When hundreds of calls answer at once, or 800
DELAY branches end together, that pass runs hundreds of engine steps back to back: measured, the
GUI thread then did 65 ms of work before it could paint or tick again. `SlicedEventLoop` keeps
asyncio's own scheme instead, a ready queue and a heap of timers, and drains them from a single
precise QTimer in slices of at most `SLICE` seconds, giving Qt a turn (painting, input, other
timers) between slices. It is also cheaper: one Qt timer instead of one per callback.

Semantics are asyncio's: callbacks run in the order they were scheduled; a slice runs only what was
ready when it began (what those callbacks schedule waits for a later slice, as in
`BaseEventLoop._run_once`); timers are ordered by their time, then by when they were made; a
cancelled handle never runs, and cancelled timers are purged from the heap once they are most of
it (as asyncio does).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from typing import Any

import qasync
from PySide6.QtCore import QObject, Qt, QTimer

from flowdesk.library_internals import mark_scheduled, run_handle

SLICE = 0.004
"""Seconds of callbacks run before Qt gets a turn."""

_PURGE_AT = 100  # cancelled timers in the heap before it may be rebuilt without them


class _Slicer(QObject):
    """The ready queue and timer heap of one loop, drained from one single-shot QTimer."""

    def __init__(self) -> None:
        super().__init__()
        self.ready: deque[asyncio.Handle] = deque()
        self.timers: list[tuple[float, int, asyncio.TimerHandle]] = []
        self.cancelled = 0
        self._order = itertools.count()
        self._due: float | None = None  # when the QTimer fires (monotonic), None when idle
        self._qtimer = QTimer(self)
        self._qtimer.setSingleShot(True)
        self._qtimer.setTimerType(Qt.TimerType.PreciseTimer)
        self._qtimer.timeout.connect(self._run)
        self.stopped = False

    def add_ready(self, handle: asyncio.Handle) -> None:
        self.ready.append(handle)
        self._arm(time.monotonic())

    def add_timer(self, handle: asyncio.TimerHandle) -> None:
        mark_scheduled(handle, True)
        heapq.heappush(self.timers, (handle.when(), next(self._order), handle))
        if self.timers[0][2] is handle:
            self._arm(handle.when())

    def _arm(self, when: float) -> None:
        if self.stopped or (self._due is not None and self._due <= when):
            return
        self._due = when
        delay = when - time.monotonic()
        self._qtimer.start(0 if delay <= 0 else max(1, math.ceil(delay * 1000)))

    def _run(self) -> None:
        self._due = None
        if self.stopped:
            return
        now = time.monotonic()
        timers, ready = self.timers, self.ready
        if self.cancelled > _PURGE_AT and self.cancelled * 2 > len(timers):
            self.timers = timers = [entry for entry in timers if not entry[2].cancelled()]
            heapq.heapify(timers)
            self.cancelled = 0
        while timers and timers[0][0] <= now:
            handle = heapq.heappop(timers)[2]
            mark_scheduled(handle, False)
            if handle.cancelled():
                self.cancelled = max(0, self.cancelled - 1)
            else:
                ready.append(handle)
        ends = now + SLICE
        for _ in range(len(ready)):
            due = ready.popleft()
            if not due.cancelled():
                run_handle(due)
            if time.monotonic() >= ends:
                break
        if ready:
            self._arm(0.0)
        elif timers:
            self._arm(timers[0][0])

    def stop(self) -> None:
        self.stopped = True
        self._qtimer.stop()


class SlicedEventLoop(qasync.QEventLoop):
    """qasync's event loop with asyncio's ready queue and timer heap, run in slices (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slicer = _Slicer()
        super().__init__(*args, **kwargs)

    def call_soon(self, callback: Any, *args: Any, context: Any = None) -> asyncio.Handle:
        self._check_closed()
        handle = asyncio.Handle(callback, args, self, context=context)
        self._slicer.add_ready(handle)
        return handle

    def call_later(self, delay: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        self._check_closed()
        handle = asyncio.TimerHandle(when, callback, args, self, context=context)
        self._slicer.add_timer(handle)
        return handle

    def _add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        # qasync schedules through here (its call_later, replaced above): keep to the same queues.
        if delay > 0:

            def run_unless_cancelled() -> None:
                if not handle.cancelled():
                    run_handle(handle)

            self._slicer.add_timer(asyncio.TimerHandle(self.time() + delay, run_unless_cancelled, (), self))
        else:
            self._slicer.add_ready(handle)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        self._slicer.cancelled += 1

    def close(self) -> None:
        if not self.is_running() and not self.is_closed():
            self._slicer.stop()
        super().close()
