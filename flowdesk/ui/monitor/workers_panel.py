"""The live panel of workers (docs/scale-out.md): which worker runs what, the queue lengths, who is
alive.

`WorkersPanel(broker)` asks every `interval_ms` (2 s) through Celery's inspect API (`ping`, `active`)
joined with the workers' liveness keys and the queues' lengths in Redis
(`engine.queue.workers_overview`). The question takes about a second (the inspect broadcast waits
for replies), so it runs in the monitor's thread pool (QueryRunner); a refresh is skipped while
one is still in flight, and the GUI thread never waits on the broker.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from flowdesk.engine.queue import shown_broker

from .active_panel import live_table
from .message_table import table_item
from .query_runner import QueryRunner

COLUMNS = ["Worker", "Alive", "Queues", "Running", "Executions"]
NO_BROKER = "No broker configured: set workers/broker in the settings or $FLOWDESK_BROKER to see workers."


class WorkersPanel(QWidget):
    """The workers on `broker` and its queues; `updated()` after each answer shown."""

    updated = Signal()

    def __init__(self, broker: str | None, parent: QWidget | None = None, *, interval_ms: int = 2000) -> None:
        super().__init__(parent)
        self.broker = broker
        self.workers: list[dict[str, Any]] = []
        self.queues: dict[str, int] = {}
        self.header = QLabel("Workers")
        self.header.setStyleSheet("font-weight: bold;")
        self.summary = QLabel(NO_BROKER if broker is None else "Asking the workers…")
        self.summary.setObjectName("workersSummary")
        self.summary.setWordWrap(True)
        self.table = live_table(COLUMNS, 4)
        self.queue_label = QLabel("")
        self.queue_label.setObjectName("queueLengths")
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.queue_label)
        self._runner = QueryRunner(self)
        self._runner.result.connect(self._show)
        self._runner.error.connect(self._show_error)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)

    def refresh(self) -> None:
        """Ask the broker again (in the monitor's thread pool), unless an answer is still awaited."""
        if self.broker is None or self._runner.busy:
            return
        from flowdesk.engine.queue import workers_overview  # Celery and redis load here, not at start

        broker = self.broker
        self._runner.submit(lambda: _overview(broker, workers_overview))

    def _show(self, overview: dict[str, Any]) -> None:
        self.workers = list(overview["workers"])
        self.queues = dict(overview["queues"])
        self.table.setRowCount(len(self.workers))
        for row, w in enumerate(self.workers):
            running = list(w["running"])
            capacity = f"{len(running)}/{w['concurrency']}" if w.get("concurrency") else str(len(running))
            alive = "yes" if w["alive"] else "no answer"
            if w.get("stopping"):
                alive += " (stopping)"
            cells = [
                table_item(w["name"], tooltip=f"host {w['host']}, pid {w['pid']}"),
                table_item(alive),
                table_item(", ".join(w["queues"])),
                table_item(capacity),
                table_item(", ".join(str(i) for i in running) or "—"),
            ]
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        answering = sum(1 for w in self.workers if w["alive"])
        self.summary.setText(
            f"{answering} alive of {len(self.workers)} known on {shown_broker(self.broker or '')}"
        )
        waiting = ", ".join(f"{name}: {length}" for name, length in self.queues.items())
        self.queue_label.setText(f"Waiting in queues — {waiting}" if waiting else "No queue known yet.")
        self.updated.emit()

    def _show_error(self, message: str) -> None:
        self.summary.setText(message)
        self.updated.emit()

    def shutdown(self) -> None:
        self.timer.stop()


def _overview(broker: str, read: Any) -> dict[str, Any]:
    """`read(broker)` with a broker that cannot be reached said in one sentence (in the pool thread)."""
    from flowdesk.domain.errors import InvalidInputError

    try:
        return dict(read(broker))
    except Exception as exc:  # redis' and kombu's connection errors share no base class but Exception
        reason = str(exc).strip().rstrip(".")
        raise InvalidInputError(
            f"The workers cannot be asked through the broker {shown_broker(broker)}: {reason}."
        ) from exc
