"""The run dialog as a form of the workflow's inputs: declared ones enforced (required, types),
undeclared ones proposed from the references, the JSON kept in step, the last values remembered."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from flowdesk.domain.models import Workflow, WorkflowGraph
from flowdesk.ui.run.input_dialog import RunInputDialog, RunInputStore
from tests.support.app_driving import action, branch_graph, chain_graph, open_graph

INPUTS = {
    "type": "object",
    "properties": {
        "base_url": {"type": "string", "default": "http://127.0.0.1:8765", "description": "the demo server"},
        "user_ids": {"type": "array", "items": {"type": "integer"}},
        "count": {"type": "integer"},
    },
    "required": ["base_url", "user_ids"],
}


def _dialog(qtbot, store, workflow_id=5, inputs=INPUTS, declared=True):
    dialog = RunInputDialog(store, workflow_id, "Loop over users", inputs=inputs, declared=declared)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_declared_inputs_are_a_form_that_refuses_a_missing_required_input(qtbot, settings):
    store = RunInputStore(settings)
    dialog = _dialog(qtbot, store)
    assert dialog.tabs.currentIndex() == 0  # the form first
    assert list(dialog.form.editors) == ["base_url", "user_ids", "count"]
    url = dialog.form.editors["base_url"]
    assert "default: http://127.0.0.1:8765" in url.placeholderText()
    assert url.toolTip() == "the demo server"
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem.text() == "Input 'user_ids' is required (declared in workflow 'Loop over users')."
    accepted = []
    dialog.input_accepted.connect(accepted.append)
    qtbot.keyClick(url, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert accepted == [] and dialog.isVisible()  # refused to start

    ids = dialog.form.editors["user_ids"]
    qtbot.keyClicks(ids, "[1, 2]")
    assert dialog.ok_button.isEnabled(), dialog.problem.text()
    assert json.loads(dialog.editor.toPlainText()) == {"user_ids": [1, 2]}  # the default is the engine's

    count = dialog.form.editors["count"]
    qtbot.keyClicks(count, "two")
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem.text() == "Input 'count' must be a whole number, not 'two'."
    count.clear()
    qtbot.keyClicks(count, "2.5")
    assert not dialog.ok_button.isEnabled()
    assert "input 'count' does not fit" in dialog.problem.text().lower()
    count.clear()
    qtbot.keyClicks(count, "3")
    assert dialog.ok_button.isEnabled()

    # the raw JSON is still there, and the form follows it
    dialog.editor.setPlainText('{"user_ids": [7], "base_url": "http://127.0.0.1:1", "extra": true}')
    qtbot.waitUntil(lambda: url.text() == "http://127.0.0.1:1", timeout=2000)
    assert ids.text() == "[7]" and count.text() == ""
    qtbot.keyClicks(count, "4")
    assert json.loads(dialog.editor.toPlainText()) == {
        "user_ids": [7],
        "base_url": "http://127.0.0.1:1",
        "extra": True,
        "count": 4,
    }
    qtbot.keyClick(count, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert accepted == [{"user_ids": [7], "base_url": "http://127.0.0.1:1", "extra": True, "count": 4}]

    again = _dialog(qtbot, store)  # the last values of this workflow
    assert again.form.editors["count"].text() == "4" and again.form.editors["user_ids"].text() == "[7]"
    assert again.ok_button.isEnabled()


def test_input_that_is_not_an_object_is_refused_in_the_dialog(qtbot, settings):
    dialog = _dialog(qtbot, RunInputStore(settings), inputs=None, declared=False)
    assert dialog.tabs.currentIndex() == 1  # nothing to show as a form: the JSON
    dialog.editor.setPlainText("[1, 2]")
    qtbot.waitUntil(lambda: not dialog.ok_button.isEnabled(), timeout=2000)
    assert "must be a JSON object" in dialog.problem.text() and "not a list" in dialog.problem.text()


def test_run_offers_the_references_as_a_form_when_nothing_is_declared(window, qtbot, http_server):
    tab = open_graph(window, branch_graph("proposed", http_server.url))
    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    assert dialog is not None and list(dialog.form.editors) == ["x"]
    assert dialog.ok_button.isEnabled()  # proposed inputs are not required
    controller = window.run_ui.controller(tab)
    with qtbot.waitSignal(controller.run_finished, timeout=15_000) as blocker:
        qtbot.keyClicks(dialog.form.editors["x"], "5")
        qtbot.keyClick(dialog.form.editors["x"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    state = blocker.args[0]
    assert state.status == "completed" and state.nodes["fetch"].status == "success"


def test_run_of_a_declared_workflow_waits_for_its_required_input(window, qtbot):
    graph = chain_graph("declared", [])
    graph = WorkflowGraph(
        workflow=Workflow(name="declared", config={"inputs": INPUTS}),
        nodes=graph.nodes,
        connections=graph.connections,
    )
    tab = open_graph(window, graph)
    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    assert not dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.isVisible() and not window.run_ui.controller(tab).running
    controller = window.run_ui.controller(tab)
    with qtbot.waitSignal(controller.run_finished, timeout=15_000) as blocker:
        qtbot.keyClicks(dialog.form.editors["user_ids"], "[]")
        dialog.ok_button.click()
    state = blocker.args[0]
    assert state.status == "completed"
    assert state.input_data == {"base_url": "http://127.0.0.1:8765", "user_ids": []}
