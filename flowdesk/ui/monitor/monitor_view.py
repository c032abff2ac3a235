"""The monitor view of one workflow: headline figures, charts over time, slowest nodes, error types.

`MonitorView(db, workflow_id)` reads everything in one worker-thread job (`refresh()`), then fills
the cards, the three charts and the error table; selecting an error row lists the executions that
had it, and double-clicking one emits `executionActivated(id)` (the main window opens its timeline).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.ui.widgets import row_data

from .charts import DurationChart, ExecutionsChart, SlowestNodesChart
from .message_table import MessageTable, table_item
from .query_runner import QueryRunner, as_queries
from .status_colors import STATUS_LABELS, format_seconds, status_color

#: The end states the failures card counts.
FAILED_ENDS = frozenset(
    {
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.INTERRUPTED,
    }
)


@dataclass(frozen=True)
class Period:
    """A choice of the period selector: how far back, and the chart bucket."""

    label: str
    span: timedelta
    bucket: str


PERIODS = (
    Period("Last 48 hours", timedelta(hours=47), "hour"),
    Period("Last 30 days", timedelta(days=29), "day"),
    Period("Last 90 days", timedelta(days=89), "day"),
)


def _runs_note(stats: dict[str, Any]) -> str:
    """The note under the run count: finished runs, and the child runs among them or left out."""
    note = f"{stats['finished_executions']:,} finished"
    children = stats.get("child_executions") or 0
    if children and stats.get("top_level_only"):
        return f"{note}; {children:,} child runs left out"
    return f"{note}; {children:,} child runs" if children else note


class FigureCard(QFrame):
    """A headline figure: a caption over a large number, with a small note under it."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("figureCard")
        self.setStyleSheet(
            "#figureCard { background: #ffffff; border: 1px solid #dcdfe5; border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #6b7280;")
        self.value = QLabel("—")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 2.1)
        font.setBold(True)
        self.value.setFont(font)
        self.note = QLabel("")
        self.note.setStyleSheet("color: #6b7280;")
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.note)

    def set(self, value: str, note: str = "", color: str | None = None) -> None:
        self.value.setText(value)
        self.value.setStyleSheet(f"color: {color};" if color else "")
        self.note.setText(note)


class MonitorView(QWidget):
    """Monitoring of one workflow. Signals: `loaded()` after each refresh, `executionActivated(int)`."""

    loaded = Signal()
    executionActivated = Signal(int)  # noqa: N815
    drillDownLoaded = Signal()  # noqa: N815

    def __init__(
        self,
        db: Any = None,
        workflow_id: int | None = None,
        parent: QWidget | None = None,
        *,
        period: int = 1,
    ) -> None:
        super().__init__(parent)
        self.queries: MonitorQueries = as_queries(db)
        self.workflow_id = workflow_id
        self.data: dict[str, Any] = {}
        self._build(period)
        self._runner = QueryRunner(self)
        self._runner.result.connect(self._show)
        self._runner.error.connect(self._show_error)
        self._drill = QueryRunner(self)
        self._drill.result.connect(self._show_executions)
        self._drill.error.connect(self._show_error)
        if workflow_id is not None:
            QTimer.singleShot(0, self.refresh)

    # -- building ------------------------------------------------------------------------------
    def _build(self, period: int) -> None:
        self.setStyleSheet("MonitorView { background: #f5f6f8; }")
        self.title = QLabel("Monitor")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.period = QComboBox()
        for p in PERIODS:
            self.period.addItem(p.label)
        self.period.setCurrentIndex(period)
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.top_level_only = QCheckBox("Top-level only")
        self.top_level_only.setObjectName("monitorTopLevelOnly")
        self.top_level_only.setToolTip(
            "The figures of the runs started on their own, leaving out the child runs that"
            " SUBWORKFLOW steps of other workflows started"
        )
        self.top_level_only.toggled.connect(lambda _on: self.refresh())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel("")
        self.status.setStyleSheet("color: #6b7280;")
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(12)
        top.addWidget(self.status, 1)
        top.addWidget(self.top_level_only)
        top.addSpacing(8)
        top.addWidget(QLabel("Period:"))
        top.addWidget(self.period)
        top.addWidget(self.refresh_button)

        self.cards = {
            "executions": FigureCard("Executions"),
            "success": FigureCard("Success rate"),
            "avg": FigureCard("Average time"),
            "p95": FigureCard("p95 time"),
            "failures": FigureCard("Failures"),
            "active": FigureCard("Running now"),
            "cache": FigureCard("Cache hits"),
        }
        cards = QHBoxLayout()
        cards.setSpacing(10)
        for card in self.cards.values():
            cards.addWidget(card, 1)

        self.executions_chart = ExecutionsChart()
        self.duration_chart = DurationChart()
        self.nodes_chart = SlowestNodesChart()
        self.errors_table = MessageTable(
            ["Error type", "Node", "Count", "Last seen", "Sample message"], elastic=(0, 1)
        )
        self.errors_table.itemSelectionChanged.connect(self._drill_down)
        self.runs_table = MessageTable(["Run", "Status", "Started", "Node", "Error"], elastic=(3,))
        self.runs_table.itemDoubleClicked.connect(self._activate_run)
        self.runs_label = QLabel("Select an error type to list the runs that had it.")
        self.runs_label.setStyleSheet("color: #6b7280;")
        errors_box = QWidget()
        errors_layout = QVBoxLayout(errors_box)
        errors_layout.setContentsMargins(0, 0, 0, 0)
        errors_title = QLabel("Error types")
        errors_title.setStyleSheet("font-weight: bold;")
        errors_layout.addWidget(errors_title)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.errors_table)
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 4, 0, 0)
        runs_layout.addWidget(self.runs_label)
        runs_layout.addWidget(self.runs_table)
        split.addWidget(runs_box)
        self.assertions_table = MessageTable(["Run", "Status", "Started", "Passed", "Failed"], elastic=(2,))
        self.assertions_table.setObjectName("monitorAssertions")
        self.assertions_table.itemDoubleClicked.connect(self._activate_assertion_run)
        self.assertions_label = QLabel("")
        self.assertions_label.setStyleSheet("color: #6b7280;")
        assertions_box = QWidget()
        assertions_layout = QVBoxLayout(assertions_box)
        assertions_layout.setContentsMargins(0, 4, 0, 0)
        assertions_layout.addWidget(self.assertions_label)
        assertions_layout.addWidget(self.assertions_table)
        split.addWidget(assertions_box)
        split.setSizes([180, 140, 120])
        errors_layout.addWidget(split, 1)

        # The charts over time share their row evenly; below them the error tables, the page's
        # widest text, get three fifths of the width and the slowest-nodes bars the rest.
        charts = QHBoxLayout()
        charts.setSpacing(10)
        charts.addWidget(self.executions_chart, 1)
        charts.addWidget(self.duration_chart, 1)
        details = QHBoxLayout()
        details.setSpacing(10)
        details.addWidget(self.nodes_chart, 2)
        details.addWidget(errors_box, 3)
        body = QVBoxLayout()
        body.setSpacing(10)
        body.addLayout(charts, 1)
        body.addLayout(details, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addLayout(cards)
        layout.addLayout(body, 1)

    # -- loading -------------------------------------------------------------------------------
    def set_workflow(self, workflow_id: int) -> None:
        """Show another workflow."""
        self.workflow_id = workflow_id
        self.refresh()

    def refresh(self) -> None:
        """Read the figures again (in a worker thread); `loaded` fires when they are shown."""
        if self.workflow_id is None:
            return
        period = PERIODS[self.period.currentIndex()]
        queries, workflow_id = self.queries, self.workflow_id
        top_level_only = self.top_level_only.isChecked()
        self.status.setText("Loading…")

        def read() -> dict[str, Any]:
            now = queries.clock()
            since = now - period.span
            if period.bucket == "day":
                since = since.replace(hour=0, minute=0, second=0, microsecond=0)
            else:
                since = since.replace(minute=0, second=0, microsecond=0)
            return {
                "name": queries.workflow_name(workflow_id),
                "period": period,
                "since": since,
                "stats": queries.execution_stats(workflow_id, since=since, top_level_only=top_level_only),
                "trend": queries.execution_trend(workflow_id, bucket=period.bucket, since=since, until=now),
                "performance": queries.performance_analysis(workflow_id),
                "errors": queries.error_analysis(workflow_id, since=since),
                "assertions": queries.assertion_runs(workflow_id, since=since),
                "cache": queries.cache_hit_rates(workflow_id),
            }

        self._runner.submit(read)

    def _show(self, data: dict[str, Any]) -> None:
        self.data = data
        stats, period = data["stats"], data["period"]
        self.title.setText(f"Monitor — {data['name']}")
        self.status.setText(f"{period.label.lower()}, by {period.bucket}")
        self.status.setStyleSheet("color: #6b7280;")
        rate = stats["success_rate"]
        rate_color = (
            None if rate is None else ("#2e9d5b" if rate >= 95 else "#e8710a" if rate >= 80 else "#d93025")
        )
        self.cards["executions"].set(f"{stats['total_executions']:,}", _runs_note(stats))
        self.cards["success"].set(
            "—" if rate is None else f"{rate:.1f} %",
            f"{stats['successful_executions']:,} completed",
            rate_color,
        )
        own = stats.get("avg_own_time") if stats.get("avg_time_in_children") else None
        self.cards["avg"].set(
            format_seconds(stats["avg_execution_time"]),
            "completed runs" if own is None else f"completed runs; own time {format_seconds(own)}",
        )
        self.cards["p95"].set(
            format_seconds(stats["p95_execution_time"]), f"p50 {format_seconds(stats['p50_execution_time'])}"
        )
        failures = stats["failed_executions"]
        self.cards["failures"].set(
            f"{failures:,}",
            ", ".join(
                f"{n} {STATUS_LABELS[s].lower()}"
                for s, n in stats["status_counts"].items()
                if n and s in FAILED_ENDS
            )
            or "none",
            "#d93025" if failures else None,
        )
        self.cards["active"].set(f"{stats['active_executions']:,}", "running or paused")
        self._show_cache(data["cache"])
        self.executions_chart.set_trend(data["trend"], period.bucket)
        self.duration_chart.set_trend(data["trend"], period.bucket)
        self.nodes_chart.set_performance(data["performance"])
        self._fill_errors(data["errors"])
        self._fill_assertions(data["assertions"])
        self.loaded.emit()

    def _show_cache(self, rates: dict[str, dict[str, Any]]) -> None:
        """The response cache's hit rate (all recorded steps), each node's in the card's tooltip."""
        card = self.cards["cache"]
        whole = rates.get("")
        if whole is None:
            card.set("—", "no cached calls")
            card.setToolTip("")
            return
        card.set(f"{whole['rate'] * 100:.0f} %", f"{whole['hits']:,} of {whole['lookups']:,} lookups")
        card.setToolTip(
            "\n".join(
                f"{name}: {f['rate'] * 100:.0f} % ({f['hits']:,} of {f['lookups']:,})"
                for name, f in rates.items()
                if name
            )
        )

    def _show_error(self, message: str) -> None:
        self.status.setText(html.escape(message))
        self.status.setStyleSheet("color: #d93025;")
        self.loaded.emit()

    def _fill_errors(self, errors: list[dict[str, Any]]) -> None:
        table = self.errors_table
        table.setSortingEnabled(False)
        table.setRowCount(len(errors))
        item = table_item
        for row, e in enumerate(errors):
            kind = item(e["error_type"], data=(e["error_type"], e["node"]), tooltip=True)
            kind.setForeground(QColor("#d93025") if e["error_type"] != "cancelled" else QColor("#6b7280"))
            table.setItem(row, 0, kind)
            table.setItem(row, 1, item(e["node"] or "—", tooltip=True))
            table.setItem(row, 2, item(f"{e['count']:,}", align_right=True))
            last = e["last_occurrence"]
            table.setItem(row, 3, item(last.astimezone().strftime("%Y-%m-%d %H:%M") if last else "—"))
            table.setItem(row, 4, item(e["sample_message"] or "", tooltip=True))
        table.fit_columns()
        self.runs_table.setRowCount(0)
        self.runs_label.setText(
            "Select an error type to list the runs that had it."
            if errors
            else "No failed steps in this period."
        )

    def _fill_assertions(self, runs: list[dict[str, Any]]) -> None:
        """Passed and failed assertions of each run that ran an ASSERT (newest first)."""
        table = self.assertions_table
        table.setSortingEnabled(False)
        table.setRowCount(len(runs))
        item = table_item
        for row, r in enumerate(runs):
            _run_cells(table, row, r)
            table.setItem(row, 3, item(f"{r['passed']:,}", align_right=True))
            failed = item(f"{r['failed']:,}", align_right=True)
            if r["failed"]:
                failed.setForeground(QColor("#d93025"))
            table.setItem(row, 4, failed)
        table.fit_columns()
        passed = sum(r["passed"] for r in runs)
        failed_total = sum(r["failed"] for r in runs)
        self.assertions_label.setText(
            f"Assertions by run: {passed:,} passed, {failed_total:,} failed in {len(runs):,} run(s)"
            " (double-click to open)"
            if runs
            else "No run of this period checked assertions (ASSERT nodes)."
        )

    def _activate_assertion_run(self, item: QTableWidgetItem) -> None:
        self._activate_in(self.assertions_table, item)

    # -- drill-down ----------------------------------------------------------------------------
    def _drill_down(self) -> None:
        rows = self.errors_table.selectionModel().selectedRows()
        if not rows or self.workflow_id is None:
            return
        error_type, node = row_data(self.errors_table, rows[0].row())
        self.select_error(error_type, node)

    def select_error(self, error_type: str, node: str | None = None) -> None:
        """List the executions that had `error_type` (at `node`); `drillDownLoaded` fires when shown."""
        queries, workflow_id = self.queries, self.workflow_id
        assert workflow_id is not None
        self.runs_label.setText(
            f"Runs with {error_type}" + (f" at {node}" if node else "") + " (double-click to open)"
        )
        self._drill.submit(lambda: queries.error_executions(workflow_id, error_type, node))

    def _show_executions(self, runs: list[dict[str, Any]]) -> None:
        table = self.runs_table
        table.setRowCount(len(runs))
        item = table_item
        for row, r in enumerate(runs):
            _run_cells(table, row, r)
            table.setItem(row, 3, item(r["node"] or "—", tooltip=True))
            table.setItem(row, 4, item(r["error_message"] or "", tooltip=True))
        table.fit_columns()
        self.drillDownLoaded.emit()

    def _activate_run(self, item: QTableWidgetItem) -> None:
        self._activate_in(self.runs_table, item)

    def _activate_in(self, table: MessageTable, item: QTableWidgetItem) -> None:
        run_id = row_data(table, item.row())
        if run_id is not None:
            self.executionActivated.emit(int(run_id))


def _run_cells(table: MessageTable, row: int, run: dict[str, Any]) -> None:
    """The first three cells of a run's row: `#id` (the id as its data), status (coloured), start."""
    table.setItem(row, 0, table_item(f"#{run['id']}", data=run["id"]))
    status = table_item(STATUS_LABELS.get(run["status"], run["status"]))
    status.setForeground(status_color(run["status"]))
    table.setItem(row, 1, status)
    started = run["started_at"]
    table.setItem(row, 2, table_item(started.astimezone().strftime("%Y-%m-%d %H:%M:%S") if started else "—"))
