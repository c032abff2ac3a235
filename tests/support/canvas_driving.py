"""Driving the editor window in the ui tests: the sample workflow opened in a tab (`open_sample_tab`,
or `open_sample_at_zoom_1` for tests that aim the mouse at scene points), items dropped from the
node palette, and what the palette offers."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph


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


def open_sample_tab(window, name="sample"):
    created = window.backend.workflows.create_from_graph(sample_graph(name))
    tab = window.open_workflow(created.workflow.id)
    QApplication.processEvents()
    return tab


def open_sample_at_zoom_1(window, name="sample"):
    created = window.backend.workflows.create_from_graph(sample_graph(name))
    tab = window.open_workflow(created.workflow.id)
    QApplication.processEvents()  # the deferred first fit-to-view runs now, not after set_zoom
    tab.view.set_zoom(1.0)
    tab.view.centerOn(QPointF(450, 130))
    QApplication.processEvents()
    return tab


def view_pos(tab, scene_point: QPointF) -> QPoint:
    return tab.view.mapFromScene(scene_point)


def drop_from_palette(window, tab, node_type: str, at: QPoint) -> None:
    palette = window.node_palette
    item = next(
        palette.item(i)
        for i in range(palette.count())
        if palette.item(i).data(Qt.ItemDataRole.UserRole) == node_type
    )
    mime = palette.mimeData([item])
    viewport = tab.view.viewport()
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(at), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()


def palette_rows(palette) -> list[tuple[str, str | None]]:
    return [
        (palette.item(i).text(), palette.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(palette.count())
    ]
