"""pytest fixtures shared by every suite (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.http_server import LocalHttpServer


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
