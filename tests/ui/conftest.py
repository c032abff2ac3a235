"""Fixtures for the editor tests: a temporary database, settings and autosave folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import flowdesk.ui  # noqa: F401  (installs the None refcount guard before any painting)
from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph

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


def sample_graph(name: str = "sample") -> WorkflowGraph:
    """START -> check (CONDITION) -> yes/no (DELAY) -> END, laid out left to right."""
    nodes = [
        Node(name="start", node_type=NodeType.START, position_x=0, position_y=100),
        Node(
            name="check",
            node_type=NodeType.CONDITION,
            config={"condition": "{{input.x}} > 1"},
            position_x=300,
            position_y=100,
        ),
        Node(name="yes", node_type=NodeType.DELAY, config={"seconds": 0}, position_x=600, position_y=0),
        Node(name="no", node_type=NodeType.DELAY, config={"seconds": 0}, position_x=600, position_y=200),
        Node(name="end", node_type=NodeType.END, position_x=900, position_y=100),
    ]
    conns = [
        Connection(from_node="start", to_node="check"),
        Connection(from_node="check", to_node="yes", connection_type=ConnectionType.CONDITIONAL_TRUE),
        Connection(from_node="check", to_node="no", connection_type=ConnectionType.CONDITIONAL_FALSE),
        Connection(from_node="yes", to_node="end"),
        Connection(from_node="no", to_node="end"),
    ]
    return WorkflowGraph(workflow=Workflow(name=name, tags=["t1"]), nodes=nodes, connections=conns)


def snapshot(doc) -> tuple:
    """Everything the document holds, comparable with ==."""
    nodes = tuple((n.uid, n.name, n.node_type, repr(n.config), n.x, n.y, n.description) for n in doc.nodes())
    conns = tuple(
        (c.uid, c.source, c.target, c.connection_type.value, c.condition, repr(c.config))
        for c in doc.connections()
    )
    return nodes, conns, repr(doc.workflow_properties())
