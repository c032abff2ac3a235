"""Fixtures for the editor tests: a temporary database, settings and autosave folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import flowdesk.ui  # noqa: F401  (installs the None refcount guard before any painting)

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture
def backend(tmp_path):
    from flowdesk.ui.backend import EditorBackend

    b = EditorBackend(tmp_path / "editor.db")
    yield b
    b.close()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, backend, settings, tmp_path):
    from flowdesk.ui.main_window import MainWindow

    w = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600)
    w.show()
    qtbot.waitExposed(w)
    yield w
    # Closed here rather than by qtbot.addWidget: pytest-qt closes its widgets before fixture
    # teardown, when a dirty tab would still ask "save changes?".
    for tab in w.editor_tabs():
        tab.doc.undo_stack.setClean()
    w.close()
    w.deleteLater()


def snapshot(doc) -> tuple:
    """Everything the document holds, comparable with ==."""
    nodes = tuple((n.uid, n.name, n.node_type, repr(n.config), n.x, n.y, n.description) for n in doc.nodes())
    conns = tuple(
        (c.uid, c.source, c.target, c.connection_type.value, c.condition, repr(c.config))
        for c in doc.connections()
    )
    return nodes, conns, repr(doc.workflow_properties())
