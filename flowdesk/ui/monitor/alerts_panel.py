"""The monitor's Alerts page: the alert rules of every workflow (add, delete) and the alerts they fired.

`AlertsPanel(db, executor=None)` reads and writes in the monitor's worker threads (QueryRunner), so
the GUI thread never waits on the database. Given the app's executor it follows the engine's
`alert_fired` events: the history is read again and `alertFired(message)` is emitted; the monitor
host turns that into a tray message where the platform has a system tray (offscreen: the list only).
A rule that cannot be stored is refused with the service's one sentence, shown under the form.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.alert_rules import KIND_LABELS, AlertKind
from flowdesk.services.monitoring import MonitorQueries

from .active_panel import EngineEventBridge
from .message_table import MessageTable, table_item
from .query_runner import QueryRunner, as_queries

WINDOWS = ("last runs", "last seconds")


class AlertsPanel(QWidget):
    """Alert rules and history. Signals: `loaded()` after each read is shown, `alertFired(str)` per
    alert the attached executor announces."""

    loaded = Signal()
    alertFired = Signal(str)  # noqa: N815

    def __init__(self, db: Any = None, executor: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queries: MonitorQueries = as_queries(db)
        self.data: dict[str, Any] = {}
        self._build()
        self._reader = QueryRunner(self)
        self._reader.result.connect(self._show)
        self._reader.error.connect(self._show_error)
        self._writer = QueryRunner(self)
        self._writer.result.connect(self._written)
        self._writer.error.connect(self._show_error)
        self._bridge: EngineEventBridge | None = None
        if executor is not None:
            self.attach_executor(executor)

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel("Alerts")
        title.setStyleSheet("font-weight: bold;")
        self.status = QLabel("")
        self.status.setStyleSheet("color: #6b7280;")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.status, 1)

        self.workflow = QComboBox()
        self.workflow.setObjectName("alertWorkflow")
        self.kind = QComboBox()
        self.kind.setObjectName("alertKind")
        for kind in AlertKind:
            self.kind.addItem(KIND_LABELS[kind], kind.value)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.threshold = QLineEdit()
        self.threshold.setObjectName("alertThreshold")
        self.threshold.setPlaceholderText("threshold")
        self.window_kind = QComboBox()
        self.window_kind.setObjectName("alertWindowKind")
        self.window_kind.addItems(WINDOWS)
        self.window_value = QLineEdit()
        self.window_value.setObjectName("alertWindow")
        self.window_value.setPlaceholderText("20")
        self.node = QLineEdit()
        self.node.setObjectName("alertNode")
        self.node.setPlaceholderText("node name")
        self.webhook = QComboBox()
        self.webhook.setObjectName("alertWebhook")
        self.add_button = QPushButton("Add rule")
        self.add_button.setObjectName("alertAdd")
        self.add_button.clicked.connect(self.add_rule)
        form = QHBoxLayout()
        for label, widget in (
            ("Workflow:", self.workflow),
            ("", self.kind),
            ("", self.threshold),
            ("over the", self.window_kind),
            ("", self.window_value),
            ("", self.node),
            ("Webhook:", self.webhook),
        ):
            if label:
                form.addWidget(QLabel(label))
            form.addWidget(widget)
        form.addWidget(self.add_button)
        self.problem = QLabel("")
        self.problem.setObjectName("alertProblem")
        self.problem.setStyleSheet("color: #d93025;")

        self.rules = MessageTable(["Rule", "Workflow", "Webhook", "State", "Watches"], elastic=(1,))
        self.rules.setObjectName("alertRules")
        self.delete_button = QPushButton("Delete rule")
        self.delete_button.setObjectName("alertDelete")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.delete_selected)
        self.rules.itemSelectionChanged.connect(
            lambda: self.delete_button.setEnabled(bool(self.rules.selectionModel().selectedRows()))
        )
        self.history = MessageTable(["Fired", "Workflow", "Run", "Webhook", "Alert"], elastic=(1,))
        self.history.setObjectName("alertHistory")
        rules_box = QWidget()
        rules_layout = QVBoxLayout(rules_box)
        rules_layout.setContentsMargins(0, 0, 0, 0)
        rules_head = QHBoxLayout()
        rules_head.addWidget(QLabel("Rules"), 1)
        rules_head.addWidget(self.delete_button)
        rules_layout.addLayout(rules_head)
        rules_layout.addWidget(self.rules)
        history_box = QWidget()
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(QLabel("Fired alerts (newest first)"))
        history_layout.addWidget(self.history)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(rules_box)
        split.addWidget(history_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(split, 1)
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = AlertKind(self.kind.currentData())
        in_row = kind is AlertKind.FAILURES_IN_ROW
        self.window_kind.setEnabled(not in_row)
        self.window_value.setEnabled(not in_row)
        self.node.setEnabled(kind is AlertKind.NODE_ERROR_RATE)
        self.threshold.setPlaceholderText(
            {"success_rate": "%", "node_error_rate": "%", "p95_duration": "seconds"}.get(kind.value, "count")
        )

    # -- reading -------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()  # what other windows and the CLI changed meanwhile

    def refresh(self) -> None:
        """Read the workflows, APIs, rules and history again (in a worker thread)."""
        db = self.queries.db

        def read() -> dict[str, Any]:
            from flowdesk.services.alerts import AlertService
            from flowdesk.services.apis import ApiService
            from flowdesk.services.workflows import WorkflowService

            service = AlertService(db)
            return {
                "workflows": [(w.id, w.name) for w in WorkflowService(db).list_workflows()],
                "apis": [(a.id, a.name) for a in ApiService(db).list_apis()],
                "rules": service.list_rules(),
                "history": service.history(limit=200),
            }

        self._reader.submit(read)

    def _show(self, data: dict[str, Any]) -> None:
        self.data = data
        self._fill_combo(self.workflow, data["workflows"], None)
        self._fill_combo(self.webhook, data["apis"], "No webhook")
        apis = dict(data["apis"])
        table = self.rules
        table.setRowCount(len(data["rules"]))
        for row, (rule, workflow_name) in enumerate(data["rules"]):
            table.setItem(row, 0, table_item(f"#{rule.id}", data=rule.id))
            table.setItem(row, 1, table_item(workflow_name, tooltip=True))
            hook = apis.get(rule.webhook_api_id, "") if rule.webhook_api_id is not None else ""
            table.setItem(row, 2, table_item(hook, tooltip=True))
            state = table_item("firing" if rule.firing else "armed")
            if rule.firing:
                state.setForeground(Qt.GlobalColor.red)
            table.setItem(row, 3, state)
            table.setItem(row, 4, table_item(rule.name, tooltip=True))
        table.fit_columns()
        history = self.history
        history.setRowCount(len(data["history"]))
        for row, alert in enumerate(data["history"]):
            history.setItem(row, 0, table_item(alert.fired_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")))
            history.setItem(row, 1, table_item(alert.workflow_name, tooltip=True))
            run = f"#{alert.execution_id}" if alert.execution_id is not None else ""
            history.setItem(row, 2, table_item(run, data=alert.execution_id))
            history.setItem(row, 3, table_item(alert.webhook_status or "", tooltip=True))
            history.setItem(row, 4, table_item(alert.message, tooltip=True))
        history.fit_columns()
        rules, fired = len(data["rules"]), len(data["history"])
        self.status.setText(f"{rules} rule{'s' * (rules != 1)}, {fired} fired alert{'s' * (fired != 1)}")
        self.status.setStyleSheet("color: #6b7280;")
        self.loaded.emit()

    @staticmethod
    def _fill_combo(combo: QComboBox, items: list[tuple[int, str]], none: str | None) -> None:
        chosen = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        if none is not None:
            combo.addItem(none, None)
        for item_id, name in items:
            combo.addItem(f"{name} (#{item_id})", item_id)
        index = combo.findData(chosen)
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)

    def _show_error(self, message: str) -> None:
        self.problem.setText(html.escape(message))
        self.loaded.emit()

    # -- writing -------------------------------------------------------------------------------
    def add_rule(self) -> None:
        """Store the rule the form describes; a bad field is refused with one sentence."""
        workflow_id = self.workflow.currentData()
        if workflow_id is None:
            self.problem.setText("Choose a workflow for the alert rule.")
            return
        window = self.window_value.text().strip() or None
        by_period = self.window_kind.currentIndex() == 1
        fields: dict[str, Any] = {
            "runs": None if by_period or not self.window_value.isEnabled() else window,
            "period": window if by_period and self.window_value.isEnabled() else None,
            "node": self.node.text().strip() or None if self.node.isEnabled() else None,
            "webhook_api_id": self.webhook.currentData(),
        }
        kind, threshold, db = self.kind.currentData(), self.threshold.text().strip(), self.queries.db

        def write() -> str:
            from flowdesk.services.alerts import AlertService

            rule = AlertService(db).add_rule(workflow_id, kind, threshold or None, **fields)
            return f"Added alert rule {rule.id}: {rule.name}."

        self._writer.submit(write)

    def delete_selected(self) -> None:
        """Delete the selected rule (its fired alerts stay in the history)."""
        rows = self.rules.selectionModel().selectedRows()
        if not rows:
            return
        cell = self.rules.item(rows[0].row(), 0)
        if cell is None:
            return
        rule_id = cell.data(Qt.ItemDataRole.UserRole)
        db = self.queries.db

        def write() -> str:
            from flowdesk.services.alerts import AlertService

            rule = AlertService(db).delete_rule(int(rule_id))
            return f"Deleted alert rule {rule_id}: {rule.name}."

        self._writer.submit(write)

    def _written(self, sentence: str) -> None:
        self.problem.setText("")
        self.status.setText(html.escape(sentence))
        self.refresh()

    # -- live ----------------------------------------------------------------------------------
    def attach_executor(self, executor: Any) -> None:
        """Follow `executor`'s alert_fired events (instead of any executor followed before)."""
        self.shutdown()
        self._bridge = EngineEventBridge(executor, self, kinds=frozenset({"alert_fired"}))
        self._bridge.received.connect(self._on_alert)

    def _on_alert(self, event: Any) -> None:
        self.alertFired.emit(event.message)
        self.refresh()

    def shutdown(self) -> None:
        """Stop following the executor's events."""
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None
