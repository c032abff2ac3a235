"""Auto-layout rules, the app entry point (`flowdesk [--db PATH] FILE.json`), context menus."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from flowdesk.domain.enums import ConnectionType
from flowdesk.ui.canvas.layout import LayoutEdge, layered_layout
from tests.support.canvas_driving import sample_graph

from .conftest import EXAMPLES


def test_layout_layers_follow_edges_and_ignore_loop_back_edges():
    # 1 -> 2 (loop) -body-> 3 -> 2 (back edge) ; 2 -done-> 4
    edges = [LayoutEdge(1, 2), LayoutEdge(2, 3, port=0), LayoutEdge(3, 2), LayoutEdge(2, 4, port=1)]
    pos = layered_layout([1, 2, 3, 4], edges)
    assert pos[1][0] < pos[2][0] < pos[3][0]
    assert pos[4][0] == pos[3][0]  # both one layer after the loop
    assert pos[3][1] < pos[4][1]  # body (port 0) above done (port 1)


def test_layout_long_edges_and_disconnected_nodes():
    edges = [LayoutEdge(1, 2), LayoutEdge(2, 3), LayoutEdge(3, 4), LayoutEdge(1, 4)]
    pos = layered_layout([1, 2, 3, 4, 5], edges, layer_gap=100, row_gap=50)
    assert [pos[i][0] for i in (1, 2, 3, 4)] == [0, 100, 200, 300]
    assert pos[5][0] == 0
    assert len({pos[i] for i in pos}) == 5  # nobody on top of anybody


def test_build_window_opens_a_file_with_db(tmp_path, settings, qtbot):
    from flowdesk.ui.app import build_window

    db = tmp_path / "cli.db"
    window = build_window(
        ["--db", str(db), str(EXAMPLES / "conditional.json")],
        settings=settings,
        autosave_dir=tmp_path / "autosave",
    )
    try:
        tab = window.current_tab()
        assert tab is not None and tab.doc.workflow.name == "示例工作流"
        assert window.windowTitle() == "示例工作流 — flowdesk"
        assert db.exists()
        assert [w.name for w in window.backend.workflows.list_workflows()] == ["示例工作流"]
    finally:
        window.close()
        window.backend.close()


def test_connection_context_menu_offers_allowed_types(window, qtbot):
    created = window.backend.workflows.create_from_graph(sample_graph())
    tab = window.open_workflow(created.workflow.id)
    QApplication.processEvents()
    conn = tab.doc.connections()[1]  # check -> yes, CONDITIONAL_TRUE
    menu = tab.build_context_menu("connection", conn.uid, QPointF())
    names = [a.objectName() for a in menu.actions() if a.objectName()]
    assert "connectionType_CONDITIONAL_FALSE" in names and "connectionType_PARALLEL" not in names
    next(a for a in menu.actions() if a.objectName() == "connectionType_ERROR").trigger()
    assert tab.doc.connection(conn.uid).connection_type == ConnectionType.ERROR
    next(a for a in menu.actions() if a.text() == "Delete connection").trigger()
    assert not tab.doc.has_connection(conn.uid)
    window.action_undo.trigger()
    window.action_undo.trigger()
    assert tab.doc.connection(conn.uid).connection_type == ConnectionType.CONDITIONAL_TRUE
