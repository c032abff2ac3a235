"""At start, runs a previous session left cut off (marked interrupted by the store when the
database opens) are offered in a non-modal notice; Resume re-runs them in their workflow's tab."""

from __future__ import annotations

import asyncio

import psutil
from sqlalchemy import text

from flowdesk.services.executions import ExecutionService
from flowdesk.store import Database
from tests.support.app_driving import chain_graph, delay
from tests.support.waiting import EVENTUALLY_MS


def _dead_pid() -> int:
    pid = 4_000_000
    while psutil.pid_exists(pid):
        pid += 1
    return pid


def test_interrupted_runs_are_offered_and_resumed(qtbot, qloop, tmp_path, settings):
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.ui.backend import EditorBackend
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.run import install_run_ui

    path = tmp_path / "crashed.db"
    db = Database(path)
    graph = WorkflowService(db).create_from_graph(chain_graph("cut off", [delay("middle")]))
    runs = ExecutionService(db)
    cut = runs.create_execution(graph.workflow.id, input_data={"k": 1}, status="running")
    with db.session() as session:  # as if the process running it had died
        session.execute(
            text("UPDATE workflow_executions SET runner_pid = :p WHERE id = :i"),
            {"p": _dead_pid(), "i": cut.id},
        )
    db.close()

    backend = EditorBackend(path)  # opening marks it interrupted
    assert ExecutionService(backend.db).get_execution(cut.id).status == "interrupted"
    window = MainWindow(
        backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600
    )
    ui = install_run_ui(window, load_plugins=False)
    window.show()
    try:
        notice = ui.offer_interrupted()
        assert notice is not None and notice.isVisible() and not notice.isModal()
        assert notice.list.count() == 1 and f"#{cut.id}" in notice.list.item(0).text()
        notice.resume_button.click()
        tab = window.tab_for(graph.workflow.id)
        assert tab is not None and window.current_tab() is tab
        controller = ui.controller(tab)
        qtbot.waitUntil(lambda: controller.live is not None and controller.live.done, timeout=EVENTUALLY_MS)
        assert controller.live.status == "completed"
        resumed = [e for e in ExecutionService(backend.db).list_executions() if e.resumed_from_id == cut.id]
        assert len(resumed) == 1 and resumed[0].input_data == {"k": 1}
        assert ui.offer_interrupted() is None  # resumed: not offered again
        assert ExecutionService(backend.db).get_execution(cut.id).status == "resumed"
        # The Resume button's path again (history dock -> controller): refused, nothing runs.
        messages: list[str] = []
        controller.message.connect(messages.append)
        controller.resume_execution(cut.id)
        qtbot.waitUntil(lambda: any(m.startswith("Not resumed") for m in messages), timeout=10_000)
        assert f"execution {cut.id} was already resumed as execution {resumed[0].id}" in messages[-1]
        again = [e for e in ExecutionService(backend.db).list_executions() if e.resumed_from_id == cut.id]
        assert len(again) == 1
    finally:
        ui.stop_all()
        done = asyncio.ensure_future(ui.aclose())
        qtbot.waitUntil(done.done, timeout=EVENTUALLY_MS)
        window.close()
        window.deleteLater()
        backend.close()


def test_dismissed_interrupted_runs_are_not_offered_again(qtbot, qloop, tmp_path, settings):
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.ui.backend import EditorBackend
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.run import install_run_ui

    backend = EditorBackend(tmp_path / "d.db")
    graph = WorkflowService(backend.db).create_from_graph(chain_graph("dismiss", [delay("x")]))
    cut = ExecutionService(backend.db).create_execution(graph.workflow.id, status="running")
    ExecutionService(backend.db).mark_interrupted(cut.id)
    window = MainWindow(
        backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600
    )
    ui = install_run_ui(window, load_plugins=False)
    try:
        notice = ui.offer_interrupted()
        assert notice is not None
        notice.dismiss_button.click()
        assert ui.offer_interrupted() is None
    finally:
        done = asyncio.ensure_future(ui.aclose())
        qtbot.waitUntil(done.done, timeout=EVENTUALLY_MS)
        window.close()
        window.deleteLater()
        backend.close()
