"""Helpers the app tests share: workflows to open, the app window, its actions and the run dialog.

Plain functions (the fixtures stay in each folder's conftest.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

import flowdesk.ui  # noqa: F401  (installs the None refcount guard before any painting)
from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph


def chain_graph(name: str, middle: list[Node]) -> WorkflowGraph:
    """START -> middle nodes in order -> END, laid out left to right."""
    nodes = [Node(name="start", node_type=NodeType.START, position_x=0, position_y=100)]
    for i, node in enumerate(middle):
        nodes.append(node.model_copy(update={"position_x": 260 * (i + 1), "position_y": 100}))
    nodes.append(Node(name="end", node_type=NodeType.END, position_x=260 * (len(middle) + 1), position_y=100))
    conns = [Connection(from_node=a.name, to_node=b.name) for a, b in zip(nodes, nodes[1:], strict=False)]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=conns)


def delay(name: str, seconds: float = 0) -> Node:
    return Node(name=name, node_type=NodeType.DELAY, config={"seconds": seconds})


def api(name: str, url: str, **config) -> Node:
    return Node(name=name, node_type=NodeType.API_CALL, config={"method": "GET", "url": url, **config})


def branch_graph(name: str, base_url: str) -> WorkflowGraph:
    """START -> check (CONDITION on input.x) -> TRUE: fetch (API) / FALSE: wait (DELAY) -> END."""
    nodes = [
        Node(name="start", node_type=NodeType.START, position_x=0, position_y=100),
        Node(
            name="check",
            node_type=NodeType.CONDITION,
            config={"condition": "{{input.x}} > 1"},
            position_x=260,
            position_y=100,
        ),
        Node(
            name="fetch",
            node_type=NodeType.API_CALL,
            config={"method": "GET", "url": f"{base_url}/users/7"},
            position_x=520,
            position_y=0,
        ),
        Node(name="wait", node_type=NodeType.DELAY, config={"seconds": 0}, position_x=520, position_y=220),
        Node(name="end", node_type=NodeType.END, position_x=800, position_y=100),
    ]
    conns = [
        Connection(from_node="start", to_node="check"),
        Connection(from_node="check", to_node="fetch", connection_type=ConnectionType.CONDITIONAL_TRUE),
        Connection(from_node="check", to_node="wait", connection_type=ConnectionType.CONDITIONAL_FALSE),
        Connection(from_node="fetch", to_node="end"),
        Connection(from_node="wait", to_node="end"),
    ]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=conns)


def open_graph(window, graph: WorkflowGraph):
    """Store `graph` and open it in a tab; returns the tab."""
    created = window.backend.workflows.create_from_graph(graph)
    window.browser.refresh()
    return window.open_workflow(created.workflow.id)


def action(window, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def give_input(qtbot, window, text: str = "{}") -> None:
    """Type the input into the run dialog and accept it with Ctrl+Enter."""
    dialog = window.run_ui.input_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.editor.setPlainText(text)
    qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def run_and_wait(qtbot, window, tab, text: str = "{}", timeout: int = 15_000):
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    with qtbot.waitSignal(controller.run_finished, timeout=timeout) as blocker:
        give_input(qtbot, window, text)
    return blocker.args[0]


def make_window(qtbot, backend, settings, tmp_path, *, run_ui: bool = False):
    from flowdesk.ui.main_window import MainWindow

    w = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600)
    if run_ui:
        from flowdesk.ui.run import install_run_ui

        install_run_ui(w, load_plugins=False)
    w.show()
    qtbot.waitExposed(w)
    return w


def close_window(w) -> None:
    for tab in w.editor_tabs():
        tab.doc.undo_stack.setClean()
    w.close()
    w.deleteLater()


def open_monitor(qtbot, window):
    host = window.monitor_host
    action = window.findChild(type(host.action_monitor), "actionMonitor")
    assert action is host.action_monitor and action.isEnabled()
    action.trigger()
    view = host.current_view()
    assert view is not None
    return view


def click_node(qtbot, tab, name: str, *, double: bool = False) -> None:
    """Click (or double-click) the middle of node `name` on the tab's canvas, as a user does."""
    from PySide6.QtCore import QPointF

    from flowdesk.ui.canvas.node_item import NODE_HEIGHT, NODE_WIDTH

    node = tab.doc.node_by_name(name)
    pos = tab.view.mapFromScene(QPointF(node.x + NODE_WIDTH / 2, node.y + NODE_HEIGHT / 2))
    click = qtbot.mouseDClick if double else qtbot.mouseClick
    click(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
