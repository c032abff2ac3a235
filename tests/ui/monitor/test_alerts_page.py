"""The monitor's Alerts page, driven like a user (pytest-qt, offscreen, a real SQLite file): add a
rule from the form, see a bad one refused in one sentence, delete one, and see an alert that a real
run fires appear in the list."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

import flowdesk.ui  # noqa: F401  (the None refcount guard before any painting)
from flowdesk.services.alerts import AlertService
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import Database
from flowdesk.ui.monitor.alerts_panel import AlertsPanel
from tests.support.app_driving import make_window
from tests.support.graph_builder import chain, executor, graph
from tests.support.waiting import EVENTUALLY_MS


@pytest.fixture
def database(tmp_path):
    db = Database(tmp_path / "alerts-page.db")
    nodes, connections = chain(
        ("start", "START"), ("call", "API_CALL", {"url": "{{input.url}}"}), ("end", "END")
    )
    WorkflowService(db).create_from_graph(graph(nodes, connections, name="orders"))
    yield db
    db.close()


@pytest.fixture
def panel(qtbot, database):
    page = AlertsPanel(database)
    qtbot.addWidget(page)
    page.resize(1200, 400)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=EVENTUALLY_MS):
        page.refresh()
    return page


def _type(qtbot, field, text: str) -> None:
    field.clear()
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(field, text)


def _choose(qtbot, combo, text: str) -> None:
    combo.setFocus()
    index = combo.findText(text, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0, text
    while combo.currentIndex() != index:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def _add(qtbot, page) -> None:
    with qtbot.waitSignal(page.loaded, timeout=EVENTUALLY_MS):
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)


def test_a_rule_added_from_the_form_is_stored_and_listed(qtbot, panel, database):
    _choose(qtbot, panel.workflow, "orders")
    _choose(qtbot, panel.kind, "success rate below")
    _type(qtbot, panel.threshold, "80")
    _choose(qtbot, panel.window_kind, "last seconds")
    _type(qtbot, panel.window_value, "3600")
    assert not panel.node.isEnabled()
    _add(qtbot, panel)
    ((rule, name),) = AlertService(database).list_rules()
    assert (name, rule.kind.value, rule.threshold, rule.period, rule.runs) == (
        "orders",
        "success_rate",
        80,
        3600,
        None,
    )
    assert panel.rules.rowCount() == 1
    assert panel.rules.item(0, 4).text() == "success rate below 80 % over the last 3600 s"
    assert panel.rules.item(0, 3).text() == "armed"
    assert panel.problem.text() == ""


def test_a_bad_rule_is_refused_in_one_sentence_and_nothing_is_stored(qtbot, panel, database):
    _choose(qtbot, panel.kind, "node error rate above")
    _type(qtbot, panel.threshold, "30")
    assert panel.node.isEnabled()
    with qtbot.waitSignal(panel.loaded, timeout=EVENTUALLY_MS):  # the error is shown
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert (
        panel.problem.text() == "The alert rule&#x27;s node must name the node whose error rate it watches."
    )
    _type(qtbot, panel.threshold, "many")
    _type(qtbot, panel.node, "call")
    with qtbot.waitSignal(panel.loaded, timeout=EVENTUALLY_MS):
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert "threshold must be a number" in panel.problem.text()
    assert AlertService(database).list_rules() == []


def test_deleting_the_selected_rule(qtbot, panel, database):
    wf_id = WorkflowService(database).find_workflow("orders").id
    keep = AlertService(database).add_rule(wf_id, "failures_in_row", 3)
    gone = AlertService(database).add_rule(wf_id, "p95_duration", 2)
    with qtbot.waitSignal(panel.loaded, timeout=EVENTUALLY_MS):
        panel.refresh()
    assert not panel.delete_button.isEnabled()
    rect = panel.rules.visualItemRect(panel.rules.item(1, 0))
    qtbot.mouseClick(panel.rules.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.delete_button.isEnabled()
    with qtbot.waitSignal(panel.loaded, timeout=EVENTUALLY_MS):
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert [r.id for r, _ in AlertService(database).list_rules()] == [keep.id]
    assert panel.rules.rowCount() == 1 and gone.id != keep.id


def test_an_alert_fired_by_a_run_appears_in_the_list(qtbot, panel, database, http_server):
    wf_id = WorkflowService(database).find_workflow("orders").id
    AlertService(database).add_rule(wf_id, "failures_in_row", 1, name="orders keep failing")
    ex = executor(db=database)
    panel.attach_executor(ex)
    fired: list[str] = []
    panel.alertFired.connect(fired.append)

    async def failing_run():
        try:
            return await ex.execute_workflow(wf_id, {"url": f"{http_server.url}/status/500"})
        finally:
            await ex.aclose()

    with qtbot.waitSignal(panel.loaded, timeout=EVENTUALLY_MS):
        handle = asyncio.run(failing_run())
    assert handle.status.value == "failed"
    assert fired == ["orders: orders keep failing (the last 1 runs failed)."]
    assert panel.history.rowCount() == 1
    assert panel.history.item(0, 2).text() == f"#{handle.id}"
    assert panel.history.item(0, 4).text() == fired[0]
    assert panel.rules.item(0, 3).text() == "firing"
    panel.shutdown()


def test_the_window_has_an_alerts_dock_in_the_view_menu(qtbot, backend, settings, tmp_path):  # noqa: F811
    w = make_window(qtbot, backend, settings, tmp_path)
    try:
        dock = w.findChild(QDockWidget, "dockAlerts")
        assert dock is not None and not dock.isVisible()
        view = next(a.menu() for a in w.menuBar().actions() if a.menu() and a.text() == "&View")
        toggle = next(a for a in view.actions() if a.text() == "Alerts")
        with qtbot.waitSignal(w.monitor_host.alerts.loaded, timeout=EVENTUALLY_MS):
            toggle.trigger()
        assert dock.isVisible()
    finally:
        for tab in w.editor_tabs():
            tab.doc.undo_stack.setClean()
        w.close()
        w.deleteLater()
