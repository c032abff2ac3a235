"""The editor checks a custom type's handler live: a node whose type's handler cannot be found (here a
`workflow:NAME` naming no stored workflow) shows the sentence a run would refuse it with in the
inspector's form and carries the problem mark on the canvas; once the workflow is saved under that
name, both go. And File > Export of a workflow using custom types writes what `flowdesk export`
writes."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from flowdesk.domain.enums import Severity
from flowdesk.domain.models import Node
from flowdesk.services.node_types import NodeTypeService
from tests.support.app_driving import chain_graph, click_node

SENTENCE = "node type 'TICKET' cannot run: its handler 'workflow:Create ticket' names no stored workflow"


def _marks(tab, name):
    return tab.scene.node_items[tab.doc.node_by_name(name).uid].problems


def _uses_ticket(window):
    NodeTypeService(window.backend.db).register_node_type(
        "TICKET", "Files a ticket", {"kind": "string"}, "workflow:Create ticket"
    )
    window.reload_node_types()
    ticket = Node(name="file it", node_type="TICKET", config={"kind": "bug"}, position_x=300, position_y=0)
    return window.backend.workflows.create_from_graph(chain_graph("files tickets", [ticket]))


def test_a_missing_handler_is_shown_in_the_inspector_and_marked_on_the_canvas_until_it_exists(window, qtbot):
    parent = _uses_ticket(window)
    tab = window.open_workflow(parent.workflow.id)
    tab.fit_to_view()
    warning = window.inspector.node_page.handler_warning

    click_node(qtbot, tab, "file it")
    qtbot.waitUntil(lambda: window.inspector.stack.currentWidget() is window.inspector.node_page)
    assert warning.isVisible() and warning.text() == f"⚠ {SENTENCE}"
    qtbot.waitUntil(lambda: (Severity.ERROR, SENTENCE) in _marks(tab, "file it"))

    # The node stays editable and its workflow saveable meanwhile.
    kind = window.inspector.node_page.form.fields["kind"]
    edit = kind if isinstance(kind, QLineEdit) else kind.findChild(QLineEdit)
    edit.selectAll()
    qtbot.keyClicks(edit, "incident")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.doc.node_by_name("file it").config.get("kind") == "incident")
    window.action_save.trigger()
    assert not tab.doc.is_dirty
    saved = window.backend.workflows.load_graph(parent.workflow.id)
    assert next(n for n in saved.nodes if n.name == "file it").config["kind"] == "incident"
    assert warning.isVisible() and warning.text() == f"⚠ {SENTENCE}"  # checked again: still missing

    click_node(qtbot, tab, "start")  # a built-in node: no warning line
    qtbot.waitUntil(lambda: window.inspector.node_page.uid == tab.doc.node_by_name("start").uid)
    assert not warning.isVisible()

    # The user saves a workflow under the name the handler gives: the check follows at once.
    child = window.backend.workflows.create_from_graph(chain_graph("ticket flow", []))
    child_tab = window.open_workflow(child.workflow.id)
    window.inspector.workflow_page.name.selectAll()
    qtbot.keyClicks(window.inspector.workflow_page.name, "Create ticket")
    qtbot.keyClick(window.inspector.workflow_page.name, Qt.Key.Key_Return)
    assert child_tab.doc.workflow.name == "Create ticket"
    window.action_save.trigger()

    window.tabs.setCurrentWidget(tab)
    click_node(qtbot, tab, "file it")
    qtbot.waitUntil(lambda: window.inspector.node_page.uid == tab.doc.node_by_name("file it").uid)
    assert not warning.isVisible()
    qtbot.waitUntil(lambda: _marks(tab, "file it") == [])

    tabs = len(window.editor_tabs())
    window.close_tab(child_tab)
    qtbot.waitUntil(lambda: len(window.editor_tabs()) == tabs - 1)
    click_node(qtbot, tab, "file it", double=True)  # opens the workflow its type runs, as SUBWORKFLOW does
    qtbot.waitUntil(lambda: len(window.editor_tabs()) == tabs)
    assert window.current_tab().workflow_id == child.workflow.id


def test_export_from_the_app_carries_the_custom_types_as_flowdesk_export_does(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    parent = _uses_ticket(window)
    window.open_workflow(parent.workflow.id)
    out = tmp_path / "tickets.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.action_export.trigger()

    written = out.read_text(encoding="utf-8")
    assert [t["type_name"] for t in json.loads(written)["node_types"]] == ["TICKET"]
    assert written == window.backend.transfer.export_workflow(parent.workflow.id)
