"""The run dialog's environment choice: the active environment is preselected, and the one chosen
is the one whose variables ({{env.*}}) the run uses."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from flowdesk.services.environments import EnvironmentService
from flowdesk.services.executions import ExecutionService
from tests.support.app_driving import action, api, chain_graph, open_graph
from tests.support.waiting import EVENTUALLY_MS


def test_run_uses_the_environment_chosen_in_the_dialog(window, qtbot, http_server):
    envs = EnvironmentService(window.backend.db)
    envs.create_environment("dev", {"base_url": f"{http_server.url}/anything/dev"}, activate=True)
    envs.create_environment("staging", {"base_url": f"{http_server.url}/anything/staging"})
    tab = open_graph(window, chain_graph("env-run", [api("fetch", "{{env.base_url}}/ping")]))
    controller = window.run_ui.controller(tab)

    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    assert dialog is not None and dialog.isVisible()
    combo = dialog.environment_combo
    assert combo.isVisible()
    assert [combo.itemText(i) for i in range(combo.count())] == ["dev", "staging"]
    assert combo.currentText() == "dev"  # the active one preselected
    combo.setCurrentText("staging")
    dialog.editor.setPlainText("{}")
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS) as blocker:
        qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    state = blocker.args[0]
    assert state.status == "completed"

    logs = {log.node_name: log for log in ExecutionService(window.backend.db).get_logs(state.execution_id)}
    fetch = logs["fetch"]
    assert fetch.status == "success"
    # The request went to staging's base_url: the echo server saw that path.
    assert "/anything/staging/ping" in json.dumps(fetch.input_data)
    assert fetch.output_data["response"]["data"]["path"] == "/anything/staging/ping"
    assert "/anything/dev" not in json.dumps(fetch.output_data)
    assert envs.get_active().name == "dev"  # choosing for one run does not change the active one
    assert ExecutionService(window.backend.db).get_execution(state.execution_id).environment == "staging"

    # Next time the dialog again offers the active environment; running with it uses dev's URL.
    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    assert dialog.environment_combo.currentText() == "dev"
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS) as blocker:
        qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    logs = {
        log.node_name: log
        for log in ExecutionService(window.backend.db).get_logs(blocker.args[0].execution_id)
    }
    assert logs["fetch"].output_data["response"]["data"]["path"] == "/anything/dev/ping"
    assert (
        ExecutionService(window.backend.db).get_execution(blocker.args[0].execution_id).environment == "dev"
    )


def test_dialog_hides_the_environment_choice_when_there_is_none(window, qtbot):
    tab = open_graph(window, chain_graph("no-env", []))
    assert window.run_ui.controller(tab) is not None
    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.environment_combo.isVisible()
    assert dialog.environment is None
    dialog.reject()
