"""Databases that cannot be written or are damaged: one sentence naming the file and what to do.

Read-only and full disks are real here: a small tmpfs, remounted read-only or filled to the last
byte (tests/support/mounts.py), because root passes chmod's checks and only a mount stops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.domain.errors import DatabaseUnavailableError
from flowdesk.interchange.workflow_file import read_workflow_file
from flowdesk.services.monitor import WorkflowMonitor
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from tests.support.mounts import small_disk

ROOT = Path(__file__).resolve().parents[2]
LOOP = ROOT / "resources" / "examples" / "loop.json"
SIMPLE = {
    "flowdesk": 1,
    "workflow": {"name": "simple"},
    "nodes": [
        {"name": "start", "node_type": "START"},
        {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}},
        {"name": "end", "node_type": "END"},
    ],
    "connections": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}],
}


def flowdesk(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FLOWDESK_DB"}
    env.update(
        {
            "PYTHONIOENCODING": "utf-8",
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_DATA_HOME": str(home / "data"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(db_path: Path) -> int:
    """A database with one workflow and one finished run; the workflow's id."""
    with Database(db_path) as db:
        graph = read_workflow_file(json.dumps(SIMPLE)).graph
        return WorkflowService(db).create_from_graph(graph).workflow.id


def test_a_read_only_mount_opens_read_only_for_reading_doors(tmp_path):
    home = tmp_path / "home"
    with small_disk(tmp_path / "disk") as disk:
        db_path = disk.path / "flowdesk.db"
        assert flowdesk("import", str(LOOP), "--db", str(db_path), home=home).returncode == 0
        assert (
            flowdesk("run", "1", "--db", str(db_path), "--input", '{"user_ids": []}', home=home).returncode
            == 0
        )
        disk.read_only()
        try:
            before = _sha(db_path)
            listed = flowdesk("list", "--db", str(db_path), "--json", home=home)
            assert (listed.returncode, listed.stderr) == (0, "")
            assert [w["name"] for w in json.loads(listed.stdout)] == ["Loop over users 循环"]
            exported = flowdesk("export", "1", "--db", str(db_path), home=home)
            assert exported.returncode == 0, exported.stderr
            assert json.loads(exported.stdout)["workflow"]["name"] == "Loop over users 循环"
            validated = flowdesk("validate", str(LOOP), "--db", str(db_path), home=home)
            assert validated.returncode == 0, validated.stderr

            with Database(db_path) as db:
                assert db.read_only and db.read_only_reason == "its file system is mounted read-only"

                async def watch():
                    async with WorkflowMonitor(db) as monitor:
                        return (
                            await monitor.get_execution_stats(1),
                            await monitor.get_active_executions(),
                            await monitor.get_custom_metrics(1, shape="seed"),
                        )

                stats, active, custom = asyncio.run(watch())
                assert stats["total_executions"] == 1 and active == [] and custom == {"custom_metrics": {}}
                with pytest.raises(DatabaseUnavailableError) as caught:
                    WorkflowService(db).create_from_graph(read_workflow_file(json.dumps(SIMPLE)).graph)
            assert str(caught.value) == (
                f"The database {db_path} is read-only (its file system is mounted read-only): it can be "
                "listed, exported and monitored but not changed; make it writable, or copy it somewhere "
                "writable and use --db."
            )

            ran = flowdesk("run", "1", "--db", str(db_path), "--input", '{"user_ids": []}', home=home)
            assert ran.returncode == 2
            assert ran.stderr == f"flowdesk: {caught.value}\n"
            assert _sha(db_path) == before
        finally:
            disk.writable()


def test_a_new_database_on_a_read_only_mount_is_refused_in_one_sentence(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        disk.read_only()
        try:
            result = flowdesk("list", "--db", str(disk.path / "new.db"), home=tmp_path / "home")
        finally:
            disk.writable()
    assert result.returncode == 2
    assert result.stderr == (
        f"flowdesk: Cannot create the database {disk.path / 'new.db'}: its file system is mounted "
        "read-only; choose a writable place with --db.\n"
    )


def test_a_full_disk_at_the_start_of_a_run_says_so_and_names_the_file(tmp_path):
    home = tmp_path / "home"
    with small_disk(tmp_path / "disk", size="2m") as disk:
        db_path = disk.path / "flowdesk.db"
        assert flowdesk("import", str(LOOP), "--db", str(db_path), home=home).returncode == 0
        disk.fill()
        ran = flowdesk("run", "1", "--db", str(db_path), "--input", '{"user_ids": [1]}', home=home)
        imported = flowdesk("import", str(LOOP), "--db", str(db_path), "--name", "again", home=home)
        (disk.path / "filler").unlink()
        with sqlite3.connect(db_path) as conn:
            runs = conn.execute("SELECT count(*) FROM workflow_executions").fetchone()[0]
    assert ran.returncode == 2, ran.stderr
    assert ran.stderr.startswith(f"flowdesk: The disk holding the database {db_path} is full (")
    assert ran.stderr.endswith(
        "bytes free): free some space, or move the database to another disk and use --db, then try again.\n"
    )
    assert "Traceback" not in ran.stderr and ran.stderr.count("\n") == 1
    assert imported.returncode == 2 and "is full" in imported.stderr
    assert runs == 0


def test_a_folder_given_as_the_database_exits_2(tmp_path):
    result = flowdesk("list", "--db", str(tmp_path), home=tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr == f"flowdesk: {tmp_path} is a folder, not a database file; name a file in it.\n"


def test_a_missing_folder_is_refused_and_nothing_is_created(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "flowdesk.db"
    result = flowdesk("list", "--db", str(missing), home=tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr == (
        f"flowdesk: The folder {missing.parent} does not exist; create it, or choose another place for "
        "the database.\n"
    )
    assert not (tmp_path / "no").exists()
    with pytest.raises(DatabaseUnavailableError):
        Database(missing)


def test_the_default_location_is_created(tmp_path):
    home = tmp_path / "home"
    result = flowdesk("list", home=home)
    assert result.returncode == 0, result.stderr
    assert (home / "data" / "flowdesk" / "flowdesk.db").is_file()


def test_a_failed_migration_exits_2_and_leaves_the_file_as_it_was(tmp_path):
    db_path = tmp_path / "old.db"
    _stored(db_path)
    with sqlite3.connect(db_path) as conn:  # claims an old schema while holding the new tables
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.close()
    first = sqlite3.connect(db_path).execute("SELECT version_num FROM alembic_version").fetchall()
    before = _sha(db_path)
    result = flowdesk("list", "--db", str(db_path), home=tmp_path / "home")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("flowdesk: The database could not be brought up to date (schema 0001 to ")
    assert result.stderr.endswith("It was left as it was.\n")
    assert _sha(db_path) == before and first == [("0001",)]


def test_two_rows_in_the_version_table_are_refused_as_damage_and_left_untouched(tmp_path):
    db_path = tmp_path / "damaged.db"
    _stored(db_path)
    with sqlite3.connect(db_path) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    conn.close()
    before = _sha(db_path)
    with pytest.raises(DatabaseUnavailableError) as caught:
        Database(db_path)
    assert str(caught.value) == (
        f"The database sqlite:///{db_path} is damaged: its schema version table (alembic_version) has 2 "
        f"rows ({revision}, 0001) where there is always one. It was not modified; restore a backup or "
        "remove the wrong row."
    )
    result = flowdesk("list", "--db", str(db_path), home=tmp_path / "home")
    assert (result.returncode, result.stderr) == (2, f"flowdesk: {caught.value}\n")
    assert _sha(db_path) == before
