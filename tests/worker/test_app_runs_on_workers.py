"""The app hands runs to a real worker process: the Run button's menu, the lit canvas, the log dock,
Stop, all over a real redis-server and a real PostgreSQL store (the app and the worker share it)."""

from __future__ import annotations

import asyncio
import os

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QToolButton

from tests.support.app_driving import api, chain_graph, give_input, open_graph
from tests.support.qt_loop import qloop, qloop_session, run_window  # noqa: F401

PATIENCE_MS = 120_000  # a worker process on a busy machine: a bound, not a speed target


@pytest.fixture
def app_window(qtbot, qloop, worker_db, redis_server, tmp_path, monkeypatch):  # noqa: F811
    """The editor window on the workers' PostgreSQL database, with the broker in its settings."""
    from flowdesk.ui.backend import EditorBackend

    monkeypatch.delenv("FLOWDESK_BROKER", raising=False)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("workers/broker", redis_server.url)
    backend = EditorBackend(worker_db)
    yield from run_window(qtbot, backend, settings, tmp_path)
    backend.close()


def choose_from_run_menu(qtbot, window, object_name: str) -> None:
    """Open the Run button's menu with its arrow, as a user does, and click the named item."""
    button = window.toolbar.widgetForAction(window.action_run)
    assert isinstance(button, QToolButton) and button.menu() is not None
    assert button.popupMode() == QToolButton.ToolButtonPopupMode.MenuButtonPopup
    wanted = window.findChild(QAction, object_name)

    tries = iter(range(3000))  # the menu is looked for until it is open (a bound for a failure)

    def click_item() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None or not menu.isVisible():
            if next(tries, None) is not None:
                QTimer.singleShot(20, click_item)  # the menu is still opening
            return
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(wanted).center())

    QTimer.singleShot(0, click_item)
    # The arrow is the button's right edge; the press opens the menu (and returns once it closed).
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() - 3, button.height() // 2))


def choose_queue(qtbot, window, name: str | None = None) -> None:
    """In the queue chooser, type `name` (or keep what it offers) and click OK, as a user does."""
    dialog = window.run_ui.queue_dialog
    assert dialog is not None and dialog.isVisible()
    if name is not None:
        edit = dialog.combo.lineEdit()
        qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(edit, name)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def runner_of(window, execution_id: int) -> tuple[str | None, int | None]:
    from flowdesk.services.executions import ExecutionService

    row = ExecutionService(window.backend.db).get_execution(execution_id)
    return row.runner_host, row.runner_pid


def test_run_on_workers_lights_the_canvas_fills_the_log_and_stops_like_a_local_run(
    app_window, start_worker, http_server, qtbot
):
    window = app_window
    worker = start_worker("--queues", "default", "--concurrency", "4")
    tab = open_graph(
        window,
        chain_graph(
            "on workers",
            [
                api("fetch", f"{http_server.url}/hit/app-fetch"),
                api("held", f"{http_server.url}/hold/app-held"),
            ],
        ),
    )
    controller = window.run_ui.controller(tab)
    overlay = controller.overlay

    # 1. Run on workers: the held call is lit on the canvas while the worker runs it; Stop cancels.
    choose_from_run_menu(qtbot, window, "actionRunOnWorkers")
    choose_queue(qtbot, window)  # the first time it offers `default`
    give_input(qtbot, window, '{"n": 1}')
    qtbot.waitUntil(
        lambda: controller.live is not None and overlay.lit_nodes == {"held"}, timeout=PATIENCE_MS
    )
    assert controller.queued and controller.live.nodes["fetch"].status == "success"
    assert overlay.badges["fetch"].text.startswith("✓ ")
    assert runner_of(window, controller.live.execution_id)[1] == worker.pid  # not this process
    assert not window.run_ui.action_pause.isEnabled() and window.run_ui.action_stop.isEnabled()
    with qtbot.waitSignal(controller.run_finished, timeout=PATIENCE_MS) as stopped:
        window.run_ui.action_stop.trigger()
    assert stopped.args[0].status == "cancelled"
    assert overlay.lit_nodes == set()

    # 2. Again on workers: the call answers now; the log dock reads as for a local run.
    choose_from_run_menu(qtbot, window, "actionRunOnWorkers")
    choose_queue(qtbot, window)
    with qtbot.waitSignal(controller.run_finished, timeout=PATIENCE_MS) as finished:
        give_input(qtbot, window, '{"n": 2}')
    state = finished.args[0]
    assert state.status == "completed" and state.progress == 100.0
    assert set(overlay.badges) == {"start", "fetch", "held", "end"}
    assert all(overlay.badges[name].text.startswith("✓ ") for name in ("fetch", "held"))
    lines = window.run_ui.log_view.lines()
    assert "execution started" in lines[0] and "execution completed" in lines[-1]
    assert [
        name for name in ("start", "fetch", "held", "end") if any(name in x and "success" in x for x in lines)
    ] == [
        "start",
        "fetch",
        "held",
        "end",
    ]
    assert runner_of(window, state.execution_id)[1] == worker.pid
    assert window.run_ui.status_label.text() == "Completed"

    # 3. Run on this computer: the same menu, run by the app itself.
    choose_from_run_menu(qtbot, window, "actionRunLocal")
    with qtbot.waitSignal(controller.run_finished, timeout=PATIENCE_MS) as local:
        give_input(qtbot, window, '{"n": 3}')
    assert local.args[0].status == "completed" and not controller.queued
    assert runner_of(window, local.args[0].execution_id)[1] == os.getpid()
    assert http_server.count("app-fetch") == 3 and http_server.count("app-held") == 3


def test_the_queue_chooser_offers_the_workers_queues_takes_a_typed_one_and_remembers_it(
    app_window, start_worker, http_server, qtbot
):
    window = app_window
    worker = start_worker("--queues", "chooser-a,chooser-b", "--concurrency", "2")
    tab = open_graph(window, chain_graph("chosen queue", [api("fetch", f"{http_server.url}/hit/chooser")]))
    controller = window.run_ui.controller(tab)

    # The list offers the queues the live worker consumes; pick one by typing it; the run goes there.
    choose_from_run_menu(qtbot, window, "actionRunOnWorkers")
    dialog = window.run_ui.queue_dialog
    qtbot.waitUntil(lambda: {"chooser-a", "chooser-b"} <= set(dialog.queues()), timeout=PATIENCE_MS)
    assert dialog.combo.currentText() == "default"
    choose_queue(qtbot, window, "chooser-b")
    with qtbot.waitSignal(controller.run_finished, timeout=PATIENCE_MS) as finished:
        give_input(qtbot, window, "{}")
    state = finished.args[0]
    assert state.status == "completed"
    from flowdesk.services.executions import ExecutionService

    row = ExecutionService(window.backend.db).get_execution(state.execution_id)
    assert row.config["queue"] == "chooser-b" and row.runner_pid == worker.pid

    # Next time the workflow's queue is offered first; a bad name is refused in one sentence.
    choose_from_run_menu(qtbot, window, "actionRunOnWorkers")
    dialog = window.run_ui.queue_dialog
    assert dialog.combo.currentText() == "chooser-b"
    choose_queue(qtbot, window, "no spaces")
    assert dialog.isVisible() and window.run_ui.input_dialog is None
    assert dialog.error.text() == (
        "The queue name 'no spaces' is not valid: use letters, digits, '_', '.' or '-'."
    )
    # A queue no worker consumes yet can be typed: the run waits there (pending) until one does.
    choose_queue(qtbot, window, "chooser-later")
    give_input(qtbot, window, "{}")
    qtbot.waitUntil(
        lambda: controller.live is not None and controller.live.execution_id != state.execution_id,
        timeout=PATIENCE_MS,
    )
    assert controller.queued
    waiting = ExecutionService(window.backend.db).get_execution(controller.live.execution_id)
    assert waiting.status == "pending" and waiting.config["queue"] == "chooser-later"
    assert window.settings.value(f"workers/queue/{controller.workflow_id}") == "chooser-later"
    with qtbot.waitSignal(controller.run_finished, timeout=PATIENCE_MS) as stopped:
        window.run_ui.action_stop.trigger()
    assert stopped.args[0].status == "cancelled"
    assert http_server.count("chooser") == 1


def test_without_a_broker_the_run_button_has_no_menu(qtbot, qloop, tmp_path, monkeypatch):  # noqa: F811
    from flowdesk.ui.backend import EditorBackend
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.run import install_run_ui

    monkeypatch.delenv("FLOWDESK_BROKER", raising=False)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    backend = EditorBackend(tmp_path / "local.db")
    w = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600)
    try:
        install_run_ui(w, load_plugins=False)
        button = w.toolbar.widgetForAction(w.action_run)
        assert button.menu() is None
        assert w.run_ui.action_run_workers not in w.run_ui.run_menu.actions()
        monkeypatch.setenv("FLOWDESK_BROKER", "redis://127.0.0.1:6379/0")
        from flowdesk.ui.run.worker_runs import configured_broker

        assert configured_broker(settings) == "redis://127.0.0.1:6379/0"  # the environment counts too
    finally:
        asyncio.ensure_future(w.run_ui.aclose())
        w.close()
        w.deleteLater()
        backend.close()
