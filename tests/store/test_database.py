"""Database: where it lives, schema creation and upgrade, refusal of newer databases, crash recovery."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect

from flowdesk.domain.errors import DatabaseTooNewError
from flowdesk.store import HEAD_REVISION, Database
from flowdesk.store.database import MIGRATIONS_DIR, this_host
from flowdesk.store.tables import Base
from tests.support.store_rows import EXPECTED_TABLES, insert_execution_row


@contextmanager
def _sqlite(path):
    """A plain sqlite3 connection that commits and, unlike `with sqlite3.connect()`, also closes."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def _revision(path) -> str | None:
    with _sqlite(path) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _upgrade_to(path, revision: str) -> None:
    """Bring a file to one revision with Alembic directly (as an older flowdesk would have left it)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def test_head_revision_constant_matches_the_migration_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_empty_database_is_migrated_to_head(db_path):
    db = Database(db_path)
    db.close()
    assert _revision(db_path) == HEAD_REVISION
    engine = create_engine(f"sqlite:///{db_path}")
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrated_schema_matches_the_orm_tables(db_path):
    """The hand-written migrations arrive at tables.py: every table, column (with its type) and index
    the ORM declares exists. Objects the database has beyond the ORM are allowed: later revisions may
    add SQL-only helpers (triggers, roll-up tables, expression indexes) that no ORM class maps."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(db_path)
    with db.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Skipped unsupported reflection of expression-based index"
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.close()

    def flatten(items):
        for item in items:
            yield from flatten(item) if isinstance(item, list) else [item]

    missing_or_different = [d for d in flatten(diffs) if not str(d[0]).startswith("remove_")]
    assert missing_or_different == []


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_pragmas_wal_foreign_keys_busy_timeout(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_upgrade_from_previous_revision_keeps_data(db_path):
    _upgrade_to(db_path, "0001")
    with _sqlite(db_path) as conn:
        conn.execute(
            "INSERT INTO workflow_definitions (id, name, description, version, config, tags, is_active,"
            " created_at, updated_at) VALUES (7, 'kept', 'd', '2.0', '{\"timeout\": 5}', '[\"t\"]', 1,"
            " '2026-01-02 03:04:05.000000', '2026-01-02 03:04:05.000000')"
        )
        conn.execute(
            "INSERT INTO workflow_executions (id, workflow_id, status, progress, started_at, created_at)"
            " VALUES (3, 7, 'completed', 1.0, '2026-01-02 03:04:06.000000', '2026-01-02 03:04:06.000000')"
        )
        conn.execute(
            "INSERT INTO workflow_execution_logs (execution_id, step_name, status, attempts, sequence, created_at)"
            " VALUES (3, 's', 'success', 1, 0, '2026-01-02 03:04:06.000000')"
        )
    assert _revision(db_path) == "0001"

    db = Database(db_path)
    from flowdesk.services import ExecutionService, WorkflowService

    workflow = WorkflowService(db).get_workflow(7)
    assert (workflow.name, workflow.version, workflow.config, workflow.tags) == (
        "kept",
        "2.0",
        {"timeout": 5},
        ["t"],
    )
    assert workflow.is_active and workflow.created_at.tzinfo is UTC
    assert workflow.created_at.isoformat() == "2026-01-02T03:04:05+00:00"
    assert [log.step_name for log in ExecutionService(db).get_logs(3)] == ["s"]
    db.close()
    assert _revision(db_path) == HEAD_REVISION
    with _sqlite(db_path) as conn:
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name='workflow_executions'")
        }
    assert "ix_workflow_executions_workflow_id_started_at" in indexes
    assert "ix_workflow_executions_workflow_id" not in indexes


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_failed_upgrade_leaves_the_database_as_it_was(db_path):
    """Migration runs in one transaction: a failure half-way leaves revision 0001 and its tables intact."""
    _upgrade_to(db_path, "0001")
    with _sqlite(db_path) as conn:
        # Sabotage 0002: its first step drops this index, its second creates one whose name is taken.
        conn.execute("CREATE TABLE clash (x INTEGER)")
        conn.execute("CREATE INDEX ix_workflow_executions_status ON clash (x)")
    before = _sha(db_path)
    from flowdesk.domain.errors import FlowdeskError

    with pytest.raises(FlowdeskError, match="could not be brought up to date"):
        Database(db_path)
    assert _revision(db_path) == "0001"
    with _sqlite(db_path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ix_workflow_executions_workflow_id" in names  # the drop was rolled back
    assert _sha(db_path) == before


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_newer_database_is_refused_and_not_modified(db_path):
    Database(db_path).close()
    with _sqlite(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    for suffix in ("-wal", "-shm"):
        assert not os.path.exists(f"{db_path}{suffix}")
    before = _sha(db_path)
    with pytest.raises(DatabaseTooNewError) as err:
        Database(db_path)
    assert str(err.value) == (
        "This database was written by a newer version of flowdesk (schema 9999); "
        f"this version knows up to {HEAD_REVISION}. It was not modified."
    )
    assert _sha(db_path) == before
    assert _revision(db_path) == "9999"


@pytest.mark.sqlite_only  # the file itself; tests/store/test_postgresql.py has PostgreSQL's
def test_newer_database_in_rollback_journal_mode_stays_byte_identical(db_path):
    """Refusal happens before WAL is switched on, so even the journal-mode header bytes stay put."""
    Database(db_path).close()
    with _sqlite(db_path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")
    before = _sha(db_path)
    with pytest.raises(DatabaseTooNewError):
        Database(db_path)
    assert _sha(db_path) == before


def test_reopening_an_up_to_date_database_leaves_alembic_alone(db_path, backend, monkeypatch):
    """What keeps a reopen fast, checked without a clock: Alembic (its script directory and upgrade
    command) runs when the schema is behind, never on opening an up-to-date database."""
    from alembic import command
    from alembic.script import ScriptDirectory

    used: list[str] = []
    load_scripts = ScriptDirectory.from_config.__func__
    upgrade = command.upgrade

    def spied_load_scripts(cls, config, *args, **kwargs):
        used.append("script directory")
        return load_scripts(cls, config, *args, **kwargs)

    def spied_upgrade(config, revision, *args, **kwargs):
        used.append("upgrade")
        return upgrade(config, revision, *args, **kwargs)

    monkeypatch.setattr(ScriptDirectory, "from_config", classmethod(spied_load_scripts))
    monkeypatch.setattr(command, "upgrade", spied_upgrade)
    Database(db_path).close()
    if backend == "sqlite":  # a new file: the spies see the one migration (PostgreSQL's is done already)
        assert set(used) == {"script directory", "upgrade"}
    used.clear()
    for _ in range(3):
        Database(db_path).close()
    assert used == []


@pytest.mark.perf
def test_reopening_an_up_to_date_database_is_fast(db_path):
    Database(db_path).close()
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        Database(db_path).close()
        timings.append(time.perf_counter() - start)
    # A generous bound (the measured median is ~3 ms): it fails only if Alembic runs on every open.
    assert sorted(timings)[3] < 0.05


def test_flowdesk_db_environment_variable(tmp_path, monkeypatch):
    target = tmp_path / "from-env" / "env.db"
    monkeypatch.setenv("FLOWDESK_DB", str(target))
    db = Database()
    db.close()
    assert db.path == target.resolve()
    assert target.exists()


def test_default_location_is_the_user_data_dir(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("FLOWDESK_DB", raising=False)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "data" / "flowdesk"))
    db = Database()
    db.close()
    assert db.path == (tmp_path / "data" / "flowdesk" / "flowdesk.db").resolve()
    assert db.path.exists()


def test_sqlalchemy_url_is_accepted(tmp_path):
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    db = Database(url)
    db.close()
    assert db.url == url
    assert (tmp_path / "by-url.db").exists()


def test_in_memory_database_works_across_threads():
    import threading

    from flowdesk.services import WorkflowService

    db = Database("sqlite://")
    service = WorkflowService(db)
    created = []
    thread = threading.Thread(target=lambda: created.append(service.create_workflow("in a thread")))
    thread.start()
    thread.join()
    assert service.get_workflow(created[0].id).name == "in a thread"
    db.close()


def test_session_rolls_back_on_error(db):
    from flowdesk.store.tables import WorkflowRow

    with pytest.raises(RuntimeError):
        with db.session() as session:
            session.add(WorkflowRow(name="never"))
            session.flush()
            raise RuntimeError("boom")
    with db.session(read_only=True) as session:
        assert session.query(WorkflowRow).count() == 0


# -- crash recovery -------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_crash_recovery_marks_runs_of_dead_processes_interrupted(db_path):
    from flowdesk.services import AuditService, ExecutionService

    Database(db_path).close()
    dead = _dead_pid()
    crashed = insert_execution_row(db_path, "running", dead, this_host())
    paused = insert_execution_row(db_path, "paused", dead, this_host())
    alive = insert_execution_row(db_path, "running", os.getpid(), this_host())
    elsewhere = insert_execution_row(db_path, "running", dead, "some-other-host")
    finished = insert_execution_row(db_path, "completed", dead, this_host())
    # This process's pid, but the run is older than this process: another program had the pid then.
    reused = insert_execution_row(
        db_path, "running", os.getpid(), this_host(), created=datetime(2020, 1, 1, tzinfo=UTC)
    )

    db = Database(db_path)
    executions = ExecutionService(db)
    for execution_id, pid in ((crashed, dead), (paused, dead), (reused, os.getpid())):
        run = executions.get_execution(execution_id)
        assert run.status == "interrupted"
        assert run.error_message == f"Interrupted: the process running it (pid {pid}) stopped."
        assert run.completed_at is not None
        assert [log.status for log in executions.get_logs(execution_id)] == ["cancelled"]
    assert executions.get_execution(alive).status == "running"
    assert executions.get_execution(elsewhere).status == "running"
    assert executions.get_execution(finished).status == "completed"
    audited = {e.entity_id for e in AuditService(db).list_entries(entity="execution")}
    assert audited == {crashed, paused, reused}
    assert db.recover_interrupted() == []  # nothing left to recover
    db.close()


def test_two_processes_write_at_once(db_path):
    """WAL + BEGIN IMMEDIATE + busy timeout: concurrent writers queue instead of failing."""
    from flowdesk.services import WorkflowService

    Database(db_path).close()
    script = (
        "import sys; from flowdesk.store import Database; from flowdesk.services import WorkflowService\n"
        "db = Database(sys.argv[1]); s = WorkflowService(db)\n"
        "for i in range(40):\n"
        "    wf = s.create_workflow(f'child {i}'); s.add_node(wf.id, 'start', 'START')\n"
        "db.close()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(db_path)], stderr=subprocess.PIPE, text=True)
    db = Database(db_path)
    service = WorkflowService(db)
    for i in range(40):
        wf = service.create_workflow(f"parent {i}")
        service.add_node(wf.id, "start", "START")
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    names = [w.name for w in service.list_workflows()]
    db.close()
    assert sorted(names) == sorted([f"child {i}" for i in range(40)] + [f"parent {i}" for i in range(40)])


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    """The driver's error goes up as is (the CLI and the app turn DBAPIError into one sentence)."""
    from sqlalchemy.exc import DBAPIError

    junk = tmp_path / "notes.db"
    junk.write_bytes(b"these are my notes, not a database" * 100)
    before = _sha(junk)
    with pytest.raises(DBAPIError, match="file is not a database"):
        Database(junk)
    assert _sha(junk) == before


def test_a_folder_is_not_a_database(tmp_path):
    from flowdesk.domain.errors import FlowdeskError

    with pytest.raises(FlowdeskError, match="is a folder, not a database file"):
        Database(tmp_path)
