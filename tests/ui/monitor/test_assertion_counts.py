"""The monitor counts each run's assertions (passed / failed over its ASSERT steps): real runs of a
workflow with an ASSERT, through the engine, into a real SQLite file."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt

from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.services.workflows import WorkflowService
from flowdesk.ui.monitor import MonitorView
from tests.support.graph_builder import chain, graph
from tests.support.waiting import EVENTUALLY_MS


def _runs(db):
    checks = {"assertions": ["input.a == 1", "input.b == 2", {"that": "input.c", "message": "c is set"}]}
    nodes, conns = chain(("start", "START"), ("check", "ASSERT", checks), ("end", "END"))
    stored = WorkflowService(db).create_from_graph(graph(nodes, conns, name="api test"))
    plain = WorkflowService(db).create_from_graph(graph(*chain(("s", "START"), ("e", "END")), name="plain"))

    async def main():
        ids = []
        async with WorkflowExecutor(db=db, load_plugins=False) as ex:
            for data in ({"a": 1, "b": 2, "c": True}, {"a": 1, "b": 3, "c": False}):
                handle = await ex.execute_workflow(stored.workflow.id, data)
                await handle.wait()
                ids.append(handle.id)
            handle = await ex.execute_workflow(plain.workflow.id, {})
            await handle.wait()
        return ids

    return stored.workflow.id, plain.workflow.id, asyncio.run(main())


def test_assertion_counts_per_run_in_the_queries_and_the_monitor_view(qtbot, db):
    workflow_id, plain_id, (passing, failing) = _runs(db)
    queries = MonitorQueries(db)

    runs = queries.assertion_runs(workflow_id)
    assert [(r["id"], r["status"], r["passed"], r["failed"]) for r in runs] == [
        (failing, "failed", 1, 2),
        (passing, "completed", 3, 0),
    ]
    assert queries.assertion_runs(plain_id) == []

    view = MonitorView(queries, workflow_id, period=1)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        view.show()
    qtbot.waitExposed(view)
    table = view.assertions_table
    rows = [[table.item(r, c).text() for c in (0, 3, 4)] for r in range(table.rowCount())]
    assert rows == [[f"#{failing}", "1", "2"], [f"#{passing}", "3", "0"]]
    assert view.assertions_label.text().startswith("Assertions by run: 4 passed, 2 failed in 2 run(s)")

    table.scrollToItem(table.item(0, 0))
    rect = table.visualItemRect(table.item(0, 0))
    assert table.viewport().rect().contains(rect.center())  # the pane is tall enough to show its rows
    with qtbot.waitSignal(view.executionActivated, timeout=EVENTUALLY_MS) as opened:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [failing]
