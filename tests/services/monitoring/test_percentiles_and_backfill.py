"""The SQL percentiles equal the documented nearest-rank definition on random data, and migration 0003
fills its roll-up tables from the steps already stored when a database is upgraded."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.services.monitoring import MonitorQueries
from flowdesk.store import Database
from flowdesk.store.tables import ExecutionLogRow, ExecutionRow, NodeRow, WorkflowRow

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


def nearest(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def shared_db(request, tmp_path_factory):
    """One database for all examples of the property, on each backend."""
    if request.param == "sqlite":
        database = Database(tmp_path_factory.mktemp("percentiles") / "p.db")
        yield database
        database.close()
        return
    from tests.support.plugin import database_name

    server = request.getfixturevalue("postgres_server")
    name = database_name("percentiles")
    database = Database(server.create_database(name, template=request.getfixturevalue("postgres_template")))
    yield database
    database.close()
    server.drop_database(name)


durations_ms = st.lists(st.integers(min_value=1, max_value=120_000), min_size=1, max_size=60)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run_ms=durations_ms, step_ms=durations_ms)
def test_sql_percentiles_match_the_definition(shared_db, run_ms, step_ms):
    with shared_db.session() as s:
        wf = WorkflowRow(name="random", description="", version="1.0", is_active=True)
        s.add(wf)
        s.flush()
        node = NodeRow(
            workflow_id=wf.id, name="n", node_type="API_CALL", position_x=0, position_y=0, description=""
        )
        s.add(node)
        s.flush()
        for i, ms in enumerate(run_ms):
            started = T0 + timedelta(minutes=i)
            run = ExecutionRow(
                workflow_id=wf.id,
                status="completed",
                started_at=started,
                completed_at=started + timedelta(milliseconds=ms),
                created_at=started,
            )
            s.add(run)
            s.flush()
            if i == 0:
                for j, step in enumerate(step_ms):
                    s.add(
                        ExecutionLogRow(
                            execution_id=run.id,
                            node_id=node.id,
                            step_name=f"n[{j}]",
                            node_name="n",
                            status="success",
                            sequence=j,
                            execution_time=step / 1000,
                        )
                    )
        workflow_id = wf.id
    queries = MonitorQueries(shared_db)
    runs = [ms / 1000 for ms in run_ms]
    stats = queries.execution_stats(workflow_id)
    assert stats["p50_execution_time"] == nearest(runs, 50)
    assert stats["p95_execution_time"] == nearest(runs, 95)
    assert stats["min_execution_time"] == min(runs) and stats["max_execution_time"] == max(runs)
    assert stats["avg_execution_time"] == pytest.approx(sum(runs) / len(runs), abs=1e-3)
    node = queries.performance_analysis(workflow_id)["bottlenecks"][0]
    steps = [ms / 1000 for ms in step_ms]
    assert (node["p50_duration"], node["p95_duration"]) == (nearest(steps, 50), nearest(steps, 95))
    assert (node["min_duration"], node["max_duration"], node["runs"]) == (min(steps), max(steps), len(steps))
    trend = queries.execution_trend(workflow_id, bucket="hour", since=T0, until=T0 + timedelta(minutes=59))
    assert len(trend) == 1 and trend[0]["p95"] == nearest(runs, 95) and trend[0]["p50"] == nearest(runs, 50)


@pytest.mark.sqlite_only  # writes text that is not JSON; PostgreSQL's: tests/store/test_postgresql.py
def test_upgrade_fills_the_rollups_from_existing_steps(db_path):
    """A database at revision 0002 with stored steps gets correct totals when 0003 is applied."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from flowdesk.store.database import MIGRATIONS_DIR

    engine = create_engine(f"sqlite:///{db_path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        ts = "2026-03-01 08:00:00.000000"
        conn.exec_driver_sql(
            "INSERT INTO workflow_definitions (id, name, description, version, is_active, created_at, updated_at)"
            f" VALUES (1, 'old', '', '1.0', 1, '{ts}', '{ts}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO workflow_nodes (id, workflow_id, name, node_type, position_x, position_y, description,"
            f" created_at) VALUES (7, 1, 'fetch', 'API_CALL', 0, 0, '', '{ts}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO workflow_executions (id, workflow_id, status, progress, created_at)"
            f" VALUES (1, 1, 'completed', 1, '{ts}')"
        )
        for i, (time, metrics) in enumerate(
            [
                (1.5, '{"rows": 3, "note": "x"}'),
                (2.5, '{"rows": 5}'),
                (None, None),
                (4.0, "{}"),
                (2.0, "not json"),
            ]
        ):
            conn.exec_driver_sql(
                "INSERT INTO workflow_execution_logs (execution_id, node_id, step_name, node_name, status, attempts,"
                " execution_time, metrics, sequence, created_at) VALUES (1, 7, 'fetch', 'fetch', 'success', 1, ?, ?, ?, ?)",
                (time, metrics, i, ts),
            )
    engine.dispose()
    db = Database(db_path)  # upgrades to the newest revision
    try:
        queries = MonitorQueries(db)
        perf = queries.performance_analysis(1)
        assert (perf["bottlenecks"][0]["runs"], perf["bottlenecks"][0]["total_time"]) == (4, 10.0)
        assert queries.custom_metrics(1) == {
            "rows": {"count": 2, "sum": 8.0, "avg": 4.0, "min": 3.0, "max": 5.0}
        }
    finally:
        db.close()
