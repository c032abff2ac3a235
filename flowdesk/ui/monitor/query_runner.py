"""Run monitor queries off the GUI thread and hand the result back as a Qt signal.

One `QueryRunner` per view: a new request supersedes the one in flight (its late answer is dropped),
so a view never shows older data over newer, and the GUI thread never waits on SQLite.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from flowdesk.domain.errors import FlowdeskError
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.store import Database

log = logging.getLogger(__name__)

_POOL: QThreadPool | None = None


def monitor_pool() -> QThreadPool:
    """The monitor views' own thread pool (two threads: reads are short, the machine may be small)."""
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(2)
        atexit.register(_POOL.waitForDone, 5000)  # let idle threads end before Qt objects are torn down
    return _POOL


def as_queries(source: Database | MonitorQueries | str | os.PathLike[str] | None) -> MonitorQueries:
    """A MonitorQueries for a Database, a path or URL, or an existing MonitorQueries."""
    return source if isinstance(source, MonitorQueries) else MonitorQueries(source)


class _Relay(QObject):
    finished = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, token: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.token = token
        self.fn = fn
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.fn()
        except FlowdeskError as exc:
            self.relay.failed.emit(self.token, str(exc))
        except Exception as exc:  # shown as one line in the view; the log keeps the traceback
            log.exception("monitor query failed")
            self.relay.failed.emit(self.token, f"The monitor could not read the database: {exc}")
        else:
            self.relay.finished.emit(self.token, result)


class QueryRunner(QObject):
    """Runs one callable at a time in `monitor_pool()`; emits `result(value)` or `error(message)`."""

    result = Signal(object)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._token = 0
        self._busy = False
        self._relay = _Relay()
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        """True while the latest request has not answered."""
        return self._busy

    def submit(self, fn: Callable[[], Any]) -> None:
        """Start `fn()` in a worker thread; an answer to an earlier request is dropped."""
        self._token += 1
        self._busy = True
        monitor_pool().start(_Job(self._token, fn, self._relay))

    def _on_finished(self, token: int, value: Any) -> None:
        if token == self._token:
            self._busy = False
            self.result.emit(value)

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._token:
            self._busy = False
            self.error.emit(message)


def wait_for_queries(msecs: int = 5000) -> bool:
    """Wait for every running monitor query (used when closing)."""
    return monitor_pool().waitForDone(msecs)
