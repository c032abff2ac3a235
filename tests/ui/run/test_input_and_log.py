"""The run input dialog (validation, Ctrl+Enter, remembered and saved inputs), the log dock's
filters, search, cap and copy, and the data inspector's references."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from flowdesk.ui.run.data_inspector import reference_path
from flowdesk.ui.run.input_dialog import RunInputDialog, RunInputStore
from flowdesk.ui.run.log_dock import LogModel
from flowdesk.ui.run.run_state import LogEntry
from tests.support.app_driving import action, chain_graph, delay, open_graph, run_and_wait
from tests.support.waiting import EVENTUALLY_MS


def test_invalid_json_says_where_and_ctrl_enter_accepts_once_fixed(qtbot, settings):
    store = RunInputStore(settings)
    dialog = RunInputDialog(store, 7, "demo")
    qtbot.addWidget(dialog)
    dialog.show()
    accepted = []
    dialog.input_accepted.connect(accepted.append)
    dialog.editor.setPlainText('{\n  "a": 1,\n  "b": [1, 2,,]\n}')
    qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert accepted == [] and dialog.isVisible()
    assert dialog.problem.text().startswith("Line 3, column 14:")
    assert not dialog.ok_button.isEnabled()
    assert dialog.editor.textCursor().blockNumber() == 2  # the cursor went to the error
    dialog.editor.setPlainText('{"a": 1, "名字": "小明"}')
    qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=EVENTUALLY_MS)
    assert dialog.problem.text() == ""
    qtbot.keyClick(dialog.editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert accepted == [{"a": 1, "名字": "小明"}]
    assert not dialog.isVisible()
    # remembered per workflow
    again = RunInputDialog(store, 7, "demo")
    qtbot.addWidget(again)
    assert again.editor.toPlainText() == '{"a": 1, "名字": "小明"}'
    other = RunInputDialog(store, 8, "other")
    qtbot.addWidget(other)
    assert other.editor.toPlainText() == "{}"


def test_saved_named_inputs_are_offered_and_empty_input_is_null(qtbot, settings):
    store = RunInputStore(settings)
    dialog = RunInputDialog(store, 3, "demo")
    qtbot.addWidget(dialog)
    dialog.editor.setPlainText('{"user": 1}')
    dialog.save_named("first user")
    dialog.editor.setPlainText('{"user": 2}')
    dialog.save_named("second user")
    dialog.editor.setPlainText("not json")
    dialog.save_named("broken")  # refused: invalid
    assert store.saved(3) == {"first user": '{"user": 1}', "second user": '{"user": 2}'}
    fresh = RunInputDialog(store, 3, "demo")
    qtbot.addWidget(fresh)
    items = [fresh.saved_combo.itemText(i) for i in range(fresh.saved_combo.count())]
    assert items[1:] == ["first user", "second user"]
    fresh.saved_combo.setCurrentIndex(1)
    fresh.saved_combo.activated.emit(1)
    assert fresh.editor.toPlainText() == '{"user": 1}'
    fresh.editor.setPlainText("   ")
    accepted = []
    fresh.input_accepted.connect(accepted.append)
    fresh.ok_button.click()
    assert accepted == [None]
    fresh.saved_combo.setCurrentIndex(2)
    fresh.delete_button.click()
    assert list(store.saved(3)) == ["first user"]


def test_log_dock_filters_by_level_and_node_searches_and_copies(window, qtbot, http_server):
    graph = chain_graph("logged", [delay("alpha"), delay("beta")])
    tab = open_graph(window, graph)
    run_and_wait(qtbot, window, tab)
    log = window.run_ui.log_view
    lines = log.lines()
    assert any("alpha" in line for line in lines) and any("beta" in line for line in lines)
    assert all("DEBUG" not in line for line in lines)  # info and up by default
    log.level.setCurrentIndex(0)
    assert any("DEBUG" in line and "started" in line for line in log.lines())
    log.node.setCurrentIndex(log.node.findText("beta"))
    assert log.lines() and all(" beta " in line for line in log.lines())
    log.node.setCurrentIndex(0)
    log.search.setText("ALPHA")
    assert log.lines() and all("alpha" in line for line in log.lines())
    log.search.clear()
    log.level.setCurrentIndex(3)
    assert log.lines() == []  # no errors in this run
    log.level.setCurrentIndex(1)
    log.view.selectAll()
    text = log.copy()
    assert text == "\n".join(log.lines())
    assert QGuiApplication.clipboard().text() == text
    assert window.findChild(type(window.dock_inspector), "dockLog") is not None


def test_log_model_is_capped(qapp):
    model = LogModel()
    entries = [
        LogEntry(1.0 + i, "info", "n", "success", 0.001, f"line {i}") for i in range(LogModel.CAP + 700)
    ]
    model.append(entries[:1000])
    model.append(entries[1000:])
    assert model.rowCount() == LogModel.CAP
    assert model.rows[0].message == "line 700"
    assert model.rows[-1].message == f"line {LogModel.CAP + 699}"


def test_copy_path_makes_template_references():
    assert reference_path("login", ("response", "data", "token")) == "{{login.response.data.token}}"
    assert reference_path("登录", ("items", 0, "id")) == "{{登录.items[0].id}}"
    assert reference_path("API 调用", ("x",)) == '{{nodes["API 调用"].x}}'
    assert reference_path("n", ("content-type",)) == '{{n["content-type"]}}'


def test_actions_follow_the_run_and_have_stable_names(window, qtbot):
    for name in (
        "actionRun",
        "actionStep",
        "actionContinue",
        "actionPause",
        "actionStop",
        "actionToggleBreakpoint",
    ):
        action(window, name)
    for name in ("dockLog", "dockHistory", "dockDataInspector"):
        assert window.findChild(type(window.dock_inspector), name) is not None, name
    assert not action(window, "actionRun").isEnabled()  # no workflow open
    tab = open_graph(window, chain_graph("actions", [delay("z", 0.3)]))
    assert action(window, "actionRun").isEnabled()
    assert action(window, "actionRun").shortcut().toString() == "F5"
    assert action(window, "actionStep").shortcut().toString() == "F10"
    assert action(window, "actionStop").shortcut().toString() == "Shift+F5"
    assert action(window, "actionToggleBreakpoint").shortcut().toString() == "F9"
    controller = window.run_ui.controller(tab)
    action(window, "actionRun").trigger()
    dialog = window.run_ui.input_dialog
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "z" in controller.overlay.highlights, timeout=EVENTUALLY_MS)
    assert not action(window, "actionRun").isEnabled()
    assert action(window, "actionPause").isEnabled() and action(window, "actionStop").isEnabled()
    assert not action(window, "actionContinue").isEnabled()
    action(window, "actionPause").trigger()
    qtbot.waitUntil(lambda: controller.paused, timeout=EVENTUALLY_MS)
    assert action(window, "actionContinue").isEnabled() and not action(window, "actionPause").isEnabled()
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS):
        action(window, "actionContinue").trigger()
    assert controller.live.status == "completed"
    assert action(window, "actionRun").isEnabled()
