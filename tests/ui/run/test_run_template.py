"""A template opened from the gallery runs like any workflow: F5 stores the new tab first, the input
form shows the template's declared inputs, and the run completes against the demo API."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from flowdesk.ui.template_gallery import TemplateGallery


def test_a_template_tab_runs_after_being_stored(window, qtbot, http_server):
    window.files.show_template_gallery()
    gallery = QApplication.activeModalWidget()
    assert isinstance(gallery, TemplateGallery)
    gallery.select("compare-versions")
    with qtbot.waitSignal(gallery.finished):
        qtbot.keyClick(gallery.list, Qt.Key.Key_Return)
    tab = window.current_tab()
    assert tab.workflow_id is None and tab.doc.is_dirty

    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.run_ui.input_dialog is not None and window.run_ui.input_dialog.isVisible())
    dialog = window.run_ui.input_dialog
    assert list(dialog.form.editors) == ["base_url", "user_id"]
    base_url = dialog.form.editors["base_url"]
    base_url.selectAll()
    qtbot.keyClicks(base_url, http_server.url)
    controller = window.run_ui.controller(tab)
    with qtbot.waitSignal(controller.run_finished, timeout=15_000) as blocker:
        qtbot.keyClick(base_url, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    state = blocker.args[0]
    assert state.status == "completed"
    assert state.nodes["identical"].status == "success" and state.nodes["differ"].status == "skipped"
    assert tab.workflow_id is not None and not tab.doc.is_dirty
    stored = window.backend.workflows.load_graph(tab.workflow_id)
    assert stored.workflow.name == "Compare two API versions' answers"
