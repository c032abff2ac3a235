"""The queue chooser of "Run on workers" (docs/scale-out.md): which queue a run from the app goes to.

The list offers the queues the live workers consume: at once those the Workers dock last saw (Celery's
inspect data joined with the liveness keys), then those the workers' liveness keys in Redis name, asked
in the monitor's thread pool when the dialog opens. Any other name can be typed (a queue no worker
consumes yet waits in Redis until one does). The choice is remembered per workflow in the settings
(`workers/queue/<workflow id>`), and as the last queue used (`workers/queue`) for workflows not yet
run on workers; the first time it is `default`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine.queue import DEFAULT_QUEUE, queue_name

LAST_QUEUE_SETTING = "workers/queue"
"""The settings key of the queue last chosen; per workflow it is `workers/queue/<id>`."""


def remembered_queue(settings: Any, workflow_id: int | None) -> str:
    """The queue to offer first: the workflow's own choice, else the last one used, else `default`."""
    keys = ([f"{LAST_QUEUE_SETTING}/{workflow_id}"] if workflow_id is not None else []) + [LAST_QUEUE_SETTING]
    for key in keys:
        value = settings.value(key) if settings is not None else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return DEFAULT_QUEUE


def remember_queue(settings: Any, workflow_id: int | None, queue: str) -> None:
    if settings is None:
        return
    if workflow_id is not None:
        settings.setValue(f"{LAST_QUEUE_SETTING}/{workflow_id}", queue)
    settings.setValue(LAST_QUEUE_SETTING, queue)


def _live_queues(broker: str) -> list[str]:
    """The queues the live workers consume, from their liveness keys (blocking: off the GUI thread)."""
    from flowdesk.engine.queue import workers_status

    return sorted({q for w in workers_status(broker)["workers"] for q in (w.get("queues") or [])})


class QueueDialog(QDialog):
    """Choose (or type) the queue; `queue_chosen(name)` on OK with a valid name."""

    queue_chosen = Signal(str)

    def __init__(
        self, broker: str, chosen: str, known: Iterable[str] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run on workers")
        self.setObjectName("queueDialog")
        self.combo = QComboBox(self)
        self.combo.setObjectName("queueChoice")
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setToolTip("The queue the run waits in; a worker consuming it takes the run")
        self.add_queues([chosen, *known])
        self.combo.setCurrentText(chosen)
        self.error = QLabel("", self)
        self.error.setObjectName("queueError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.source = QLabel("Asking the broker which queues the live workers consume…", self)
        self.source.setObjectName("queueSource")
        form = QFormLayout()
        form.addRow("&Queue:", self.combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.source)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        from flowdesk.ui.monitor.query_runner import QueryRunner

        self._runner = QueryRunner(self)
        self._runner.result.connect(self._show_live)
        self._runner.error.connect(
            lambda message: self.source.setText(f"The workers' queues are unknown: {message}")
        )
        self._runner.submit(lambda: _live_queues(broker))

    def queues(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def add_queues(self, names: Iterable[str]) -> None:
        for name in names:
            if name and self.combo.findText(name) < 0:
                self.combo.addItem(name)

    def _show_live(self, names: list[str]) -> None:
        self.add_queues(names)
        self.source.setText(
            f"Live workers consume: {', '.join(names)}." if names else "No live worker answers yet."
        )

    def accept(self) -> None:
        text = self.combo.currentText().strip()
        try:
            name = queue_name(text)
        except InvalidInputError:
            self.error.setText(f"The queue name {text!r} is not valid: use letters, digits, '_', '.' or '-'.")
            self.error.show()
            return
        self.queue_chosen.emit(name)
        super().accept()
