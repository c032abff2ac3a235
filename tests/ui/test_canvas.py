"""Driving the canvas as a user: drop from the palette, connect ports with the mouse, move, delete,
copy/paste, undo/redo, zoom."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.ui.canvas.node_item import NODE_HEIGHT, NODE_WIDTH
from tests.support.canvas_driving import drop_from_palette, open_sample_at_zoom_1, view_pos

from .conftest import snapshot


def drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 6) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        qtbot.mouseMove(widget, pos=QPoint(round(p.x()), round(p.y())))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def test_drop_from_palette_adds_node_where_dropped(window):
    tab = open_sample_at_zoom_1(window)
    before = len(tab.doc.nodes())
    at = view_pos(tab, QPointF(300, 400))
    drop_from_palette(window, tab, NodeType.DELAY, at)
    drop_from_palette(window, tab, NodeType.DELAY, view_pos(tab, QPointF(600, 400)))
    nodes = tab.doc.nodes()
    assert len(nodes) == before + 2
    first, second = nodes[-2], nodes[-1]
    assert (first.name, second.name) == ("Delay", "Delay 2")
    # centred on the drop point (snapped to the 20 px grid)
    assert abs(first.x + NODE_WIDTH / 2 - 300) <= 10 and abs(first.y + NODE_HEIGHT / 2 - 400) <= 10
    assert first.node_type == NodeType.DELAY
    assert first.uid in tab.scene.node_items
    tab.doc.undo_stack.undo()
    assert len(tab.doc.nodes()) == before + 1


def test_connect_two_ports_with_the_mouse(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    drop_from_palette(window, tab, NodeType.DELAY, view_pos(tab, QPointF(450, 400)))
    new = tab.doc.nodes()[-1]
    yes_item = tab.scene.node_items[tab.doc.node_by_name("yes").uid]
    new_item = tab.scene.node_items[new.uid]
    start = view_pos(tab, yes_item.output_pos(0))
    end = view_pos(tab, new_item.input_pos())
    drag(qtbot, tab.view.viewport(), start, end)
    conns = tab.doc.connections()
    assert len(conns) == 6
    made = conns[-1]
    assert (made.source, made.target) == (yes_item.uid, new.uid)
    assert made.connection_type == ConnectionType.SEQUENCE
    assert made.uid in tab.scene.connection_items


def test_condition_ports_make_true_and_false_connections(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    check = tab.scene.node_items[tab.doc.node_by_name("check").uid]
    drop_from_palette(window, tab, NodeType.END, view_pos(tab, QPointF(450, 420)))
    target = tab.scene.node_items[tab.doc.nodes()[-1].uid]
    drag(qtbot, tab.view.viewport(), view_pos(tab, check.output_pos(1)), view_pos(tab, target.input_pos()))
    assert tab.doc.connections()[-1].connection_type == ConnectionType.CONDITIONAL_FALSE


def test_invalid_connection_is_refused_with_the_reason(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    yes_item = tab.scene.node_items[tab.doc.node_by_name("yes").uid]
    check_item = tab.scene.node_items[tab.doc.node_by_name("check").uid]
    messages = []
    tab.status_message.connect(messages.append)
    before = snapshot(tab.doc)
    # yes -> check would close a cycle without a LOOP
    drag(
        qtbot,
        tab.view.viewport(),
        view_pos(tab, yes_item.output_pos(0)),
        view_pos(tab, check_item.input_pos()),
    )
    assert snapshot(tab.doc) == before
    assert any("cycle" in m for m in messages)
    assert "cycle" in window.statusBar().currentMessage()


def test_move_node_with_mouse_is_one_undo_step(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    node = tab.doc.node_by_name("yes")
    start_xy = (node.x, node.y)
    item = tab.scene.node_items[node.uid]
    centre = view_pos(tab, item.pos() + QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2))
    count = tab.doc.undo_stack.count()
    drag(qtbot, tab.view.viewport(), centre, centre + QPoint(100, 60), steps=8)
    moved = tab.doc.node(node.uid)
    assert (moved.x, moved.y) == (start_xy[0] + 100, start_xy[1] + 60)
    assert tab.doc.undo_stack.count() == count + 1
    # the connections followed the node
    link = tab.scene._node_links[node.uid][0]
    assert link.boundingRect().contains(item.input_pos()) or link.boundingRect().contains(item.output_pos(0))
    tab.doc.undo_stack.undo()
    assert (tab.doc.node(node.uid).x, tab.doc.node(node.uid).y) == start_xy
    assert (item.x(), item.y()) == start_xy


def test_rubber_band_select_then_delete_key_then_undo(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    before = snapshot(tab.doc)
    # band around yes and no (x 600..784, y 0..264)
    a = view_pos(tab, QPointF(560, -30))
    b = view_pos(tab, QPointF(820, 300))
    drag(qtbot, tab.view.viewport(), a, b)
    names = {tab.doc.node(u).name for u in tab.doc.selected_nodes}
    assert names == {"yes", "no"}
    tab.view.setFocus()
    qtbot.keyClick(tab.view.viewport(), Qt.Key.Key_Delete)
    assert {n.name for n in tab.doc.nodes()} == {"start", "check", "end"}
    assert len(tab.doc.connections()) == 1
    assert len(tab.scene.node_items) == 3 and len(tab.scene.connection_items) == 1
    window.action_undo.trigger()
    assert snapshot(tab.doc) == before
    assert len(tab.scene.node_items) == 5 and len(tab.scene.connection_items) == 5


def test_copy_paste_between_tabs_and_undo_redo(window, qtbot):
    tab = open_sample_at_zoom_1(window, "one")
    other = open_sample_at_zoom_1(window, "two")
    window.tabs.setCurrentWidget(tab)
    tab.doc.set_selection([tab.doc.node_by_name("check").uid, tab.doc.node_by_name("yes").uid])
    window.action_copy.trigger()
    text = QApplication.clipboard().text()
    assert '"flowdesk": 1' in text and '"check"' in text
    window.tabs.setCurrentWidget(other)
    before = snapshot(other.doc)
    window.action_paste.trigger()
    names = [n.name for n in other.doc.nodes()]
    assert names[-2:] == ["check 2", "yes 2"]
    pasted = other.doc.connections()[-1]
    assert other.doc.node(pasted.source).name == "check 2"
    assert pasted.connection_type == ConnectionType.CONDITIONAL_TRUE
    after = snapshot(other.doc)
    window.action_undo.trigger()
    assert snapshot(other.doc) == before
    window.action_redo.trigger()
    assert snapshot(other.doc) == after


def test_cut_duplicate_select_all(window):
    tab = open_sample_at_zoom_1(window)
    start = snapshot(tab.doc)
    tab.doc.set_selection([tab.doc.node_by_name("yes").uid])
    window.action_duplicate.trigger()
    assert tab.doc.nodes()[-1].name == "yes 2"
    window.action_select_all.trigger()
    assert len(tab.doc.selected_nodes) == 6 and len(tab.doc.selected_connections) == 5
    window.action_cut.trigger()
    assert tab.doc.nodes() == []
    window.action_paste.trigger()
    assert len(tab.doc.nodes()) == 6
    while tab.doc.undo_stack.canUndo():
        window.action_undo.trigger()
    assert snapshot(tab.doc) == start


def test_wheel_zoom_is_clamped_and_keeps_point_under_cursor(window):
    tab = open_sample_at_zoom_1(window)
    viewport = tab.view.viewport()
    cursor = QPoint(200, 150)
    anchor = tab.view.mapToScene(cursor)
    for _ in range(3):
        event = QWheelEvent(
            QPointF(cursor),
            QPointF(viewport.mapToGlobal(cursor)),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)
    assert tab.view.zoom > 1.0
    after = tab.view.mapToScene(cursor)
    assert abs(after.x() - anchor.x()) < 2 and abs(after.y() - anchor.y()) < 2
    for _ in range(40):
        event = QWheelEvent(
            QPointF(cursor),
            QPointF(viewport.mapToGlobal(cursor)),
            QPoint(0, 0),
            QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)
    assert abs(tab.view.zoom - 0.05) < 1e-9


def test_middle_drag_pans(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    viewport = tab.view.viewport()
    before = tab.view.mapToScene(QPoint(100, 100))
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, pos=QPoint(250, 260))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(250, 260))
    after = tab.view.mapToScene(QPoint(100, 100))
    zoom = tab.view.zoom
    assert round((after.x() - before.x()) * zoom) == 50 and round((after.y() - before.y()) * zoom) == 40


def test_auto_layout_is_one_step_left_to_right(window):
    tab = open_sample_at_zoom_1(window)
    before = snapshot(tab.doc)
    for n in tab.doc.nodes():
        tab.doc.move_node(n.uid, 0, 0)  # pile them up (direct model edits, not undoable)
    tab.doc.undo_stack.clear()
    count = tab.doc.undo_stack.count()
    window.action_layout.trigger()
    assert tab.doc.undo_stack.count() == count + 1
    pos = {n.name: (n.x, n.y) for n in tab.doc.nodes()}
    assert pos["start"][0] < pos["check"][0] < pos["yes"][0] < pos["end"][0]
    assert pos["yes"][0] == pos["no"][0]
    assert pos["yes"][1] < pos["no"][1]  # the true branch above the false branch
    del before


def test_find_node_selects_and_centres(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    window.find_box.setText("NO")
    qtbot.keyClick(window.find_box, Qt.Key.Key_Return)
    assert {tab.doc.node(u).name for u in tab.doc.selected_nodes} == {"no"}
    centre = tab.view.mapToScene(tab.view.viewport().rect().center())
    node = tab.doc.node_by_name("no")
    assert abs(centre.x() - (node.x + NODE_WIDTH / 2)) < 5


def test_double_click_opens_quick_add(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    pos = view_pos(tab, QPointF(450, 500))
    popups = []
    tab.view.quick_add_requested.connect(lambda sp, gp: popups.append(tab.quick_add(sp, gp)))
    qtbot.mouseDClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert popups
    popup = popups[0]
    qtbot.keyClicks(popup.search, "loo")
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    last = tab.doc.nodes()[-1]
    assert last.node_type == NodeType.LOOP and last.name == "Loop"


def test_space_drag_pans_without_moving_nodes(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    before_model = snapshot(tab.doc)
    node = tab.doc.node_by_name("yes")
    item = tab.scene.node_items[node.uid]
    start = view_pos(tab, item.pos() + QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2))  # on a node, on purpose
    before = tab.view.mapToScene(QPoint(10, 10))
    qtbot.keyPress(tab.view, Qt.Key.Key_Space)
    drag(qtbot, tab.view.viewport(), start, start + QPoint(-60, -30))
    qtbot.keyRelease(tab.view, Qt.Key.Key_Space)
    after = tab.view.mapToScene(QPoint(10, 10))
    zoom = tab.view.zoom
    assert round((after.x() - before.x()) * zoom) == 60 and round((after.y() - before.y()) * zoom) == 30
    assert snapshot(tab.doc) == before_model
