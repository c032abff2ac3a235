"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest

from flowdesk import cli


@pytest.fixture
def state_home(tmp_path) -> dict[str, str]:
    """Keep the log folder (platformdirs user_log_dir) inside the test's tmp_path."""
    return {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """Run the command in this process (fast): (exit code, stdout, stderr)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # never the user's own database
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def call(argv: list[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(argv)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return call
