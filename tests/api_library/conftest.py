"""Fixtures for the API library tests: the secrets key lives in tmp_path, never in the user's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "interchange" / "fixtures" / "api"


@pytest.fixture(autouse=True)
def key_file(tmp_path, monkeypatch) -> Path:
    """The secrets key file of this test (the OS keyring is turned off)."""
    path = tmp_path / "config" / "secrets.key"
    monkeypatch.setenv("FLOWDESK_KEY_FILE", str(path))
    monkeypatch.setenv("FLOWDESK_KEYRING", "0")
    return path


def raw_database_bytes(db_path: Path) -> bytes:
    """The SQLite file and its -wal/-journal side files, as raw bytes (for searching secrets)."""
    data = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data
