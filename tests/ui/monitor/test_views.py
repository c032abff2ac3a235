"""The monitor's Qt views on the known runs: bars, points, rows, clicks, live panel (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from flowdesk.services.monitoring import MonitorQueries
from flowdesk.ui.monitor import ActiveExecutionsPanel, MonitorView, RunTimeline
from flowdesk.ui.monitor.lanes import assign_rows
from flowdesk.ui.monitor.timeline import nice_step
from tests.support.monitor_seed import NOW
from tests.support.waiting import EVENTUALLY_MS


@pytest.fixture
def queries(db, seeded):
    return MonitorQueries(db, clock=lambda: NOW)


def test_assign_rows_by_overlap():
    # a, then b and c in parallel, then d after both; e overlaps d
    assert assign_rows([(0, 1), (1, 3), (1, 2), (3, 4), (3.5, 5)]) == [0, 0, 1, 0, 1]
    assert assign_rows([(0, 10), (1, 2), (2, 3), (2.5, 4)]) == [0, 1, 1, 2]
    assert assign_rows([]) == []
    assert nice_step(10.0) == 2.0 and nice_step(0.5) == 0.1 and nice_step(75) == 10


def test_monitor_view_shows_the_figures(qtbot, queries, seeded):
    view = MonitorView(queries, seeded.shop, period=1)  # last 30 days, by day
    qtbot.addWidget(view)
    view.resize(1400, 900)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        pass
    assert view.title.text() == "Monitor — shop"
    assert view.cards["executions"].value.text() == "18"  # every run started in the period
    assert view.cards["success"].value.text() == "31.2 %"  # 5 completed of 16 finished
    assert view.cards["avg"].value.text() == "22.5 s"
    assert view.cards["p95"].value.text() == "40.0 s"
    assert view.cards["active"].value.text() == "2"
    chart = view.executions_chart
    assert len(chart.categories) == 30  # one category per day
    assert chart.bar_count == 3  # Jan 7, 9 and 10 had runs
    assert set(chart.bar_sets) == {
        "completed",
        "failed",
        "timed_out",
        "cancelled",
        "interrupted",
        "running",
        "paused",
    }
    assert sum(chart.bar_sets["completed"].at(i) for i in range(30)) == 5
    assert sum(chart.bar_sets["failed"].at(i) for i in range(30)) == 8
    # duration lines: one point per day with completed runs (Jan 7 and Jan 10)
    assert view.duration_chart.point_count("p50") == 2 and view.duration_chart.point_count("p95") == 2
    assert [p.y() for p in view.duration_chart.lines["p95"].points()] == [40.0, 12.5]
    # slowest nodes: every node that ran, slowest at the top (drawn last)
    assert view.nodes_chart.bar_count == 8
    assert view.nodes_chart.nodes[-1] == "branch_b"
    # error table: one row per (type, node)
    assert view.errors_table.rowCount() == 9
    assert view.errors_table.item(0, 0).text() == "http_404" and view.errors_table.item(0, 2).text() == "2"


def test_error_drill_down_and_activation(qtbot, queries, seeded):
    view = MonitorView(queries, seeded.shop)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        pass
    with qtbot.waitSignal(view.drillDownLoaded, timeout=EVENTUALLY_MS):
        view.errors_table.selectRow(0)  # http_404 at fetch
    assert view.runs_table.rowCount() == 2
    assert view.runs_table.item(0, 0).text() == f"#{seeded.runs['e404b']}"
    with qtbot.waitSignal(view.executionActivated, timeout=EVENTUALLY_MS) as activated:
        item = view.runs_table.item(1, 0)
        view.runs_table.itemDoubleClicked.emit(item)
    assert activated.args == [seeded.runs["e404a"]]


def test_monitor_view_period_by_hour(qtbot, queries, seeded):
    view = MonitorView(queries, seeded.shop, period=0)  # last 48 hours, by hour
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        pass
    assert len(view.executions_chart.categories) == 48
    assert view.executions_chart.bar_count == 12  # hours with a run start in the last two days
    assert view.duration_chart.point_count("p50") == 1  # only ok5 completed in that window
    assert view.cards["executions"].value.text() == "14"


def test_monitor_view_unknown_workflow_says_so(qtbot, queries, seeded):
    view = MonitorView(queries, 999)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        pass
    assert "no workflow with id 999" in view.status.text()


def test_run_timeline_bars_rows_and_click(qtbot, queries, seeded):
    timeline = RunTimeline(queries, seeded.runs["ok1"])
    qtbot.addWidget(timeline)
    timeline.resize(900, 300)
    timeline.show()
    with qtbot.waitSignal(timeline.loaded, timeout=EVENTUALLY_MS):
        pass
    assert len(timeline.bars) == 9  # one per step, both loop iterations included
    assert timeline.row_count == 2  # branch_b runs beside branch_a
    rows = {bar.step["step_name"]: bar.row for bar in timeline.bars}
    assert rows["branch_a"] != rows["branch_b"]
    assert rows["item[0]"] == rows["item[1]"] == rows["start"]
    widths = {bar.step["step_name"]: bar.rect().width() for bar in timeline.bars}
    assert widths["branch_b"] == pytest.approx(widths["branch_a"] * 4 / 3)
    bar = next(b for b in timeline.bars if b.step["step_name"] == "item[1]")
    assert "item[1]" in bar.toolTip() and "Success" in bar.toolTip()
    assert bar.brush().color().name() == "#2e9d5b"
    with qtbot.waitSignal(timeline.nodeActivated, timeout=EVENTUALLY_MS) as clicked:
        point = timeline.canvas.mapFromScene(bar.sceneBoundingRect().center())
        qtbot.mouseClick(timeline.canvas.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == ["item"]


def test_run_timeline_of_a_failed_run(qtbot, queries, seeded):
    timeline = RunTimeline(queries)
    qtbot.addWidget(timeline)
    with qtbot.waitSignal(timeline.loaded, timeout=EVENTUALLY_MS):
        timeline.load(seeded.runs["cancel"])
    assert len(timeline.bars) == 8  # `end` never started
    cancelled = next(b for b in timeline.bars if b.step["status"] == "cancelled")
    assert cancelled.step["step_name"] == "item[1]" and "Cancelled by the user" in cancelled.toolTip()
    assert "1 not started" in timeline._title.text()


def test_active_panel_shows_a_run_while_it_runs(qtbot, db, seeded):
    from sqlalchemy import update

    from flowdesk.store.tables import ExecutionRow

    panel = ActiveExecutionsPanel(MonitorQueries(db, clock=lambda: NOW), interval_ms=50)
    qtbot.addWidget(panel)
    qtbot.waitUntil(
        lambda: set(panel.runs) == {seeded.runs["running"], seeded.runs["paused"]}, timeout=EVENTUALLY_MS
    )
    assert panel.table.rowCount() == 2
    assert panel.table.item(0, 3).text() == "loop" and panel.table.item(1, 3).text() == "branch_a"
    assert panel.table.item(1, 4).text() == "1 min 30 s"
    button = panel.cancel_button(seeded.runs["running"])
    assert button is not None and not button.isEnabled() and "no engine" in button.toolTip()
    # a new run appears...
    with db.session() as s:
        s.add(
            ExecutionRow(
                workflow_id=seeded.perf,
                status="running",
                started_at=NOW - timedelta(seconds=5),
                current_node="a",
                created_at=NOW,
            )
        )
    qtbot.waitUntil(lambda: panel.table.rowCount() == 3, timeout=EVENTUALLY_MS)
    # ...and the runs that end drop out
    with db.session() as s:
        s.execute(
            update(ExecutionRow)
            .where(ExecutionRow.status.in_(["running", "paused"]))
            .values(status="completed")
        )
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=EVENTUALLY_MS)
    assert panel.empty.isVisible() or not panel.isVisible()
    panel.shutdown()


def test_run_timeline_follows_a_running_run(qtbot, db, seeded):
    from flowdesk.store.tables import ExecutionLogRow

    timeline = RunTimeline(MonitorQueries(db, clock=lambda: NOW), follow_interval_ms=50)
    qtbot.addWidget(timeline)
    with qtbot.waitSignal(timeline.loaded, timeout=EVENTUALLY_MS):
        timeline.load(seeded.runs["running"])
    assert len(timeline.bars) == 4  # start, fetch, check, and branch_a still running
    running = next(b for b in timeline.bars if b.step["status"] == "running")
    assert running.step["_open"] and "still running" in running.toolTip()
    with db.session() as s:  # the engine starts branch_b
        s.add(
            ExecutionLogRow(
                execution_id=seeded.runs["running"],
                node_id=seeded.nodes["shop.branch_b"],
                step_name="branch_b",
                node_name="branch_b",
                status="running",
                sequence=4,
                started_at=NOW - timedelta(seconds=87),
            )
        )
    qtbot.waitUntil(lambda: len(timeline.bars) == 5, timeout=EVENTUALLY_MS)
    assert timeline.row_count == 2


def test_run_timeline_of_an_interrupted_run_does_not_reach_today(qtbot, queries, seeded):
    timeline = RunTimeline(queries)
    qtbot.addWidget(timeline)
    with qtbot.waitSignal(timeline.loaded, timeout=EVENTUALLY_MS):
        timeline.load(seeded.runs["lost"])  # interrupted 6 hours ago while branch_a was running
    assert len(timeline.bars) == 4
    unfinished = next(b for b in timeline.bars if b.step["status"] == "running")
    assert unfinished.step["_duration"] == 0.0 and "never finished" in unfinished.toolTip()
    assert "over 3.0 s" in timeline._title.text()
