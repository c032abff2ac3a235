"""Opening a file in the app never piles up copies: identical content opens the stored workflow;
a name taken by other content asks (replace as a new version / import as a copy / cancel)."""

from __future__ import annotations

import json

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from flowdesk.services.versions import VersionService

from .conftest import EXAMPLES


def _changed(tmp_path):
    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    next(n for n in doc["nodes"] if n["node_type"] == "LOOP")["config"]["max_iterations"] = 50
    path = tmp_path / "loop-changed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _answer_with(qtbot, button_name: str, seen: list[str]) -> None:
    """When the question shows, note its text and click the named button (as a person would)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text())
        if button_name == "cancel":
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            box.findChild(QPushButton, button_name).click()

    QTimer.singleShot(0, click)


def test_the_same_file_twice_opens_the_one_stored_workflow(window, backend):
    first = window.import_file(EXAMPLES / "loop.json")
    again = window.import_file(EXAMPLES / "loop.json")
    assert again is first and window.tabs.count() == 1
    assert len(backend.workflows.list_workflows()) == 1
    assert "already stored" in window.statusBar().currentMessage()


def test_a_taken_name_asks_and_cancel_changes_nothing(window, backend, qtbot, tmp_path):
    window.import_file(EXAMPLES / "loop.json")
    seen: list[str] = []
    _answer_with(qtbot, "cancel", seen)
    assert window.import_file(_changed(tmp_path)) is None
    assert seen and "loop-changed.json is named 'Loop over users 循环'" in seen[0]
    assert len(backend.workflows.list_workflows()) == 1


def test_import_as_copy(window, backend, qtbot, tmp_path):
    window.import_file(EXAMPLES / "loop.json")
    seen: list[str] = []
    _answer_with(qtbot, "importAsCopy", seen)
    tab = window.import_file(_changed(tmp_path))
    assert seen and tab is not None and tab.doc.workflow.name == "Loop over users 循环 (copy)"
    assert window.tabs.count() == 2
    assert window.import_file(_changed(tmp_path)) is tab  # the copy is reused, no question


def test_replace_as_new_version_reloads_the_open_tab(window, backend, qtbot, tmp_path):
    first = window.import_file(EXAMPLES / "loop.json")
    seen: list[str] = []
    _answer_with(qtbot, "replaceWorkflow", seen)
    tab = window.import_file(_changed(tmp_path))
    assert seen and tab is first and window.tabs.count() == 1
    loop = next(n for n in tab.doc.to_graph().nodes if n.node_type == "LOOP")
    assert loop.config["max_iterations"] == 50  # the open tab shows the new content
    labels = [v.label for v in VersionService(backend.db).list_versions(tab.workflow_id)]
    assert labels == ["before importing loop-changed.json", "imported from loop-changed.json"]


def test_a_stored_file_opens_from_the_reading_that_compared_it(window, backend, monkeypatch):
    """Opening a file already stored (as at every start with the same file) reads the stored
    workflow once: the reading that found it identical is the one the tab shows."""
    import flowdesk.services.workflows as workflows_module

    stored = backend.transfer.import_file(EXAMPLES / "loop.json")  # an earlier start stored it
    reads: list[int] = []
    real_read_graph = workflows_module.read_graph

    def counted(session, workflow_id, *args, **kwargs):
        reads.append(workflow_id)
        return real_read_graph(session, workflow_id, *args, **kwargs)

    monkeypatch.setattr(workflows_module, "read_graph", counted)
    tab = window.import_file(EXAMPLES / "loop.json")
    assert tab is not None and tab.workflow_id == stored.workflow.id and window.tabs.count() == 1
    assert reads == [stored.workflow.id]
    shown = tab.doc.to_graph()
    assert {(n.id, n.name, n.position_x, n.position_y) for n in shown.nodes} == {
        (n.id, n.name, n.position_x, n.position_y) for n in stored.nodes
    }
    assert len(shown.connections) == len(stored.connections)
    assert "already stored" in window.statusBar().currentMessage()
