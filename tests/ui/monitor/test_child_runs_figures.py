"""The monitor view tells child runs apart: the run count's note names the child runs, and a click
on "Top-level only" shows the figures of the runs started on their own (real runs into SQLite)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt

from flowdesk.services.monitoring import MonitorQueries
from flowdesk.services.workflows import WorkflowService
from tests.support.app_driving import shown_monitor_view
from tests.support.graph_builder import executor, graph
from tests.support.subworkflows import caller
from tests.support.waiting import EVENTUALLY_MS


def test_the_cards_count_child_runs_and_top_level_only_leaves_them_out(qtbot, db):
    checker = WorkflowService(db).create_from_graph(
        graph(
            [("start", "START"), ("check", "ASSERT", {"assertions": ["input.n > 5"]}), ("end", "END")],
            [("start", "check"), ("check", "end")],
            name="checker",
        )
    )
    parent = caller(db, "parent", {"workflow": "checker", "input": {"n": "{{input.n}}"}})

    async def main():
        ex = executor(db=db)
        try:
            for workflow_id, n in (
                (parent.workflow.id, 9),
                (parent.workflow.id, 7),
                (checker.workflow.id, 1),
            ):
                await (await ex.execute_workflow(workflow_id, {"n": n})).wait()
            await ex.flush()
        finally:
            await ex.aclose()

    asyncio.run(main())
    view = shown_monitor_view(qtbot, MonitorQueries(db), checker.workflow.id)
    cards = view.cards
    assert (cards["executions"].value.text(), cards["executions"].note.text()) == (
        "3",
        "3 finished; 2 child runs",
    )
    assert cards["success"].value.text() == "66.7 %"

    box = view.top_level_only
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())
    assert box.isChecked()
    assert (cards["executions"].value.text(), cards["executions"].note.text()) == (
        "1",
        "1 finished; 2 child runs left out",
    )
    assert (cards["success"].value.text(), cards["failures"].value.text()) == ("0.0 %", "1")

    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        view.set_workflow(parent.workflow.id)
    # The parent's runs waited in their SUBWORKFLOW step: their own time is shown beside the average.
    assert cards["avg"].note.text().startswith("completed runs; own time ")
    assert cards["executions"].note.text() == "2 finished"
