"""pytest fixtures shared by every suite (registered in tests/conftest.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from tests.support.http_server import LocalHttpServer
from tests.support.postgres import PostgresServer, find_bindir
from tests.support.redis_server import RedisServer, find_redis_server


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalHttpServer]:
    """The local test HTTP server (tests/support/http_server.py) on 127.0.0.1, one per session.

    `.url` is its base URL; `.count(key)` and `.reset()` read and clear its counters. Tests that
    use counters should use keys of their own (e.g. the test's name) rather than reset them.
    """
    server = LocalHttpServer().start()
    try:
        yield server
    finally:
        server.stop()


# -- PostgreSQL ------------------------------------------------------------------------------------

REQUIRE_POSTGRES = "FLOWDESK_REQUIRE_POSTGRES"


def _no_postgres(reason: str) -> None:
    """Skip the test, or fail it when the environment says PostgreSQL must be there (CI)."""
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(
            f"{reason}, and {REQUIRE_POSTGRES}=1 requires the PostgreSQL tests to run.", pytrace=False
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 for this test session (one per xdist worker).

    Skips the tests that need it when no server binaries or no psycopg are found, unless
    FLOWDESK_REQUIRE_POSTGRES=1 (then they fail).
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _no_postgres("psycopg is not installed (pip install -e '.[test]')")
    bindir = find_bindir()
    if bindir is None:
        _no_postgres(
            "No PostgreSQL server found (initdb/pg_ctl not on PATH, not from pg_config --bindir,"
            " not in /usr/lib/postgresql/*/bin)"
        )
    assert bindir is not None
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _no_postgres("Running as root, but there is no 'postgres' user to run the test server as")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


_counter = itertools.count(1)


def database_name(prefix: str) -> str:
    """A database name unique within the session and across xdist workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{os.getpid()}_{next(_counter)}"


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a database migrated to the newest schema, copied for each test that wants one."""
    from flowdesk.store import Database

    name = database_name("template")
    Database(postgres_server.create_database(name)).close()
    return name


@pytest.fixture
def postgres_database(
    postgres_server: PostgresServer, postgres_template: str
) -> Iterator[Callable[..., str]]:
    """`make(migrated=True) -> url`: a fresh database of this test (a copy of the migrated template,
    or empty), dropped when the test ends."""
    made: list[str] = []

    def make(migrated: bool = True) -> str:
        name = database_name("test")
        made.append(name)
        return postgres_server.create_database(name, template=postgres_template if migrated else None)

    yield make
    for name in made:
        postgres_server.drop_database(name)


# -- Redis -----------------------------------------------------------------------------------------

REQUIRE_REDIS = "FLOWDESK_REQUIRE_REDIS"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server on 127.0.0.1 for this test session (the workers' broker).

    Skips the tests that need it when redis-server is not installed, unless FLOWDESK_REQUIRE_REDIS=1
    (then they fail), as the PostgreSQL fixtures do.
    """
    program = find_redis_server()
    if program is None:
        reason = "redis-server is not installed (Debian package redis-server)"
        if os.environ.get(REQUIRE_REDIS) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_REDIS}=1 requires the worker tests to run.", pytrace=False)
        pytest.skip(reason)
    assert program is not None
    server = RedisServer(program).start()
    try:
        yield server
    finally:
        server.stop()
