"""The main window: saving to the database, import/export, versions, inspector, problems, title,
closing, autosave recovery, remembered layout, the workflow browser."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from sqlalchemy import text

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.ui.commands import MoveNodesCommand, RemoveItemsCommand
from flowdesk.ui.main_window import MainWindow
from tests.support.canvas_driving import open_sample_tab, sample_graph
from tests.support.waiting import EVENTUALLY_MS

from .conftest import EXAMPLES, snapshot


def db_rows(backend, workflow_id):
    with backend.db.session() as s:
        nodes = s.execute(
            text(
                "SELECT name, node_type, position_x, position_y, config FROM workflow_nodes "
                "WHERE workflow_id = :w ORDER BY name"
            ),
            {"w": workflow_id},
        ).all()
        conns = s.execute(
            text(
                "SELECT a.name, b.name, c.connection_type, c.condition FROM workflow_connections c "
                "JOIN workflow_nodes a ON a.id = c.from_node_id JOIN workflow_nodes b ON b.id = c.to_node_id "
                "WHERE c.workflow_id = :w ORDER BY a.name, b.name"
            ),
            {"w": workflow_id},
        ).all()
    return [tuple(r) for r in nodes], [tuple(r) for r in conns]


def test_stable_object_names(window):
    for name in (
        "actionRun",
        "actionStep",
        "actionContinue",
        "actionStop",
        "actionImport",
        "actionExport",
        "actionUndo",
        "actionRedo",
        "actionSave",
    ):
        assert window.findChild(type(window.action_save), name) is not None, name
    for name in ("actionRun", "actionStep", "actionContinue", "actionStop"):
        assert not window.findChild(type(window.action_save), name).isEnabled()
    for name in ("dockInspector", "dockPalette"):
        assert window.findChild(type(window.dock_inspector), name) is not None
    tab = open_sample_tab(window)
    assert window.findChild(type(tab.view), "canvasView") is tab.view


def test_save_and_reopen_keeps_positions_and_types(window, backend):
    tab = open_sample_tab(window)
    wid = tab.workflow_id
    doc = tab.doc
    yes = doc.node_by_name("yes")
    doc.undo_stack.push(MoveNodesCommand(doc, {yes.uid: ((yes.x, yes.y), (640.5, -33.25))}))
    first = doc.connections()[0]
    tab.set_connection_type(first.uid, ConnectionType.ERROR)
    tab.add_node_at(NodeType.DELAY, QPointF(1000, 400))
    assert window.windowTitle() == "sample* — flowdesk"
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "sample*"
    window.action_save.trigger()
    assert window.windowTitle() == "sample — flowdesk"
    nodes, conns = db_rows(backend, wid)
    yes_row = next(r for r in nodes if r[0] == "yes")
    assert yes_row[1:4] == ("DELAY", 640.5, -33.25)
    assert json.loads(yes_row[4]) == {"seconds": 0}
    assert ("start", "check", "ERROR", None) in conns
    assert any(r[0] == "Delay" and r[1] == "DELAY" for r in nodes)
    # reopen in a fresh window: same model
    before = [(n.name, n.node_type, n.x, n.y, n.config) for n in doc.nodes()]
    window.close_tab(tab)
    again = window.open_workflow(wid)
    after = [(n.name, n.node_type, n.x, n.y, n.config) for n in again.doc.nodes()]
    assert sorted(after) == sorted(before)
    assert {
        (again.doc.node(c.source).name, again.doc.node(c.target).name, c.connection_type)
        for c in again.doc.connections()
    } == {
        (tab.doc.node(c.source).name, tab.doc.node(c.target).name, c.connection_type)
        for c in tab.doc.connections()
    }
    assert again.scene.node_items[again.doc.node_by_name("yes").uid].pos() == QPointF(640.5, -33.25)


def test_import_invalid_file_changes_nothing_and_lists_errors(window, backend, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "flowdesk": 1,
                "workflow": {"name": "bad"},
                "nodes": [{"name": "a", "node_type": "API_CAL"}, {"name": "a", "node_type": "START"}],
                "connections": [{"from": "a", "to": "zzz"}],
            }
        ),
        encoding="utf-8",
    )
    before = [w.id for w in backend.workflows.list_workflows()]
    assert window.import_file(bad) is None
    assert [w.id for w in backend.workflows.list_workflows()] == before
    assert window.tabs.count() == 0
    dialog = window.files.last_import_problems
    assert dialog is not None and dialog.isVisible()
    lines = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(lines) >= 2
    assert any("API_CAL" in line and "API_CALL" in line for line in lines)
    dialog.close()


def test_import_through_the_file_dialog(window, monkeypatch):
    example = EXAMPLES / "conditional.json"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(example), "Workflow files (*.json)")
    )
    window.action_import.trigger()
    tab = window.current_tab()
    assert tab is not None and tab.doc.workflow.name == "示例工作流"
    assert window.windowTitle() == "示例工作流 — flowdesk"
    assert tab.doc.undo_stack.count() == 0 and not tab.doc.is_dirty
    assert window.browser.table.rowCount() == 1


def test_export_matches_the_file_format(window, backend, tmp_path, monkeypatch):
    example = EXAMPLES / "conditional.json"
    tab = window.import_file(example)
    out = tmp_path / "out.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.action_export.trigger()
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(example.read_text(encoding="utf-8"))
    assert out.read_text(encoding="utf-8") == backend.transfer.export_workflow(tab.workflow_id)


def test_close_asks_and_cancel_keeps_the_tab(window, monkeypatch):
    tab = open_sample_tab(window)
    tab.add_node_at(NodeType.DELAY, QPointF(0, 300))
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert window.close_tab(tab) is False
    assert window.tabs.count() == 1 and asked
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Save)
    assert window.close_tab(tab) is True
    assert any(n.name == "Delay" for n in window.backend.workflows.load_graph(tab.workflow_id).nodes)


def test_autosave_copy_survives_and_is_offered_back(qtbot, backend, settings, tmp_path):
    autosave = tmp_path / "autosave"
    first = MainWindow(backend, settings=settings, autosave_dir=autosave, autosave_interval_s=3600)
    created = backend.workflows.create_from_graph(sample_graph("crashy"))
    tab = first.open_workflow(created.workflow.id)
    tab.add_node_at(NodeType.DELAY, QPointF(0, 400))
    tab.rename_node(tab.doc.node_by_name("yes").uid, "yes!", ask=False)
    expected = [(n.name, n.x, n.y) for n in tab.doc.nodes()]
    written = first.autosaver.save_dirty()
    assert written == [autosave / f"workflow-{created.workflow.id}.json"]
    assert json.loads(written[0].read_text(encoding="utf-8"))["flowdesk"] == 1
    # "crash": the window goes away without saving or cleaning up
    first.autosaver.timer.stop()
    first.deleteLater()
    second = MainWindow(backend, settings=settings, autosave_dir=autosave, autosave_interval_s=3600)
    restored = second.files.offer_autosave_copies(ask=False)
    assert len(restored) == 1
    again = restored[0]
    assert [(n.name, n.x, n.y) for n in again.doc.nodes()] == expected
    assert again.doc.is_dirty and "crashy*" in second.windowTitle()
    second.action_save.trigger()
    assert not (autosave / f"workflow-{created.workflow.id}.json").exists()
    second.close()


def test_dock_layout_is_remembered(qtbot, backend, settings, tmp_path):
    first = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "a")
    first.show()
    first.dock_problems.setFloating(False)
    first.dock_problems.hide()
    first.close()
    assert Path(settings.fileName()).exists()
    second = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "a")
    second.show()
    assert not second.dock_problems.isVisible()
    assert second.dock_inspector.isVisible()
    second.close()


def test_inspector_edits_are_undoable(window, qtbot):
    tab = open_sample_tab(window)
    start = snapshot(tab.doc)
    check = tab.doc.node_by_name("check")
    tab.doc.set_selection([check.uid])
    window.inspector.refresh()
    page = window.inspector.node_page
    form = page.form
    form.condition.edit.setText("{{input.x}} >=")
    assert "column 15" in form.condition.status.text()
    form.condition.edit.setText("{{input.x}} >= 3")
    assert form.condition.status.text() == "✓ valid"
    form.condition.edit.editingFinished.emit()
    assert tab.doc.node(check.uid).config["condition"] == "{{input.x}} >= 3"
    # raw JSON with an error names line and column, and changes nothing
    page.json.text.setPlainText('{\n  "condition": oops\n}')
    assert page.json.apply() is None
    assert "line 2, column 16" in page.json.error.text()
    page.json.text.setPlainText('{"condition": "true", "extra": 1}')
    page.json.apply()
    assert tab.doc.node(check.uid).config == {"condition": "true", "extra": 1}
    # workflow properties
    tab.doc.set_selection([])
    window.inspector.refresh()
    wp = window.inspector.workflow_page
    wp.tags.setText("a, b")
    wp.tags.editingFinished.emit()
    assert tab.doc.workflow.tags == ["a", "b"]
    while tab.doc.undo_stack.canUndo():
        window.action_undo.trigger()
    assert snapshot(tab.doc) == start


def test_rename_in_inspector_offers_reference_update(window, monkeypatch):
    tab = open_sample_tab(window)
    end = tab.doc.node_by_name("end")
    tab.doc.set_node_config(end.uid, {"output": {"r": "{{check.result}}"}})
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    check = tab.doc.node_by_name("check")
    tab.doc.set_selection([check.uid])
    window.inspector.refresh()
    page = window.inspector.node_page
    page.name.setText("gate")
    page.name.editingFinished.emit()
    assert tab.doc.node(check.uid).name == "gate"
    assert tab.doc.node(end.uid).config == {"output": {"r": "{{gate.result}}"}}


def test_connection_type_from_inspector(window):
    tab = open_sample_tab(window)
    conn = tab.doc.connections()[3]  # yes -> end
    tab.doc.set_selection([], [conn.uid])
    window.inspector.refresh()
    page = window.inspector.connection_page
    index = page.type.findData(ConnectionType.ERROR)
    page.type.setCurrentIndex(index)
    page.type.activated.emit(index)
    assert tab.doc.connection(conn.uid).connection_type == ConnectionType.ERROR
    item = tab.scene.connection_items[conn.uid]
    assert item.label == "on error"


def test_validation_markers_and_problems_dock(window, qtbot):
    tab = open_sample_tab(window)
    end = tab.doc.node_by_name("end")
    tab.doc.undo_stack.push(RemoveItemsCommand(tab.doc, [end.uid]))
    qtbot.waitUntil(
        lambda: not tab.validation.pending and window.problems.topLevelItemCount() > 0, timeout=EVENTUALLY_MS
    )
    messages = [p.message for p in tab.validation.problems]
    assert any("END" in m for m in messages)
    # a broken condition gets a marker on its node with the message as tooltip
    check = tab.doc.node_by_name("check")
    tab.doc.set_node_config(check.uid, {"condition": "{{input.x}} >="})
    tab.validation.run()
    item = tab.scene.node_items[check.uid]
    assert item.problems
    assert any(p.node == "check" and p.key == "condition" for p in tab.validation.problems)
    assert "column 15" in item.toolTip()
    # the Problems dock names the node as the canvas shows it, its place, the field and the column
    window.problems.set_problems(tab.validation.problems)
    index = next(i for i, n in enumerate(tab.doc.to_graph().nodes) if n.name == "check")
    wheres = [window.problems.topLevelItem(i).text(1) for i in range(window.problems.topLevelItemCount())]
    assert f"node 'check' (nodes[{index}]), config.condition, column 15" in wheres
    # double-click a problem about 'check': it gets selected
    row = next(i for i, p in enumerate(window.problems.problems) if p.node == "check")
    tab.doc.set_selection([])
    window.problems._activated(window.problems.topLevelItem(row))
    assert tab.doc.selected_nodes == {check.uid}


def test_workflow_browser_filters_and_deletes_with_confirmation(window, backend, monkeypatch):
    a = backend.workflows.create_from_graph(sample_graph("alpha")).workflow
    backend.workflows.create_from_graph(
        sample_graph("beta").model_copy(
            update={"workflow": sample_graph("beta").workflow.model_copy(update={"tags": ["other"]})}
        )
    )
    browser = window.browser
    browser.refresh()
    assert browser.table.rowCount() == 2
    browser.search.setText("alp")
    assert browser.table.rowCount() == 1
    browser.search.setText("")
    browser.tag.setCurrentIndex(browser.tag.findData("other"))
    browser.refresh()
    assert [w.name for w in browser.workflows] == ["beta"]
    browser.tag.setCurrentIndex(0)
    browser.refresh()
    browser.select_id(a.id)
    window.open_workflow(a.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert browser.delete_selected() is False
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert browser.delete_selected() is True
    assert [w.name for w in backend.workflows.list_workflows()] == ["beta"]
    assert window.tab_for(a.id) is None
    browser.select_id(browser.workflows[0].id)
    copy_id = browser.duplicate_selected()
    assert copy_id is not None and browser.table.rowCount() == 2
    window.action_new.trigger()
    assert window.current_tab().doc.workflow.name == "Untitled workflow"
    assert {n.node_type for n in window.current_tab().doc.nodes()} == {NodeType.START, NodeType.END}


def test_versions_save_diff_restore(window, backend, monkeypatch):
    tab = open_sample_tab(window)
    dialog = window.files.show_versions()
    dialog.note.setText("first")
    dialog.save_version()
    tab.add_node_at(NodeType.DELAY, QPointF(0, 400))
    dialog.save_version()
    assert dialog.list.count() == 2
    dialog.list.item(0).setSelected(True)
    dialog.list.item(1).setSelected(True)
    assert "+ node Delay" in dialog.show_diff()
    dialog.list.clearSelection()
    dialog.list.item(1).setSelected(True)  # the older one ("first")
    assert dialog.restore_selected(confirm=False)
    assert all(n.name != "Delay" for n in tab.doc.nodes())
    assert not tab.doc.is_dirty
    dialog.close()


def test_import_into_the_open_workflow_is_one_step(window, tmp_path):
    tab = open_sample_tab(window)
    start = snapshot(tab.doc)
    uids = window.files.insert_file(EXAMPLES / "conditional.json")
    assert len(uids) == 5
    names = {tab.doc.node(u).name for u in uids}
    assert "成绩判断" in names and "pass" in names
    api_ids = {tab.doc.node(u).config.get("api_id") for u in uids} - {None}
    assert api_ids == {window.backend.apis.list_apis()[0].id}
    window.action_undo.trigger()
    assert snapshot(tab.doc) == start
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope", encoding="utf-8")
    assert window.files.insert_file(bad) == []
    assert snapshot(tab.doc) == start
    assert "line 1" in window.files.last_import_problems.lines[0]


def test_undo_redo_across_a_save_keeps_database_ids(window, backend):
    tab = open_sample_tab(window)
    uid = tab.add_node_at(NodeType.DELAY, QPointF(0, 400))
    window.action_save.trigger()
    db_id = tab.doc.node(uid).db_id
    assert db_id is not None
    window.action_undo.trigger()
    window.action_redo.trigger()
    assert tab.doc.node(uid).db_id == db_id
    tab.doc.set_selection([uid])
    window.action_delete.trigger()
    window.action_undo.trigger()
    assert tab.doc.node(uid).db_id == db_id
    window.action_save.trigger()
    stored = {n.name: n.id for n in backend.workflows.load_graph(tab.workflow_id).nodes}
    assert stored["Delay"] == db_id


def test_background_validation_drops_results_overtaken_by_edits(window, qtbot):
    tab = open_sample_tab(window)
    qtbot.waitUntil(lambda: not tab.validation.pending, timeout=EVENTUALLY_MS)
    assert tab.validation.problems == []
    check = tab.doc.node_by_name("check")
    tab.validation.run_in_background()  # validates the graph as it is now: no problems
    tab.doc.set_node_config(check.uid, {"condition": "{{input.x}} >="})  # an edit overtakes it
    qtbot.waitUntil(lambda: not tab.validation.pending, timeout=EVENTUALLY_MS)
    assert any(p.node == "check" for p in tab.validation.problems)
    assert tab.scene.node_items[check.uid].problems


def test_reopening_shows_the_same_picture_to_the_pixel(window):
    def picture(tab):
        tab.doc.set_selection([])
        tab.validation.run()
        QApplication.processEvents()
        image = QImage(1100, 600, QImage.Format.Format_ARGB32)
        image.fill(0)
        painter = QPainter(image)
        tab.scene.render(painter, QRectF(0, 0, 1100, 600), QRectF(-50, -150, 1100, 600))
        painter.end()
        return image

    tab = open_sample_tab(window)
    tab.add_node_at(NodeType.LOOP, QPointF(300, 330))
    yes = tab.doc.node_by_name("yes")
    tab.doc.undo_stack.push(MoveNodesCommand(tab.doc, {yes.uid: ((yes.x, yes.y), (620.0, -20.0))}))
    window.action_save.trigger()
    before = picture(tab)
    wid = tab.workflow_id
    window.close_tab(tab)
    again = window.open_workflow(wid)
    QApplication.processEvents()
    after = picture(again)
    assert before.size() == after.size()
    assert before == after
