"""pytest fixtures shared by every suite (registered in tests/conftest.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.certificates import Certificates, make_certificates
from tests.support.http_server import LocalHttpServer
from tests.support.postgres import PostgresServer, find_bindir
from tests.support.proxy import TinyProxy, find_tinyproxy
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


# -- a forward proxy (tinyproxy) and a TLS server with certificates made at test time -----------------

REQUIRE_PROXY = "FLOWDESK_REQUIRE_PROXY"


def _no_proxy(reason: str) -> None:
    """Skip the test, or fail it when the environment says the proxy tests must run (CI)."""
    if os.environ.get(REQUIRE_PROXY) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_PROXY}=1 requires the proxy tests to run.", pytrace=False)
    pytest.skip(reason)


def _tinyproxy(tmp_path_factory: pytest.TempPathFactory, auth: tuple[str, str] | None) -> Iterator[TinyProxy]:
    if find_tinyproxy() is None:
        _no_proxy("tinyproxy is not installed (apt-get install tinyproxy)")
    proxy = TinyProxy(tmp_path_factory.mktemp("tinyproxy"), auth=auth).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def tinyproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyProxy]:
    """tinyproxy on 127.0.0.1 without auth (skipped when not installed, unless FLOWDESK_REQUIRE_PROXY=1)."""
    yield from _tinyproxy(tmp_path_factory, None)


@pytest.fixture(scope="session")
def tinyproxy_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyProxy]:
    """tinyproxy on 127.0.0.1 asking for Basic auth (user `proxyuser`, password `proxy-pass-9271`)."""
    yield from _tinyproxy(tmp_path_factory, ("proxyuser", "proxy-pass-9271"))


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made for this session."""
    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="session")
def tls_server(certificates: Certificates) -> Iterator[LocalHttpServer]:
    """The test app over https on 127.0.0.1, requiring a client certificate signed by the test CA."""
    import ssl

    server = LocalHttpServer(
        tls={
            "ssl_certfile": str(certificates.server_cert),
            "ssl_keyfile": str(certificates.server_key),
            "ssl_ca_certs": str(certificates.ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tls_server_open(certificates: Certificates) -> Iterator[LocalHttpServer]:
    """The test app over https on 127.0.0.1 with the test CA's certificate, no client certificate asked."""
    server = LocalHttpServer(
        tls={"ssl_certfile": str(certificates.server_cert), "ssl_keyfile": str(certificates.server_key)}
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def h2_server(certificates: Certificates) -> Iterator[Any]:
    """An HTTP/2-only server over TLS on 127.0.0.1 (tests/support/h2_server.py), the test CA's certificate."""
    from tests.support.h2_server import Http2Server

    server = Http2Server(certificates.server_cert, certificates.server_key).start()
    try:
        yield server
    finally:
        server.stop()


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
