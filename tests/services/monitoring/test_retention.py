"""Retention: cleanup deletes exactly the right runs and their logs, in separate small transactions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from flowdesk.domain.errors import InvalidInputError
from flowdesk.services.monitor import RetentionPolicy, WorkflowMonitor
from flowdesk.services.monitoring.retention import cleanup, cleanup_candidates
from flowdesk.store.tables import ExecutionLogRow, ExecutionRow, NodeRow, WorkflowRow
from tests.support.monitor_seed import NOW
from tests.support.waiting import until


@pytest.fixture
def history(db):
    """Workflow "x": ten runs, run i created (10 - i) * 10 days ago, run 1 still running and run 2 failed.
    Workflow "y": three completed runs 200 days old. Every run has three steps; the first records a metric."""
    ids: dict[str, list[int]] = {"x": [], "y": []}
    with db.session() as s:
        for name, count in (("x", 10), ("y", 3)):
            wf = WorkflowRow(name=name, description="", version="1.0", is_active=True)
            s.add(wf)
            s.flush()
            node = NodeRow(
                workflow_id=wf.id,
                name="call",
                node_type="API_CALL",
                position_x=0,
                position_y=0,
                description="",
            )
            s.add(node)
            s.flush()
            for i in range(count):
                created = NOW - timedelta(days=(10 - i) * 10 if name == "x" else 200)
                status = (
                    "running" if (name, i) == ("x", 1) else "failed" if (name, i) == ("x", 2) else "completed"
                )
                run = ExecutionRow(
                    workflow_id=wf.id,
                    execution_name=f"{name}{i}",
                    status=status,
                    created_at=created,
                    started_at=created,
                    completed_at=None if status == "running" else created + timedelta(seconds=1),
                )
                s.add(run)
                s.flush()
                ids[name].append(run.id)
                for seq in range(3):
                    s.add(
                        ExecutionLogRow(
                            execution_id=run.id,
                            node_id=node.id,
                            step_name=f"call[{seq}]",
                            node_name="call",
                            status="success",
                            sequence=seq,
                            execution_time=float(i + 1),
                            metrics={"value": float(i + 1)} if seq == 0 else None,
                        )
                    )
    return ids


def _remaining(db) -> tuple[set[int], int]:
    with db.session(read_only=True) as s:
        runs = set(s.scalars(select(ExecutionRow.id)))
        logs = s.scalar(select(func.count()).select_from(ExecutionLogRow))
    return runs, logs


def test_cleanup_by_age_keeping_the_newest(db, history):
    x, y = history["x"], history["y"]
    expected = [
        x[0],
        x[2],
        x[3],
        x[4],
        x[5],
        x[6],
        y[0],
    ]  # older than 35 days, finished, not among the newest 2
    assert cleanup_candidates(db, 35, 2, NOW) == expected
    batches: list[tuple[int, int]] = []
    result = cleanup(
        db,
        older_than_days=35,
        keep_last=2,
        batch_size=2,
        now=NOW,
        pause=0,
        on_batch=lambda e, n: batches.append((e, n)),
    )
    assert result == {"deleted_executions": 7, "deleted_logs": 21, "batches": 4}
    assert batches == [(2, 6), (2, 6), (2, 6), (1, 3)]
    runs, logs = _remaining(db)
    assert runs == {x[1], x[7], x[8], x[9], y[1], y[2]}  # the old running run is never deleted
    assert logs == 6 * 3


def test_cleanup_keep_last_only_and_totals_follow(db, history):
    x, y = history["x"], history["y"]
    monitor = WorkflowMonitor(db=db, clock=lambda: NOW)
    result = asyncio.run(monitor.cleanup(keep_last=1))
    assert result["deleted_executions"] == 8 + 2  # x keeps x9 and the running x1; y keeps y2
    runs, _ = _remaining(db)
    assert runs == {x[1], x[9], y[2]}
    with db.session(read_only=True) as s:
        x_id = s.scalar(select(WorkflowRow.id).where(WorkflowRow.name == "x"))
    # the metric and node totals now cover only x1 and x9 (values 2 and 10)
    metrics = asyncio.run(monitor.get_custom_metrics(x_id))
    assert metrics == {"value": {"count": 2, "sum": 12.0, "avg": 6.0, "min": 2.0, "max": 10.0}}
    perf = asyncio.run(monitor.get_performance_analysis(x_id))
    assert (perf["bottlenecks"][0]["runs"], perf["bottlenecks"][0]["total_time"]) == (6, 36.0)


def test_each_batch_commits_so_other_writers_get_in(db, history):
    """Between two batches another connection can write: no transaction spans the whole cleanup."""
    written: list[int] = []

    def write_between(_e: int, _n: int) -> None:
        with db.session() as s:  # BEGIN IMMEDIATE: would wait (and time out) if cleanup held the lock
            wf = s.scalar(select(WorkflowRow.id).where(WorkflowRow.name == "y"))
            row = ExecutionRow(workflow_id=wf, status="completed", created_at=NOW, started_at=NOW)
            s.add(row)
            s.flush()
            written.append(row.id)

    result = cleanup(
        db, older_than_days=0, keep_last=0, batch_size=3, now=NOW, pause=0, on_batch=write_between
    )
    assert result["batches"] == 4 and result["deleted_executions"] == 12  # all but the running one
    runs, _ = _remaining(db)
    assert runs == {history["x"][1], *written}  # rows written meanwhile are newer than the cutoff: kept


def test_cleanup_arguments(db, history):
    with pytest.raises(InvalidInputError, match="older_than_days, keep_last or both"):
        cleanup(db, now=NOW)
    with pytest.raises(InvalidInputError, match="keep_last must be 0 or more"):
        cleanup(db, keep_last=-1, now=NOW)
    with pytest.raises(InvalidInputError, match="batch_size"):
        cleanup(db, keep_last=1, batch_size=0, now=NOW)
    for age in (-1, 4.3e307, float("nan"), float("inf")):  # found by the server's fuzzing: OverflowError
        with pytest.raises(InvalidInputError, match="older_than_days must be between 0 and 36,525"):
            cleanup(db, older_than_days=age, now=NOW)
    assert cleanup(db, older_than_days=1000, now=NOW)["deleted_executions"] == 0


def test_retention_policy(db, history):
    policy = RetentionPolicy.from_settings(
        {"older_than_days": 35, "keep_last": 2, "interval_hours": 12, "other": 1}
    )
    assert (policy.older_than_days, policy.keep_last, policy.interval_hours, policy.enabled) == (
        35,
        2,
        12,
        True,
    )
    with pytest.raises(InvalidInputError):
        RetentionPolicy.from_settings({"interval_hours": 0})
    with pytest.raises(InvalidInputError):
        RetentionPolicy.from_settings({"older_than_days": None, "keep_last": None})
    monitor = WorkflowMonitor(db=db, clock=lambda: NOW)
    assert asyncio.run(RetentionPolicy(enabled=False).run_once(monitor)) is None
    assert asyncio.run(policy.run_once(monitor))["deleted_executions"] == 7

    async def periodic() -> int:
        calls = []
        original = monitor.cleanup

        async def counting(**kw):
            calls.append(kw)
            return await original(**kw)

        monitor.cleanup = counting  # type: ignore[method-assign]
        task = asyncio.create_task(
            RetentionPolicy(interval_hours=1e-6, keep_last=5).run_periodically(monitor)
        )
        await until(lambda: len(calls) >= 3, "three periodic clean-ups")
        task.cancel()
        return len(calls)

    assert asyncio.run(periodic()) >= 3
