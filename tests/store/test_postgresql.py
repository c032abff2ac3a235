"""The store on PostgreSQL: migrations from empty and from older revisions, refusal of newer databases
(dump-identical), transactional upgrades, write lock and read snapshots, timestamps, refused values,
and the plain sentences for a database that cannot be opened."""

from __future__ import annotations

import importlib.util
import math
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from flowdesk.domain.errors import (
    DatabaseTooNewError,
    DatabaseUnavailableError,
    FlowdeskError,
    InvalidInputError,
)
from flowdesk.store import HEAD_REVISION, Database
from flowdesk.store.database import MIGRATIONS_DIR, masked_url
from tests.support.store_rows import EXPECTED_TABLES

TABLES = EXPECTED_TABLES | {"alembic_version", "monitor_node_totals", "monitor_metric_totals"}
TRIGGERS = {
    "trg_monitor_totals_insert",
    "trg_monitor_totals_delete",
    "trg_monitor_node_totals_update",
    "trg_monitor_metric_totals_update",
}


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _tables(server, url) -> set[str]:
    return {
        r[0] for r in server.query(_name(url), "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }


def _revision(server, url) -> str:
    return server.query(_name(url), "SELECT version_num FROM alembic_version")[0][0]


def _upgrade_to(url: str, revision: str) -> None:
    """Bring a database to one revision with Alembic directly (as an older flowdesk left it)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def test_empty_database_is_migrated_to_head(postgres_server, postgres_database):
    url = postgres_database(migrated=False)
    assert _tables(postgres_server, url) == set()
    Database(url).close()
    assert _revision(postgres_server, url) == HEAD_REVISION
    assert _tables(postgres_server, url) == TABLES
    triggers = postgres_server.query(
        _name(url), "SELECT tgname FROM pg_trigger WHERE tgrelid = 'workflow_execution_logs'::regclass"
    )
    assert {r[0] for r in triggers if r[0].startswith("trg_")} == TRIGGERS
    types = dict(
        postgres_server.query(
            _name(url),
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'workflow_nodes'",
        )
    )
    assert (types["config"], types["created_at"], types["position_x"]) == (
        "json",
        "timestamp with time zone",
        "double precision",
    )


def test_upgrade_from_previous_revisions_keeps_data_and_fills_the_rollups(postgres_server, postgres_database):
    url = postgres_database(migrated=False)
    _upgrade_to(url, "0002")
    ts = "'2026-01-02 03:04:05+00'"
    _execute(
        url,
        "INSERT INTO workflow_definitions (id, name, description, version, config, tags, is_active, created_at,"
        f" updated_at) VALUES (7, 'kept', 'd', '2.0', '{{\"timeout\": 5}}', '[\"t\"]', true, {ts}, {ts})",
        "INSERT INTO workflow_nodes (id, workflow_id, name, node_type, config, position_x, position_y, description,"
        f" created_at) VALUES (70, 7, 'fetch', 'API_CALL', '{{}}', 0, 0, '', {ts})",
        "INSERT INTO workflow_executions (id, workflow_id, status, progress, started_at, completed_at, created_at)"
        f" VALUES (3, 7, 'completed', 1.0, {ts}, '2026-01-02 03:04:07.5+00', {ts})",
        *(
            "INSERT INTO workflow_execution_logs (execution_id, node_id, step_name, status, attempts,"
            f" execution_time, metrics, sequence, created_at) VALUES (3, 70, 's', 'success', 1, {time}, {metrics},"
            f" {i}, {ts})"
            for i, (time, metrics) in enumerate(
                [
                    ("1.5", '\'{"rows": 3, "note": "x"}\''),
                    ("2.5", "'{\"rows\": 5}'"),
                    ("NULL", "NULL"),
                    ("4.0", "'{}'"),
                    ("2.0", "'[1, 2]'"),
                    ("1.0", '\'{"rows": 1e400, "ok": true}\''),
                ]
            )
        ),  # fmt: skip
    )
    assert _revision(postgres_server, url) == "0002"
    db = Database(url)
    try:
        from flowdesk.services import ExecutionService, WorkflowService
        from flowdesk.services.monitoring import MonitorQueries

        workflow = WorkflowService(db).get_workflow(7)
        assert (workflow.name, workflow.config, workflow.tags, workflow.is_active) == (
            "kept",
            {"timeout": 5},
            ["t"],
            True,
        )
        assert (
            workflow.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
            and workflow.created_at.tzinfo is UTC
        )
        assert len(ExecutionService(db).get_logs(3)) == 6
        queries = MonitorQueries(db)
        node = queries.performance_analysis(7)["bottlenecks"][0]
        assert (node["runs"], node["total_time"]) == (5, 11.0)
        # Numbers only (1e400 is no double, true no number); objects only ([1, 2] is a list).
        assert queries.custom_metrics(7) == {
            "rows": {"count": 2, "sum": 8.0, "avg": 4.0, "min": 3.0, "max": 5.0}
        }
        assert queries.execution_stats(7)["avg_execution_time"] == 2.5
        # The rows inserted by hand with explicit ids do not stop new rows from getting fresh ones.
        assert WorkflowService(db).create_workflow("new").id != 7
    finally:
        db.close()
    assert _revision(postgres_server, url) == HEAD_REVISION


def test_upgrade_from_0001(postgres_server, postgres_database):
    url = postgres_database(migrated=False)
    _upgrade_to(url, "0001")
    Database(url).close()
    indexes = {
        r[0]
        for r in postgres_server.query(
            _name(url), "SELECT indexname FROM pg_indexes WHERE tablename = 'workflow_executions'"
        )
    }
    assert "ix_workflow_executions_workflow_id_started_at" in indexes
    assert "ix_workflow_executions_workflow_id" not in indexes


def test_a_failed_upgrade_leaves_the_database_exactly_as_it_was(postgres_server, postgres_database):
    """PostgreSQL's DDL is transactional: the half-done 0002 is rolled back, dump for dump."""
    url = postgres_database(migrated=False)
    _upgrade_to(url, "0001")
    # Sabotage 0002: its first step drops an index, its second creates one whose name is taken.
    _execute(url, "CREATE TABLE clash (x INTEGER)", "CREATE INDEX ix_workflow_executions_status ON clash (x)")
    before = postgres_server.dump(_name(url))
    with pytest.raises(FlowdeskError) as err:
        Database(url)
    assert str(err.value) == (
        f"The database could not be brought up to date (schema 0001 to {HEAD_REVISION}): relation"
        ' "ix_workflow_executions_status" already exists. It was left as it was.'
    )
    assert postgres_server.dump(_name(url)) == before
    assert _revision(postgres_server, url) == "0001"


def test_a_newer_database_is_refused_and_not_modified(postgres_server, postgres_database):
    url = postgres_database()
    _execute(url, "UPDATE alembic_version SET version_num = '9999'")
    before = postgres_server.dump(_name(url))
    tables = _tables(postgres_server, url)
    with pytest.raises(DatabaseTooNewError) as err:
        Database(url)
    assert str(err.value) == (
        "This database was written by a newer version of flowdesk (schema 9999); "
        f"this version knows up to {HEAD_REVISION}. It was not modified."
    )
    assert postgres_server.dump(_name(url)) == before
    assert _tables(postgres_server, url) == tables and _revision(postgres_server, url) == "9999"


def test_downgrade_to_nothing_and_up_again(postgres_server, postgres_database):
    from alembic import command
    from alembic.config import Config

    url = postgres_database()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    engine.dispose()
    assert _tables(postgres_server, url) == {"alembic_version"}
    functions = postgres_server.query(
        _name(url),
        "SELECT proname FROM pg_proc WHERE proname LIKE 'monitor%' AND pronamespace = 'public'::regnamespace",
    )
    assert functions == []
    Database(url).close()
    assert _tables(postgres_server, url) == TABLES


def test_the_duration_the_monitor_queries_is_the_one_migration_0003_indexes():
    from flowdesk.store.monitor.dialect import POSTGRESQL, SQLITE

    spec = importlib.util.spec_from_file_location(
        "m0003", MIGRATIONS_DIR / "versions" / "0003_monitor_rollups.py"
    )
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.PG_DURATION, migration.DURATION) == (POSTGRESQL.duration, SQLITE.duration)


def test_durations_read_each_time_as_sqlites_julianday_does(db):
    """julianday() reads a time's seconds as (int)(s * 1000.0 + 0.5) in double precision: .0004 s reads
    .000, 1.0019 s reads 1.002, 2.923500 s reads 2.923 (2.9235 * 1000.0 is just below 2923.5). The
    same runs on both databases give the same durations, not the exact ones rounded."""
    from flowdesk.services.monitoring import MonitorQueries
    from flowdesk.store.tables import ExecutionRow, WorkflowRow

    def at(second: int, microsecond: int) -> datetime:
        return datetime(2026, 9, 4, 13, 19, second, microsecond, tzinfo=UTC)

    cases = {
        "1.0015 s exact": (at(0, 400), at(1, 1900), 1.002),
        "2.0004 s exact": (at(0, 400), at(2, 800), 2.001),
        "2.0765 s exact": (at(2, 923500), at(5, 0), 2.077),
    }
    with db.session() as s:
        ids = {}
        for name, (started, completed, _) in cases.items():
            wf = WorkflowRow(name=name, description="", version="1.0", is_active=False)
            s.add(wf)
            s.flush()
            s.add(
                ExecutionRow(
                    workflow_id=wf.id, status="completed", started_at=started, completed_at=completed
                )
            )
            ids[name] = wf.id
    queries = MonitorQueries(db)
    assert {name: queries.execution_stats(ids[name])["avg_execution_time"] for name in cases} == {
        name: expected for name, (_, _, expected) in cases.items()
    }


def test_timestamps_are_timestamptz_and_come_back_aware_utc_whatever_the_session_zone(
    postgres_server, postgres_database
):
    from flowdesk.services import WorkflowService
    from flowdesk.services.monitoring import MonitorQueries

    url = postgres_database()
    # A URL's own session settings are kept: here a zone 9 hours east of UTC.
    db = Database(url + "?options=-c%20TimeZone%3DAsia/Tokyo")
    try:
        wf = WorkflowService(db).create_workflow("tz")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "Asia/Tokyo"
        stored = WorkflowService(db).get_workflow(wf.id)
        assert stored.created_at == wf.created_at and stored.created_at.tzinfo is UTC
        # A run at 23:30 UTC is 08:30 the next day in Tokyo: the day bucket is still the UTC day.
        from flowdesk.store.tables import ExecutionRow

        late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        with db.session() as s:
            s.add(ExecutionRow(workflow_id=wf.id, status="completed", started_at=late, completed_at=late))
        trend = MonitorQueries(db).execution_trend(
            wf.id, bucket="day", since=late - timedelta(days=1), until=late
        )
        assert [(e["start"], e["counts"]) for e in trend] == [
            (datetime(2026, 2, 28, tzinfo=UTC), {}),
            (datetime(2026, 3, 1, tzinfo=UTC), {"completed": 1}),
        ]
    finally:
        db.close()
    raw = postgres_server.query(_name(url), "SELECT created_at FROM workflow_definitions")[0][0]
    assert raw.utcoffset() is not None  # a real timestamp with time zone, not text


def test_read_sessions_see_one_snapshot_and_writers_queue(db):
    """A read sees the data as of its first query (as a SQLite read does); a second writer waits for the
    first instead of failing half-way."""
    from flowdesk.store.tables import WorkflowRow

    def count(session) -> int:
        return session.query(WorkflowRow).count()

    with db.session(read_only=True) as reader:
        assert count(reader) == 0
        with db.session() as writer:
            writer.add(WorkflowRow(name="meanwhile"))
        assert count(reader) == 0  # still the snapshot of its first query
    with db.session(read_only=True) as reader:
        assert count(reader) == 1

    order: list[str] = []
    first_has_lock = threading.Event()

    def second_writer() -> None:
        first_has_lock.wait(10)
        with db.session() as s:
            s.add(WorkflowRow(name="second"))
            s.flush()  # the transaction's first statement: it waits for the lock here
            order.append("second wrote")

    thread = threading.Thread(target=second_writer)
    thread.start()
    with db.session() as s:
        s.add(WorkflowRow(name="first"))
        s.flush()
        first_has_lock.set()
        thread.join(0.5)  # the second writer is waiting for the lock, not running
        order.append("first commits")
    thread.join(10)
    assert order == ["first commits", "second wrote"]


def test_values_postgresql_cannot_hold_are_refused_with_a_sentence(postgres_database):
    from flowdesk.services import WorkflowService

    db = Database(postgres_database())
    try:
        service = WorkflowService(db)
        with pytest.raises(InvalidInputError, match=r"^The database refused a value: .*NUL"):
            service.create_workflow("a\x00b")
        with pytest.raises(
            InvalidInputError, match=r"^The database refused a value: value too long .*\(255\)"
        ):
            service.create_workflow("x" * 256)
        assert service.list_workflows() == []  # nothing half-written
    finally:
        db.close()


def test_non_finite_numbers_in_json_are_stored_as_null(postgres_database):
    """PostgreSQL's json type refuses NaN and Infinity; they become null, as JSON.stringify writes them."""
    from flowdesk.services import WorkflowService

    db = Database(postgres_database())
    try:
        wf = WorkflowService(db).create_workflow("nan", config={"a": math.nan, "b": [math.inf, 1.5]})
        assert WorkflowService(db).get_workflow(wf.id).config == {"a": None, "b": [None, 1.5]}
    finally:
        db.close()


def test_metric_value_reads_only_numbers_a_double_can_hold(postgres_database):
    engine = create_engine(postgres_database())
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v, monitor_metric_value(v::json) FROM unnest(CAST(:values AS text[])) AS v ORDER BY v"
            ),
            {"values": ["5", "-2.5e3", "1e400", "1e-400", "1e99999", "0", "true", '"7"', "null", "[1]"]},
        ).all()
    engine.dispose()
    assert dict(rows) == {
        "5": 5.0,
        "-2.5e3": -2500.0,
        "1e400": None,
        "1e-400": None,
        "1e99999": None,
        "0": 0.0,
        "true": None,
        '"7"': None,
        "null": None,
        "[1]": None,
    }


# -- a database that cannot be opened ----------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


def test_an_unreachable_server_is_one_sentence_without_the_password():
    port = _closed_port()
    url = f"postgresql+psycopg://flowdesk:pa55word@127.0.0.1:{port}/flowdesk"
    with pytest.raises(DatabaseUnavailableError) as err:
        Database(url)
    assert str(err.value) == (
        f"Cannot connect to the database postgresql+psycopg://flowdesk:***@127.0.0.1:{port}/flowdesk:"
        " connection refused."
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_missing_database_says_so(postgres_server):
    with pytest.raises(DatabaseUnavailableError, match=r'database "no_such_db" does not exist\.$'):
        Database(postgres_server.url("no_such_db"))


def test_a_missing_driver_or_an_unknown_kind_of_database(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(DatabaseUnavailableError) as err:
        Database("postgresql+psycopg://u:secret@127.0.0.1/db")
    assert str(err.value) == (
        "Cannot open the database postgresql+psycopg://u:***@127.0.0.1/db: its driver (psycopg) is not"
        " installed (for PostgreSQL: pip install 'flowdesk[postgres]')."
    )
    with pytest.raises(DatabaseUnavailableError, match=r"works with SQLite and PostgreSQL, not mysql\.$"):
        Database("mysql://u:secret@127.0.0.1/db")
    for malformed in ("postgresql://u:secret@host:notaport/db", "://nothing"):
        with pytest.raises(InvalidInputError, match=r"is not a database URL \(use a file path") as err:
            Database(malformed)
        assert "secret" not in str(err.value)


def test_masked_url_and_repr(postgres_server, postgres_database):
    assert masked_url("postgresql+psycopg://u:p%40ss@h:5432/d") == "postgresql+psycopg://u:***@h:5432/d"
    assert masked_url("postgresql://h/d") == "postgresql://h/d"
    assert masked_url("not a url u:secret@host") == "not a url u:secret@host"
    assert masked_url("weird://u:secret@host[") == "weird://u:***@host["
    url = postgres_database().replace("postgres@", "postgres:pw@")  # trust login: the password is not checked
    with Database(url) as db:
        assert "pw" not in repr(db) and repr(db) == f"Database({masked_url(url)!r})"
        assert db.display_url == url.replace(":pw@", ":***@")
