"""Shared fixtures. Tests run Qt offscreen and never reach beyond 127.0.0.1."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("FLOWDESK_DB", None)
# Calls go where the tests say: a proxy of the developer's shell must not take the 127.0.0.1 calls
# (the proxy tests set these themselves).
for _name in [n for n in os.environ if n.lower().endswith("_proxy")]:  # http_proxy, NO_PROXY, ftp_proxy...
    os.environ.pop(_name, None)

# The user's own folders stay untouched, and so do other checkouts' test runs on the same machine:
# the default database, the secrets key, autosaves and the log of every test (and of the processes
# tests start) live in one temporary folder per session. (A shared default database, migrated by a
# newer branch's run, made `validate` refuse it: "written by a newer version of flowdesk".)
_USER_FOLDERS = tempfile.mkdtemp(prefix="flowdesk-tests-home-")
atexit.register(shutil.rmtree, _USER_FOLDERS, ignore_errors=True)
for _variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_variable] = os.path.join(_USER_FOLDERS, _variable.lower())

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI explores the same examples every time (a failure there is reproducible, never a coin toss);
# a developer's run explores new ones. No deadlines: a shared 2-core machine stalls at random.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Shared fixtures (e.g. `http_server`, the local test HTTP server) live in tests/support/plugin.py.
pytest_plugins = ["tests.support.plugin"]


#: Where the database-facing tests live: each test there that uses `backend` (through `db_path` or
#: `db`) runs once on SQLite and once on PostgreSQL, unless it is marked `sqlite_only`.
BOTH_BACKENDS = (
    "tests/store",
    "tests/services",
    "tests/services/api_library",
    "tests/services/monitoring/test_figures.py",
    "tests/services/monitoring/test_retention.py",
    "tests/services/monitoring/test_percentiles_and_backfill.py",
    "tests/engine/test_persistence.py",
    "tests/engine/test_writer.py",
    "tests/worker/test_resume_claim.py",
)


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself (files, PRAGMA, WAL)")
    config.addinivalue_line("markers", "postgresql: the test runs against the throwaway PostgreSQL server")


def pytest_collection_modifyitems(items):
    for item in items:
        if "postgres_server" in item.fixturenames and not item.get_closest_marker("postgresql"):
            item.add_marker(pytest.mark.postgresql)


def _on_both_backends(metafunc) -> bool:
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return False
    where = metafunc.definition.path.relative_to(metafunc.config.rootpath).as_posix()
    return any(where == p or where.startswith(p + "/") for p in BOTH_BACKENDS)


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and _on_both_backends(metafunc):
        metafunc.parametrize(
            "backend",
            ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
            indirect=True,
        )


@pytest.fixture
def backend(request) -> str:
    """ "sqlite" or "postgresql": the database the test's `db_path` / `db` are on (SQLite elsewhere)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(request, backend, tmp_path):
    """Where a fresh database lives: a SQLite file path (not created yet), or on PostgreSQL the URL of
    a fresh database of this test, already migrated."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_database")()
    return tmp_path / "flowdesk-test.db"


@pytest.fixture
def db(db_path):
    """An opened, migrated Database on a fresh SQLite file (or PostgreSQL database)."""
    from flowdesk.store import Database

    database = Database(db_path)
    yield database
    database.close()
