"""Fixtures for the API library dock tests: key file in tmp_path, a qasync loop for "Send"."""

from __future__ import annotations

import pytest

import flowdesk.ui  # noqa: F401  (installs the None refcount guard before any painting)
from tests.support.qt_loop import qloop, qloop_session  # noqa: F401  (the run UI's qasync loop fixtures)


@pytest.fixture(autouse=True)
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "secrets.key"
    monkeypatch.setenv("FLOWDESK_KEY_FILE", str(path))
    monkeypatch.setenv("FLOWDESK_KEYRING", "0")
    return path


@pytest.fixture
def panel(qtbot, db):
    from flowdesk.ui.api_library import ApiLibraryPanel

    widget = ApiLibraryPanel(db)
    widget.resize(420, 720)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
