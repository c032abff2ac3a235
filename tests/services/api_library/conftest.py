"""Fixtures for the API library tests: the secrets key lives in tmp_path, never in the user's folders."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "interchange" / "fixtures" / "api"


@pytest.fixture(autouse=True)
def key_file(tmp_path, monkeypatch) -> Path:
    """The secrets key file of this test (the OS keyring is turned off)."""
    path = tmp_path / "config" / "secrets.key"
    monkeypatch.setenv("FLOWDESK_KEY_FILE", str(path))
    monkeypatch.setenv("FLOWDESK_KEYRING", "0")
    return path


def raw_database_bytes(db_path: Path | str) -> bytes:
    """Everything the database holds, as bytes to search for secrets: the SQLite file and its
    -wal/-journal side files; on PostgreSQL a pg_dump of the database, with every bytea value also
    decoded from its hex form (so a plaintext secret in a binary column is found too)."""
    if isinstance(db_path, str) and db_path.startswith("postgresql"):
        return _postgres_dump_bytes(db_path)
    data = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def _postgres_dump_bytes(url: str) -> bytes:
    from sqlalchemy.engine import make_url

    from tests.support.postgres import find_bindir, tool

    parsed, bindir = make_url(url), find_bindir()
    assert bindir is not None
    dump = subprocess.run(
        [tool(bindir, "pg_dump"), "-h", str(parsed.host), "-p", str(parsed.port), "-U", str(parsed.username),
         str(parsed.database)],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert b"COPY public.secrets" in dump  # a dump that holds the tables, not an empty answer
    decoded = b"".join(bytes.fromhex(h.decode()) for h in re.findall(rb"\\\\x((?:[0-9a-f]{2})+)", dump))
    return dump + decoded
