"""The default layout at 1366×768: the inspector shows every built-in type's whole form without
scrolling, docks keep their sizes when nodes are clicked, Reset layout, the fixed toolbar."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QDockWidget, QToolButton, QWidget

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph

SCREEN = (1366, 768)


def every_type_graph() -> WorkflowGraph:
    """One node of each built-in type, API_CALL with everything an API call can carry."""
    api_config = {
        "method": "POST",
        "url": "http://127.0.0.1:8765/users/{{input.id}}",
        "parameters": {"id": "{{input.id}}", "verbose": "true"},
        "headers": {"X-Trace": "{{execution.id}}"},
        "query": {"page": "1"},
        "body": {"name": "{{input.name}}"},
        "auth": {"type": "bearer", "token": "{{secrets.TOKEN}}"},
        "retry_count": 3,
        "timeout": 10,
    }
    nodes = [
        Node(name="start", node_type=NodeType.START, position_x=0, position_y=0),
        Node(name="call", node_type=NodeType.API_CALL, config=api_config, position_x=250, position_y=0),
        Node(name="check", node_type=NodeType.CONDITION, config={"condition": "1 == 1"}, position_x=500),
        Node(name="wait", node_type=NodeType.DELAY, config={"seconds": 1}, position_x=750, position_y=0),
        Node(name="fan", node_type=NodeType.PARALLEL, position_x=1000, position_y=0),
        Node(name="each", node_type=NodeType.LOOP, config={"items": "{{input.xs}}"}, position_x=1250),
        Node(name="end", node_type=NodeType.END, position_x=1500, position_y=0),
    ]
    chain = ["start", "call", "check", "wait", "fan", "each", "end"]
    kinds = {
        "check": ConnectionType.CONDITIONAL_TRUE,
        "fan": ConnectionType.PARALLEL,
        "each": ConnectionType.SEQUENCE,
    }
    connections = [
        Connection(from_node=a, to_node=b, connection_type=kinds.get(a, ConnectionType.SEQUENCE))
        for a, b in zip(chain, chain[1:], strict=False)
    ]
    return WorkflowGraph(workflow=Workflow(name="every type"), nodes=nodes, connections=connections)


@pytest.fixture
def app_window(qtbot, settings, tmp_path):
    """The real app window (run UI, API library and monitor installed) at 1366×768."""
    from flowdesk.ui.app import build_window

    window = build_window(
        ["--db", str(tmp_path / "layout.db")], settings=settings, autosave_dir=tmp_path / "a"
    )
    window.resize(*SCREEN)
    window.show()
    qtbot.waitExposed(window)
    yield window
    for tab in window.editor_tabs():
        tab.doc.undo_stack.setClean()
    window.close()
    window.backend.close()


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _clipped_widgets(page: QWidget, viewport: QWidget) -> list[str]:
    """The visible widgets of `page` that do not lie wholly inside the scroll area's viewport."""
    shown = QRect(QPoint(0, 0), viewport.size())
    clipped = []
    for child in page.findChildren(QWidget):
        if not child.isVisibleTo(page) or child.width() == 0:
            continue
        if isinstance(child.parentWidget(), QAbstractScrollArea) or child.objectName().startswith("qt_"):
            continue  # a scroll area's own viewport and bars are judged with the area
        top_left = child.mapTo(viewport, QPoint(0, 0))
        if not shown.contains(QRect(top_left, child.size())):
            clipped.append(f"{type(child).__name__} {child.objectName()!r} at {top_left.x()},{top_left.y()}")
    return clipped


def test_window_fits_the_screen_and_inspector_owns_the_right_side(app_window):
    w = app_window
    assert (w.width(), w.height()) == SCREEN  # nothing's minimum size pushes the window wider
    tabbed = {d.objectName() for d in w.tabifiedDockWidgets(w.dock_inspector)}
    assert {"dockDataInspector", "dockApiLibrary"} <= tabbed
    assert not w.dock_inspector.visibleRegion().isEmpty()  # in front
    assert w.dock_inspector.height() > SCREEN[1] * 0.7


def test_every_builtin_form_is_whole_without_scrolling_and_docks_stay(app_window, qtbot):
    w = app_window
    created = w.backend.workflows.create_from_graph(every_type_graph())
    tab = w.open_workflow(created.workflow.id)
    _settle()
    docks = [d for d in w.findChildren(QDockWidget) if d.isVisible()]
    sizes = {d.objectName(): d.geometry() for d in docks}
    scroll = w.inspector.scroll_area
    for node in tab.doc.nodes():
        tab.doc.set_selection([node.uid])
        qtbot.waitUntil(lambda n=node: w.inspector.node_page.uid == n.uid)
        _settle()
        page = w.inspector.node_page
        assert w.inspector.stack.currentWidget() is page
        assert not scroll.verticalScrollBar().isVisible(), f"{node.node_type}: the form needs scrolling"
        assert _clipped_widgets(page, scroll.viewport()) == [], node.node_type
        assert {d.objectName(): d.geometry() for d in docks} == sizes, f"docks moved for {node.node_type}"
    call = tab.doc.node_by_name("call")
    tab.doc.set_selection([call.uid])
    qtbot.waitUntil(lambda: w.inspector.node_page.uid == call.uid)
    form = w.inspector.node_page.form
    titles = {name: s.toggle.text() for name, s in form.sections.items()}
    assert titles == {
        "headers": "Headers — 1 set",
        "query": "Query — 1 set",
        "body": "Body — JSON",
        "auth": "Auth — bearer",
        "retries": "Retries and timeout — 3 retries, timeout 10 s",
        "cache": "Cache",  # no cache option: its title says nothing more
    }


def test_api_call_sections_edit_the_node_as_undoable_steps(app_window, qtbot):
    w = app_window
    created = w.backend.workflows.create_from_graph(every_type_graph())
    tab = w.open_workflow(created.workflow.id)
    call = tab.doc.node_by_name("call")
    tab.doc.set_selection([call.uid])
    qtbot.waitUntil(lambda: w.inspector.node_page.uid == call.uid)
    form = w.inspector.node_page.form
    form.sections["body"].set_open(True)
    form.body.text.setPlainText('{"broken": ')
    form.body.commit()
    assert form.body.error.isVisibleTo(form) and "line 1" in form.body.error.text()
    assert tab.doc.node(call.uid).config["body"] == {"name": "{{input.name}}"}  # nothing changed
    form.body.text.setPlainText('{"name": "x"}')
    form.body.commit()
    assert tab.doc.node(call.uid).config["body"] == {"name": "x"}
    form.auth.kind.setCurrentIndex(form.auth.kind.findData("basic"))
    form.auth.kind.activated.emit(form.auth.kind.currentIndex())
    form.auth.fields["username"].setText("{{secrets.USER}}")
    form.auth.fields["username"].editingFinished.emit()
    qtbot.waitUntil(lambda: tab.doc.node(call.uid).config["auth"].get("username") == "{{secrets.USER}}")
    assert tab.doc.node(call.uid).config["auth"]["type"] == "basic"
    form.retries.retry_count.setValue(-1)  # "workflow default"
    form.retries.retry_count.editingFinished.emit()
    assert "retry_count" not in tab.doc.node(call.uid).config
    tab.doc.undo_stack.undo()
    assert tab.doc.node(call.uid).config["retry_count"] == 3


def test_reset_layout_brings_the_default_back(app_window, settings):
    w = app_window
    w.dock_inspector.setFloating(True)
    w.dock_problems.hide()
    w.save_layout()
    assert settings.value("window/state") is not None
    w.findChild(type(w.action_run), "actionResetLayout").trigger()
    assert not w.dock_inspector.isFloating() and w.dock_inspector.isVisible()
    assert {d.objectName() for d in w.tabifiedDockWidgets(w.dock_inspector)} >= {"dockDataInspector"}
    assert w.dock_problems.isVisible() or not w.dock_problems.isHidden()
    assert settings.value("window/state") is None


def test_toolbar_does_not_move_when_the_undo_text_grows(app_window, qtbot):
    w = app_window
    created = w.backend.workflows.create_from_graph(every_type_graph())
    tab = w.open_workflow(created.workflow.id)
    _settle()
    run_button = w.toolbar.widgetForAction(w.action_run)
    undo_button = w.toolbar.widgetForAction(w.action_undo)
    assert isinstance(run_button, QToolButton) and not w.action_run.icon().isNull()
    before = (run_button.geometry(), undo_button.geometry(), w.find_box.geometry())
    tab.add_node_at(NodeType.PARALLEL.value, QPointF(0, 400))
    _settle()
    assert w.action_undo.text().replace("&", "") == "Undo Add Parallel"  # the Edit menu's text
    assert w.action_undo.toolTip() == "Undo Add Parallel"
    assert undo_button.text() == "Undo"
    assert (run_button.geometry(), undo_button.geometry(), w.find_box.geometry()) == before


def test_every_toolbar_button_has_an_icon_and_a_short_label(app_window):
    """Each button of the main toolbar looks like its neighbours: a glyph and a one-word label
    (New from template once showed as a long text with no icon)."""
    from flowdesk.ui.style.toolbar_look import TOOLBAR_LOOK

    w = app_window
    actions = [a for a in w.toolbar.actions() if not a.isSeparator() and w.toolbar.widgetForAction(a)]
    buttons = [
        (a, w.toolbar.widgetForAction(a))
        for a in actions
        if isinstance(w.toolbar.widgetForAction(a), QToolButton)
    ]
    assert buttons
    for action, button in buttons:
        assert action.objectName() in TOOLBAR_LOOK, action.objectName()
        assert not action.icon().isNull() and button.text() == TOOLBAR_LOOK[action.objectName()][1]


def test_a_file_without_positions_is_laid_out_on_open_as_one_undo_step(app_window, tmp_path, qtbot):
    import json

    w = app_window
    source = {
        "flowdesk": 1,
        "workflow": {"name": "no positions"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}},
            {"name": "check", "node_type": "CONDITION", "config": {"condition": "true"}},
            {"name": "end", "node_type": "END"},
        ],
        "connections": [
            {"from": "start", "to": "wait"},
            {"from": "wait", "to": "check"},
            {"from": "check", "to": "end", "connection_type": "CONDITIONAL_TRUE"},
        ],
    }
    path = tmp_path / "no-positions.json"
    path.write_text(json.dumps(source), encoding="utf-8")
    tab = w.import_file(path)
    assert tab is not None
    positions = {n.name: (n.x, n.y) for n in tab.doc.nodes()}
    assert len(set(positions.values())) == 4, positions  # nobody on top of anybody
    xs = [positions[name][0] for name in ("start", "wait", "check", "end")]
    assert xs == sorted(xs) and len(set(xs)) == 4  # left to right along the edges
    stack = tab.doc.undo_stack
    assert stack.count() == 1 and stack.text(0) == "Auto-layout (nodes were stacked)"
    qtbot.waitUntil(lambda: "laid out automatically" in w.statusBar().currentMessage())
    stack.undo()
    assert {(n.x, n.y) for n in tab.doc.nodes()} == {(0.0, 0.0)}


def test_a_laid_out_file_opens_as_it_is(app_window):
    w = app_window
    created = w.backend.workflows.create_from_graph(every_type_graph())
    tab = w.open_workflow(created.workflow.id)
    assert tab.doc.undo_stack.count() == 0 and not tab.doc.is_dirty


def test_port_labels_are_wide_enough_for_their_names(app_window):
    from PySide6.QtGui import QFontMetricsF

    from flowdesk.ui.canvas import node_item

    w = app_window
    created = w.backend.workflows.create_from_graph(every_type_graph())
    tab = w.open_workflow(created.workflow.id)
    fm = QFontMetricsF(node_item._PORT_FONT)
    checked = []
    for node in tab.doc.nodes():
        item = tab.scene.node_items[node.uid]
        if len(item.ports) < 2:
            continue
        for i, port in enumerate(item.ports):
            rect = item.port_label_rect(i)
            assert fm.horizontalAdvance(port.name) <= rect.width(), (node.node_type, port.name)
            assert rect.left() > 50  # right of the glyph, clear of the title's start
            checked.append(port.name)
    assert "branches" in checked


def test_import_problem_lines_wrap_to_the_dialog(app_window, tmp_path, qtbot):
    import json

    w = app_window
    bad = tmp_path / "bad.json"
    long_name = "a node whose name is long enough to run far past the right edge of the dialog " * 2
    bad.write_text(
        json.dumps(
            {
                "flowdesk": 1,
                "workflow": {"name": "bad"},
                "nodes": [{"name": "start", "node_type": "START"}],
                "connections": [{"from": "start", "to": long_name}],
            }
        ),
        encoding="utf-8",
    )
    assert w.import_file(bad) is None
    dialog = w.files.last_import_problems
    qtbot.waitExposed(dialog)
    _settle()
    view = dialog.list
    assert not view.horizontalScrollBar().isVisible()
    line_height = view.fontMetrics().height()
    long_rows = [
        view.visualRect(view.model().index(i, 0))
        for i in range(view.count())
        if view.fontMetrics().horizontalAdvance(view.item(i).text()) > view.viewport().width()
    ]
    assert long_rows, "the test needs a line longer than the dialog is wide"
    for rect in long_rows:
        assert rect.right() <= view.viewport().width()
        assert rect.height() >= 2 * line_height  # wrapped onto several lines
    dialog.close()


def test_an_empty_monitor_dock_does_not_come_back_on_the_next_start(qtbot, settings, tmp_path):
    from flowdesk.ui.app import build_window

    args = ["--db", str(tmp_path / "monitor.db")]
    first = build_window(args, settings=settings, autosave_dir=tmp_path / "a")
    first.show()
    qtbot.waitExposed(first)
    created = first.backend.workflows.create_from_graph(every_type_graph())
    first.monitor_host.show_monitor(created.workflow.id)
    qtbot.waitUntil(first.monitor_host.dock_monitor.isVisible)
    first.close()
    first.backend.close()
    second = build_window(args, settings=settings, autosave_dir=tmp_path / "a")
    try:
        second.show()
        qtbot.waitExposed(second)
        qtbot.waitUntil(lambda: not second.monitor_host.dock_monitor.isVisible())
        assert second.monitor_host.views == {}
        assert second.dock_inspector.isVisible()  # the rest of the saved layout is kept
    finally:
        second.close()
        second.backend.close()


def test_a_layout_saved_by_the_old_version_gives_way_to_the_new_default(qtbot, settings, tmp_path):
    from flowdesk.ui.app import build_window

    args = ["--db", str(tmp_path / "old.db")]
    first = build_window(args, settings=settings, autosave_dir=tmp_path / "a")
    first.show()
    qtbot.waitExposed(first)
    first.dock_inspector.setFloating(True)
    old_state = first.saveState(1)  # as the stacked-docks version saved it
    first.close()
    first.backend.close()
    settings.setValue("window/state", old_state)
    second = build_window(args, settings=settings, autosave_dir=tmp_path / "a")
    try:
        assert not second.dock_inspector.isFloating()
        assert {"dockDataInspector", "dockApiLibrary"} <= {
            d.objectName() for d in second.tabifiedDockWidgets(second.dock_inspector)
        }
    finally:
        second.close()
        second.backend.close()


def test_a_first_start_on_a_small_screen_fits_the_window_to_it(qtbot, settings, tmp_path):
    from flowdesk.ui.app import build_window, fit_to_screen

    window = build_window(
        ["--db", str(tmp_path / "small.db")], settings=settings, autosave_dir=tmp_path / "a"
    )
    try:
        free = window.screen().availableGeometry()
        assert free.height() < 900, "the offscreen screen is expected to be smaller than the default window"
        fit_to_screen(window)
        window.show()
        qtbot.waitExposed(window)
        assert window.height() <= max(free.height(), window.minimumSizeHint().height())
        assert window.width() <= max(free.width(), window.minimumSizeHint().width())
        assert window.dock_inspector.isVisible() and not window.dock_inspector.isFloating()
    finally:
        window.close()
        window.backend.close()


def test_the_api_library_behind_its_tab_is_made_when_the_tab_is_first_clicked(app_window, qtbot):
    """Start-up (issue 13, item 11): the API library, a tab behind the inspector, is not made
    before the window shows; clicking its tab makes it, showing the stored APIs."""
    from PySide6.QtWidgets import QTabBar

    w = app_window
    w.backend.apis.create_api(name="List pets", url="http://127.0.0.1:8765/pets")
    _settle()
    assert not w.dock_widget_built("api_library")
    bar, index = next(
        (bar, i)
        for bar in w.findChildren(QTabBar)
        for i in range(bar.count())
        if bar.tabText(i) == "API library" and bar.isVisible()
    )
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: w.dock_widget_built("api_library"))
    panel = w.api_library
    qtbot.waitUntil(lambda: panel.isVisible())
    assert w.dock_api_library.widget() is panel
    assert [panel.list.item(i).text() for i in range(panel.list.count())][0].endswith("List pets")
    assert w.dock_widget_built("api_library") and w.api_library is panel  # made once


def test_reading_the_api_library_makes_it_while_its_dock_stays_behind(app_window):
    w = app_window
    assert not w.dock_widget_built("api_library")
    panel = w.api_library  # code that needs it (a drop, a test) gets it at once
    assert w.dock_api_library.widget() is panel and w.dock_widget_built("api_library")
    assert w.dock_inspector.visibleRegion().isEmpty() is False  # the inspector stays in front
