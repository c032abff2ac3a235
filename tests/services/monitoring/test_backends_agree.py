"""SQLite and PostgreSQL give the same monitor figures and the same roll-up tables for the same history.

The same history is written to a fresh SQLite file and a fresh PostgreSQL database: the known runs of
conftest.py (ORM inserts), then a generated one written the way the engine writes (ExecutionWriter:
SQLite's own executemany, PostgreSQL's COPY) with microsecond timestamps, mixed metric values and
classified errors (half the run times end in ...500 us, where the millisecond rounding is delicate;
tests/store/test_postgresql.py pins it), then step updates, deletes of runs and of a node (its steps' node_id becomes NULL).
Execution times are multiples of 1/8 s, so every sum is exact and the tables can be compared exactly.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from flowdesk.engine.writer import ExecutionWriter
from flowdesk.services import ExecutionService, WorkflowService
from flowdesk.services.monitor import WorkflowMonitor
from flowdesk.store import Database
from tests.support.monitor_seed import NOW, seed_known

pytestmark = pytest.mark.postgresql

ERRORS = [
    ("http_4xx", "Node 'x': GET https://api.test/a answered 404 Not Found"),
    ("http_5xx", "Node 'x': POST https://api.test/b answered 503 Service Unavailable"),
    ("http_4xx", "Node 'x': refused"),
    ("timeout", "Node 'x': request timed out after 2.0 s"),
    ("connection", "Node 'x': connection refused"),
    ("expression", "Node 'x': unknown name 'y'"),
    (None, "Node 'x': something else"),
]


def _micros(rng: random.Random) -> int:
    """Microseconds of a time; every other one ends in 500 (test_postgresql.py pins the rounding there)."""
    return rng.randint(0, 999) * 1000 + 500 if rng.random() < 0.5 else rng.randint(0, 999_999)


METRIC_VALUES = [3, 2.5, -1, 0, 10**6, 0.125, "text", True, None, [1, 2], {"nested": 1}]


def _engine_history(db: Database, rng: random.Random) -> int:
    """A workflow whose runs and steps are written through the engine's ExecutionWriter."""
    workflows = WorkflowService(db)
    wf = workflows.create_workflow("engine")
    nodes = [workflows.add_node(wf.id, name, "API_CALL") for name in ("load", "check", "store", "gone")]
    executions = ExecutionService(db)
    writer = ExecutionWriter(db)

    async def write() -> None:
        for run in range(40):
            eid = executions.create_execution(wf.id, execution_name=f"run{run}", status="running").id
            started = NOW - timedelta(
                days=rng.randint(0, 6), hours=rng.randint(0, 23), microseconds=_micros(rng)
            )
            status = rng.choice(["completed", "completed", "completed", "failed", "cancelled", "running"])
            offset = 0.0
            for seq in range(rng.randint(1, 7)):
                node = rng.choice(nodes)
                length = rng.randint(0, 40) / 8
                failed = status in ("failed", "cancelled") and seq == 0
                error_type, message = rng.choice(ERRORS) if failed else (None, None)
                begin = started + timedelta(seconds=offset, microseconds=rng.randint(0, 999))
                offset += length
                metrics = {f"m{k}": rng.choice(METRIC_VALUES) for k in range(rng.randint(0, 3))}
                writer.add_step(
                    eid,
                    {
                        "node_id": node.id,
                        "step_name": f"{node.name}[{seq}]",
                        "node_name": node.name,
                        "node_type": "API_CALL",
                        "status": ("cancelled" if status == "cancelled" else "failed")
                        if failed
                        else "success",
                        "error_type": error_type,
                        "error_message": message,
                        "attempts": 1,
                        "execution_time": None if rng.random() < 0.1 else length,
                        "sequence": seq,
                        "metrics": metrics if rng.random() < 0.8 else None,
                        "output_data": {"seq": seq, "中文": [1, None]},
                        "started_at": begin,
                        "completed_at": begin + timedelta(seconds=length),
                    },
                )
            fields: dict[str, Any] = {"status": status, "started_at": started}
            if status != "running":
                fields["completed_at"] = started + timedelta(seconds=offset, microseconds=_micros(rng))
            writer.update_execution(eid, **fields)
        await writer.flush()

    asyncio.run(write())
    writer.close()
    return wf.id


def build(db: Database, checkpoint: Callable[[str], None] = lambda stage: None) -> dict[str, int]:
    """Write the whole history into `db`, calling `checkpoint(stage)` after each kind of write."""
    seeded = seed_known(db)
    checkpoint("known runs")
    engine_wf = _engine_history(db, random.Random(20260110))
    checkpoint("engine writes")
    executions = ExecutionService(db)
    rng = random.Random(5)
    logs = [
        log
        for run in executions.list_executions(engine_wf, limit=1000)
        for log in executions.get_logs(run.id)
    ]
    executions.update_logs(
        [(log.id, {"execution_time": rng.randint(0, 16) / 8}) for log in rng.sample(logs, 15)]
        + [(log.id, {"metrics": {"m0": rng.choice([1, 7.5, "x"])}}) for log in rng.sample(logs, 15)]
    )
    checkpoint("step updates")
    runs = sorted(r.id for r in executions.list_executions(engine_wf, limit=1000))
    executions.delete_executions(runs[3:9])  # never the newest: SQLite would reuse its id
    checkpoint("run deletes")
    gone = next(n for n in WorkflowService(db).list_nodes(engine_wf) if n.name == "gone")
    WorkflowService(db).delete_node(gone.id)
    checkpoint("node delete")
    return {"shop": seeded.shop, "perf": seeded.perf, "engine": engine_wf}


def rollups(db: Database) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        nodes = conn.execute(
            text("SELECT node_id, runs, total_time FROM monitor_node_totals ORDER BY node_id")
        )
        metrics = conn.execute(
            text(
                "SELECT node_id, name, count, total, min_value, max_value, stale FROM monitor_metric_totals"
                " ORDER BY node_id, name"
            )
        )
        return {
            "nodes": [tuple(r) for r in nodes],
            "metrics": [(*r[:6], bool(r[6])) for r in metrics],
        }


@pytest.fixture
def both(tmp_path, postgres_database):
    """(SQLite Database, PostgreSQL Database), both fresh and migrated."""
    sqlite, postgresql = Database(tmp_path / "agree.db"), Database(postgres_database())
    yield sqlite, postgresql
    sqlite.close()
    postgresql.close()


def test_rollup_tables_agree_after_every_kind_of_write(both):
    sqlite, postgresql = both
    stages: dict[str, dict[str, list[tuple]]] = {}
    build(sqlite, lambda stage: stages.__setitem__(stage, rollups(sqlite)))
    seen: list[str] = []

    def check(stage: str) -> None:
        seen.append(stage)
        assert rollups(postgresql) == stages[stage], stage

    build(postgresql, check)
    assert seen == list(stages) and len(seen) == 5
    assert stages["engine writes"]["metrics"] != stages["known runs"]["metrics"]  # the history reached them


def _monitor_answers(db: Database, ids: dict[str, int]) -> dict[str, Any]:
    monitor = WorkflowMonitor(db=db, clock=lambda: NOW)
    since = NOW - timedelta(days=2, hours=3)

    async def ask() -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for name, wf in ids.items():
            answers[f"{name} stats"] = await monitor.get_execution_stats(wf)
            answers[f"{name} stats since"] = await monitor.get_execution_stats(wf, since=since)
            answers[f"{name} trend by day"] = await monitor.get_execution_trend(wf)
            answers[f"{name} trend by hour"] = await monitor.get_execution_trend(
                wf, bucket="hour", since=NOW - timedelta(days=3), until=NOW
            )
            answers[f"{name} performance"] = await monitor.get_performance_analysis(wf)
            errors = await monitor.get_error_analysis(wf)
            answers[f"{name} errors"] = errors
            answers[f"{name} errors since"] = await monitor.get_error_analysis(wf, since=since)
            for entry in errors:
                for node in (entry["node"], None):
                    answers[
                        f"{name} drill {entry['error_type']} {node}"
                    ] = await monitor.get_error_executions(wf, entry["error_type"], node)
            answers[f"{name} metrics"] = await monitor.get_custom_metrics(wf)
            answers[f"{name} metrics since"] = await monitor.get_custom_metrics(wf, since=since)
        answers["active"] = await monitor.get_active_executions()
        live = await monitor.get_real_time_metrics()
        live.pop("system_load")  # this process's CPU and memory, not the database's
        answers["live"] = live
        for run in ExecutionService(db).list_executions(limit=1000):
            answers[f"logs {run.id}"] = await monitor.get_execution_logs(run.id)
        return answers

    return asyncio.run(ask())


def test_every_monitor_call_agrees(both):
    sqlite, postgresql = both
    ids = build(sqlite)
    assert build(postgresql) == ids
    expected, answers = _monitor_answers(sqlite, ids), _monitor_answers(postgresql, ids)
    assert answers.keys() == expected.keys()
    for key in expected:
        assert answers[key] == expected[key], key
    # Enough of every kind to mean something.
    assert expected["engine stats"]["status_counts"]["failed"] > 0
    assert len(expected["engine errors"]) >= 4 and expected["engine metrics"]
    assert any(e["counts"] for e in expected["engine trend by hour"])
    assert all(a["started_at"].tzinfo is UTC for a in expected["active"] if a["started_at"])


def test_cleanup_agrees(both):
    sqlite, postgresql = both
    ids = build(sqlite)
    build(postgresql)
    results = []
    for db in (sqlite, postgresql):
        monitor = WorkflowMonitor(db=db, clock=lambda: NOW)
        deleted = asyncio.run(monitor.cleanup(older_than_days=2, keep_last=3, batch_size=4))
        results.append((deleted, rollups(db), _monitor_answers(db, ids)))
    assert results[0][0]["deleted_executions"] > 0
    assert results[1][:2] == results[0][:2]
    assert results[1][2] == results[0][2]
