"""The active-executions panel against a real engine run (START -> DELAY 1 h -> END) under qasync:
the run shows while it runs, with its current node, Cancel stops it, and the row goes away."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.ui.monitor import ActiveExecutionsPanel
from tests.support.waiting import eventually, until

engine = pytest.importorskip("flowdesk.engine.executor")
qasync = pytest.importorskip("qasync")
from flowdesk.ui.event_loop import SlicedEventLoop  # noqa: E402  (after the importorskip)


def test_panel_follows_a_real_run_and_cancels_it(qtbot, db):
    from PySide6.QtWidgets import QApplication

    from flowdesk.services import WorkflowService

    service = WorkflowService(db)
    wf = service.create_workflow("slow")
    start = service.add_node(wf.id, "start", "START")
    wait = service.add_node(wf.id, "wait", "DELAY", config={"seconds": 3600})
    end = service.add_node(wf.id, "end", "END")
    service.add_connection(wf.id, start.id, wait.id)
    service.add_connection(wf.id, wait.id, end.id)

    loop = SlicedEventLoop(QApplication.instance(), already_running=False)
    asyncio.set_event_loop(loop)

    async def scenario() -> None:
        executor = engine.WorkflowExecutor(db=db, load_plugins=False)
        panel = ActiveExecutionsPanel(MonitorQueries(db), executor, interval_ms=100)
        qtbot.addWidget(panel)
        try:
            handle = await executor.execute_workflow(wf.id, config={"async": True})
            await until(
                lambda: handle.id in panel.runs and panel.runs[handle.id]["current_node"] == "wait",
                "the panel showing the run at node 'wait'",
            )
            button = panel.cancel_button(handle.id)
            assert button is not None and button.isEnabled()
            button.click()
            await eventually(handle.wait(), "the end of the run cancelled from the panel")
            assert handle.status == ExecutionStatus.CANCELLED
            await until(lambda: panel.table.rowCount() == 0, "the cancelled run's row leaving the panel")
            assert handle.id not in panel.runs
        finally:
            panel.shutdown()
            await executor.aclose()

    try:
        loop.run_until_complete(scenario())
    finally:
        asyncio.set_event_loop(None)
        loop.close()  # joins qasync's worker QThreads
