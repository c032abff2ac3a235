"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def state_home(tmp_path) -> dict[str, str]:
    """Keep the log folder (platformdirs user_log_dir) inside the test's tmp_path."""
    return {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
