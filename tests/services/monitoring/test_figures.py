"""Every figure of WorkflowMonitor against the known runs of tests/support/monitor_seed.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.services.monitor import WorkflowMonitor
from flowdesk.services.monitoring.percentile import nearest_rank
from flowdesk.store.monitor.dialect import index_walk
from tests.support.monitor_seed import NOW, at


@pytest.fixture
def monitor(db, seeded):
    return WorkflowMonitor(db=db, clock=lambda: NOW)


def run(coro):
    return asyncio.run(coro)


def test_nearest_rank_definition():
    assert nearest_rank(50, 4) == 2
    assert nearest_rank(50, 5) == 3
    assert nearest_rank(95, 5) == 5
    assert nearest_rank(95, 20) == 19
    assert nearest_rank(95, 21) == 20
    assert nearest_rank(0, 7) == 1
    assert nearest_rank(100, 7) == 7
    # the walk from the nearer end reaches the same rank
    assert index_walk(100, 95) == ("DESC", 5)
    assert index_walk(100, 2) == ("ASC", 1)
    with pytest.raises(ValueError):
        nearest_rank(50, 0)


def test_execution_stats_all_time(monitor, seeded):
    stats = run(monitor.get_execution_stats(seeded.shop))
    assert stats["total_executions"] == 19
    assert stats["status_counts"] == {
        "pending": 1,
        "running": 1,
        "paused": 1,
        "completed": 5,
        "failed": 8,
        "cancelled": 1,
        "timed_out": 1,
        "interrupted": 1,
        "resumed": 0,  # an interrupted run another one took over (0004)
    }
    assert stats["finished_executions"] == 16
    assert stats["success_rate"] == 31.25  # 5 completed of 16 finished
    # completed durations: 10, 20, 30, 40, 12.5
    assert stats["avg_execution_time"] == 22.5
    assert stats["p50_execution_time"] == 20.0  # rank ceil(0.5 * 5) = 3
    assert stats["p95_execution_time"] == 40.0  # rank ceil(0.95 * 5) = 5
    assert stats["min_execution_time"] == 10.0
    assert stats["max_execution_time"] == 40.0
    assert stats["active_executions"] == 2


def test_execution_stats_since(monitor, seeded):
    stats = run(monitor.get_execution_stats(seeded.shop, since=at(days=2)))
    assert stats["total_executions"] == 14  # the four old completed runs and the never-started one drop out
    assert stats["status_counts"]["completed"] == 1
    assert stats["finished_executions"] == 12
    assert stats["success_rate"] == 8.33
    assert stats["avg_execution_time"] == stats["p50_execution_time"] == stats["p95_execution_time"] == 12.5


def test_execution_stats_empty_and_unknown(db, seeded):
    from flowdesk.store.tables import WorkflowRow

    with db.session() as s:
        empty = WorkflowRow(name="empty", description="", version="1.0", is_active=False)
        s.add(empty)
        s.flush()
        empty_id = empty.id
    monitor = WorkflowMonitor(db=db, clock=lambda: NOW)
    stats = run(monitor.get_execution_stats(empty_id))
    assert stats["total_executions"] == 0
    assert stats["success_rate"] is None
    assert stats["avg_execution_time"] is None and stats["p95_execution_time"] is None
    with pytest.raises(NotFoundError, match="no workflow with id 999"):
        run(monitor.get_execution_stats(999))


def test_performance_analysis(monitor, seeded):
    perf = run(monitor.get_performance_analysis(seeded.perf))
    assert perf["slowest_node"] == "b"
    assert perf["total_step_time"] == 80.0  # the deleted node's 100 s are not counted
    assert [n["node"] for n in perf["bottlenecks"]] == ["b", "d", "a", "c"]
    by = {n["node"]: n for n in perf["bottlenecks"]}
    assert by["b"]["share"] == 50.0 and by["d"]["share"] == 25.0
    assert by["a"]["share"] == 12.5 and by["c"]["share"] == 12.5
    assert (by["a"]["runs"], by["a"]["total_time"], by["a"]["avg_duration"]) == (4, 10.0, 2.5)
    assert (
        by["a"]["min_duration"],
        by["a"]["p50_duration"],
        by["a"]["p95_duration"],
        by["a"]["max_duration"],
    ) == (
        1.0,
        2.0,
        4.0,
        4.0,
    )
    assert by["c"]["runs"] == 8  # each loop iteration is a run
    assert by["d"]["runs"] == 3  # the skipped step has no time
    assert by["d"]["avg_duration"] == pytest.approx(20.0 / 3, rel=1e-12)
    assert (by["d"]["p50_duration"], by["d"]["p95_duration"]) == (6.0, 8.0)
    assert "e" not in by  # never ran
    assert perf["node_averages"] == {"a": 2.5, "b": 10.0, "c": 1.25, "d": pytest.approx(20.0 / 3, rel=1e-12)}


def test_performance_of_parallel_and_loop_steps(monitor, seeded):
    perf = run(monitor.get_performance_analysis(seeded.shop))
    by = {n["node"]: n for n in perf["bottlenecks"]}
    # item runs twice per finished-looping run: ok1..ok5 (10 runs) + e503's failed item[0] + cancel's 2
    assert by["item"]["runs"] == 13
    assert perf["slowest_node"] == "branch_b"


def test_error_analysis(monitor, seeded):
    errors = run(monitor.get_error_analysis(seeded.shop))
    summary = [(e["error_type"], e["node"], e["count"]) for e in errors]
    assert summary == [
        ("http_404", "fetch", 2),
        ("cancelled", "item", 1),
        ("connection_error", "fetch", 1),
        ("expression_error", "check", 1),
        ("http_4xx", "fetch", 1),  # a 4xx whose message carries no status code
        ("http_503", "item", 1),
        ("other", "fetch", 1),  # no error_type recorded
        ("timeout", "branch_a", 1),
        ("timeout", "branch_b", 1),  # the workflow deadline cancelled this step
    ]
    first = errors[0]
    assert first["last_occurrence"] == at(hours=8) + timedelta(seconds=2.5)  # e404b's fetch ended then
    assert first["sample_message"].endswith("answered 404 Not Found (2)")  # the latest one
    assert first["executions"] == 2
    cancelled = errors[1]
    assert cancelled["sample_message"] == "Cancelled by the user"
    assert cancelled["last_occurrence"] == at(days=1, hours=1) + timedelta(seconds=9.5)


def test_error_analysis_since(monitor, seeded):
    errors = run(monitor.get_error_analysis(seeded.shop, since=at(hours=9, minutes=30)))
    assert [(e["error_type"], e["count"]) for e in errors] == [("http_404", 1), ("http_4xx", 1), ("other", 1)]


def test_error_drill_down(monitor, seeded):
    rows = run(monitor.get_error_executions(seeded.shop, "http_404"))
    assert [r["id"] for r in rows] == [seeded.runs["e404b"], seeded.runs["e404a"]]
    assert rows[0]["node"] == "fetch" and rows[0]["status"] == "failed"
    rows = run(monitor.get_error_executions(seeded.shop, "timeout", node="branch_b"))
    assert [r["id"] for r in rows] == [seeded.runs["deadline"]]
    assert run(monitor.get_error_executions(seeded.shop, "timeout", node="fetch")) == []


def test_custom_metrics(monitor, seeded):
    metrics = run(monitor.get_custom_metrics(seeded.perf))
    assert list(metrics) == ["processing_time", "rows"]  # the text metric is not a number
    assert metrics["processing_time"] == {"count": 4, "sum": 10.0, "avg": 2.5, "min": 1.0, "max": 4.0}
    assert metrics["rows"] == {"count": 10, "sum": 70.0, "avg": 7.0, "min": 5.0, "max": 20.0}
    # read straight from the steps (the `since` path) gives the same figures
    assert run(monitor.get_custom_metrics(seeded.perf, since=at(days=30))) == metrics
    assert run(monitor.get_custom_metrics(seeded.perf, since=at(days=2, hours=-2))) == {
        "processing_time": {"count": 2, "sum": 7.0, "avg": 3.5, "min": 3.0, "max": 4.0},
        "rows": {"count": 4, "sum": 20.0, "avg": 5.0, "min": 5.0, "max": 5.0},
    }
    assert run(monitor.get_custom_metrics(seeded.shop)) == {}


def test_custom_metrics_in_the_seeds_shape(monitor, seeded):
    assert run(monitor.get_custom_metrics(seeded.perf, shape="seed")) == {
        "custom_metrics": {"processing_time": 2.5, "rows": 7.0}
    }
    assert run(monitor.get_custom_metrics(seeded.perf, since=at(days=2, hours=-2), shape="seed")) == {
        "custom_metrics": {"processing_time": 3.5, "rows": 5.0}
    }
    assert run(monitor.get_custom_metrics(seeded.shop, shape="seed")) == {"custom_metrics": {}}
    with pytest.raises(InvalidInputError):
        run(monitor.get_custom_metrics(seeded.perf, shape="flat"))


def test_custom_metrics_follow_updates_and_deletes(db, monitor, seeded):
    from sqlalchemy import delete, select, update

    from flowdesk.store.tables import ExecutionLogRow, ExecutionRow

    with db.session() as s:
        log_id = s.scalar(
            select(ExecutionLogRow.id).where(
                ExecutionLogRow.execution_id == seeded.runs["perf0"], ExecutionLogRow.node_name == "a"
            )
        )
        s.execute(
            update(ExecutionLogRow)
            .where(ExecutionLogRow.id == log_id)
            .values(metrics={"processing_time": 0.5})
        )
    metrics = run(monitor.get_custom_metrics(seeded.perf))
    assert metrics["processing_time"] == {"count": 4, "sum": 9.5, "avg": 2.375, "min": 0.5, "max": 4.0}
    assert metrics["rows"]["count"] == 9 and metrics["rows"]["max"] == 20.0  # rows 20 is perf1's

    # Deleting the run holding the maximum makes the stored max stale; the monitor recomputes it.
    with db.session() as s:
        s.execute(delete(ExecutionLogRow).where(ExecutionLogRow.execution_id == seeded.runs["perf3"]))
        s.execute(delete(ExecutionRow).where(ExecutionRow.id == seeded.runs["perf3"]))
    metrics = run(monitor.get_custom_metrics(seeded.perf))
    assert metrics["processing_time"] == {
        "count": 3,
        "sum": 5.5,
        "avg": pytest.approx(5.5 / 3),
        "min": 0.5,
        "max": 3.0,
    }
    assert metrics["rows"] == {
        "count": 7,
        "sum": 50.0,
        "avg": pytest.approx(50.0 / 7),
        "min": 5.0,
        "max": 20.0,
    }
    perf = run(monitor.get_performance_analysis(seeded.perf))
    a = next(n for n in perf["bottlenecks"] if n["node"] == "a")
    assert (a["runs"], a["total_time"], a["max_duration"]) == (3, 6.0, 3.0)


def test_active_executions(monitor, seeded):
    active = run(monitor.get_active_executions())
    assert [(a["id"], a["status"], a["current_node"], a["elapsed_time"]) for a in active] == [
        (seeded.runs["paused"], "paused", "loop", 1800.0),
        (seeded.runs["running"], "running", "branch_a", 90.0),
    ]
    assert {a["workflow_id"] for a in active} == {seeded.shop}
    assert active[0]["workflow_name"] == "shop"


def test_real_time_metrics(monitor, seeded):
    live = run(monitor.get_real_time_metrics())
    assert live["active_executions"] == 2
    assert live["executions_per_minute"] == 0.4  # ok5 and running started in the last 5 minutes
    load = live["system_load"]
    assert len(load["load_average"]) == 3 and load["cpu_count"] >= 1
    assert load["process_memory_mb"] > 0 and load["process_cpu_percent"] >= 0


def test_execution_logs(monitor, seeded):
    logs = run(monitor.get_execution_logs(seeded.runs["cancel"]))
    assert [(r["step_name"], r["status"]) for r in logs] == [
        ("start", "success"),
        ("fetch", "success"),
        ("check", "success"),
        ("branch_a", "success"),
        ("branch_b", "success"),
        ("loop", "success"),
        ("item[0]", "success"),
        ("item[1]", "cancelled"),
        ("end", "skipped"),
    ]
    assert logs[1]["input_data"] == {"seq": 1} and logs[1]["output_data"] == {"ok": True, "step": "fetch"}
    assert logs[7]["error_message"] == "Cancelled by the user" and logs[7]["iteration_path"] == [1]
    assert logs[1]["started_at"] == at(days=1, hours=1) + timedelta(seconds=0.5)
    with pytest.raises(NotFoundError):
        run(monitor.get_execution_logs(424242))


def test_execution_trend(monitor, seeded):
    days = run(monitor.get_execution_trend(seeded.shop, "day", since=at(days=4), until=NOW))
    assert len(days) == 5  # Jan 6 .. Jan 10
    by_day = {d["start"].day: d for d in days}
    assert by_day[7]["counts"] == {"completed": 4}
    assert (by_day[7]["avg"], by_day[7]["p50"], by_day[7]["p95"]) == (25.0, 20.0, 40.0)
    assert by_day[8]["counts"] == {} and by_day[8]["p50"] is None
    assert sum(sum(d["counts"].values()) for d in days) == 18  # every started run
    hours = run(monitor.get_execution_trend(seeded.shop, "hour", since=at(hours=3), until=NOW))
    assert [h["start"].hour for h in hours] == [9, 10, 11, 12]
    assert hours[2]["counts"] == {"completed": 1, "paused": 1, "running": 1}
    assert hours[2]["p95"] == 12.5
    assert hours[3]["counts"] == {}
    with pytest.raises(InvalidInputError):
        run(monitor.get_execution_trend(seeded.shop, "week"))


def test_default_monitor_uses_flowdesk_db(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDESK_DB", str(tmp_path / "env.db"))
    monitor = WorkflowMonitor()
    try:
        assert monitor.db.path == (tmp_path / "env.db").resolve()
        assert run(monitor.get_active_executions()) == []
    finally:
        monitor.close()


def test_api_reexports_monitor():
    from flowdesk import api

    assert api.WorkflowMonitor is WorkflowMonitor
