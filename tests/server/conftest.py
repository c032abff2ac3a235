"""Fixtures of the server tests: `flowdesk serve` as a real process, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.plugin import database_name
from tests.support.server_process import ServerProcess


@pytest.fixture(scope="module")
def make_database(request, tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """`make(backend) -> db`: a fresh SQLite file, or a fresh migrated PostgreSQL database (dropped after)."""
    made: list[tuple[object, str]] = []

    def make(backend: str) -> str:
        if backend == "postgresql":
            server = request.getfixturevalue("postgres_server")
            template = request.getfixturevalue("postgres_template")
            name = database_name("serve")
            made.append((server, name))
            return str(server.create_database(name, template=template))
        return str(tmp_path_factory.mktemp("serve") / "flowdesk.db")

    yield make
    for server, name in made:
        server.drop_database(name)  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def server(request, make_database, tmp_path_factory) -> Iterator[ServerProcess]:
    """A running `flowdesk serve` without users (auth off, loopback), one per module and backend."""
    db = make_database(request.param)
    process = ServerProcess(db, log_dir=tmp_path_factory.mktemp("serve-log")).start()
    try:
        yield process
    finally:
        process.stop()
