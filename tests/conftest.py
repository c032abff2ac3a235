"""Shared fixtures. Tests run Qt offscreen and never reach beyond 127.0.0.1."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("FLOWDESK_DB", None)

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI explores the same examples every time (a failure there is reproducible, never a coin toss);
# a developer's run explores new ones. No deadlines: a shared 2-core machine stalls at random.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Shared fixtures (e.g. `http_server`, the local test HTTP server) live in tests/support/plugin.py.
pytest_plugins = ["tests.support.plugin"]


@pytest.fixture
def db_path(tmp_path):
    """Path of a fresh SQLite database file for one test."""
    return tmp_path / "flowdesk-test.db"


@pytest.fixture
def db(db_path):
    """An opened, migrated Database on a fresh SQLite file."""
    from flowdesk.store import Database

    database = Database(db_path)
    yield database
    database.close()
