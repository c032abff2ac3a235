"""The monitor tells child runs apart: a SUBWORKFLOW's child run counts under its own workflow,
marked as a child (`child_executions`), `top_level_only=True` gives the top-level runs' figures, and a parent's own time leaves out the time spent in its
children (`avg_own_time`), on a real database."""

from __future__ import annotations

import asyncio

from flowdesk.services.monitoring import MonitorQueries
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import executor, graph
from tests.support.subworkflows import caller


def run(db, workflow_id: int, input_data: dict):
    async def main():
        ex = executor(db=db)
        try:
            handle = await ex.execute_workflow(workflow_id, input_data)
            await ex.flush()
            return handle
        finally:
            await ex.aclose()

    return asyncio.run(main())


def test_child_runs_are_counted_under_their_workflow_marked_as_children(db):
    checker = WorkflowService(db).create_from_graph(
        graph(
            [
                ("start", "START"),
                ("nap", "DELAY", {"seconds": 0.05}),
                ("check", "ASSERT", {"assertions": ["input.n > 5"]}),
                ("end", "END"),
            ],
            [("start", "nap"), ("nap", "check"), ("check", "end")],
            name="checker",
        )
    )
    parent = caller(db, "parent", {"workflow": "checker", "input": {"n": "{{input.n}}"}})
    assert run(db, parent.workflow.id, {"n": 9}).status == "completed"
    assert run(db, parent.workflow.id, {"n": 8}).status == "completed"
    assert run(db, checker.workflow.id, {"n": 1}).status == "failed"  # a top-level run of its own

    queries = MonitorQueries(db)
    stats = queries.execution_stats(checker.workflow.id)
    assert (stats["total_executions"], stats["child_executions"], stats["success_rate"]) == (3, 2, 66.67)
    assert stats["top_level_only"] is False
    only = queries.execution_stats(checker.workflow.id, top_level_only=True)
    assert (only["total_executions"], only["child_executions"], only["top_level_only"]) == (1, 2, True)
    assert (only["successful_executions"], only["failed_executions"], only["success_rate"]) == (0, 1, 0.0)
    assert (only["timed_executions"], only["avg_execution_time"], only["p95_execution_time"]) == (
        0,
        None,
        None,
    )
    assert {s: n for s, n in only["status_counts"].items() if n} == {"failed": 1}

    calling = queries.execution_stats(parent.workflow.id)
    assert (calling["total_executions"], calling["child_executions"]) == (2, 0)
    # The parent's runs waited some 50 ms each in the child: its own time leaves that out.
    assert calling["avg_time_in_children"] >= 0.05
    assert calling["avg_own_time"] < calling["avg_execution_time"] - 0.04
    # Without child runs, its top-level figures are its figures.
    alone = queries.execution_stats(parent.workflow.id, top_level_only=True)
    assert {k: v for k, v in alone.items() if k != "top_level_only"} == {
        k: v for k, v in calling.items() if k != "top_level_only"
    }
