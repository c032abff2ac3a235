"""A worker taking over a dead runner's run (`engine.records.interrupt_dead_run`) interrupts the
SUBWORKFLOW child runs that runner ran for it too, at any depth, and cancels their unfinished
steps, so that resuming the run resumes its children; runs of another runner are left alone. On
SQLite and PostgreSQL, on the connection the engine's writer uses."""

from __future__ import annotations

from sqlalchemy import insert, select

from flowdesk.engine import records
from flowdesk.services.workflows import WorkflowService
from flowdesk.store import run_rows
from flowdesk.store.tables import ExecutionLogRow, ExecutionRow, utcnow

EXECUTIONS = ExecutionRow.__table__
LOGS = ExecutionLogRow.__table__


def test_taking_over_a_run_interrupts_the_child_runs_its_dead_runner_ran(db):
    workflow = WorkflowService(db).create_workflow("w")
    dead, alive = ("elsewhere", 4242), ("elsewhere", 4343)

    with db.engine.connect() as conn:

        def row(parent: int | None, runner: tuple[str, int], status: str = "running") -> int:
            values = {
                "workflow_id": workflow.id, "status": status, "runner_host": runner[0], "runner_pid": runner[1],
                "parent_execution_id": parent, "parent_step": None if parent is None else "call",
                "started_at": utcnow(),
            }  # fmt: skip
            run = int(
                conn.execute(insert(EXECUTIONS).values(**values).returning(EXECUTIONS.c.id)).scalar_one()
            )
            conn.execute(
                insert(LOGS).values(
                    execution_id=run, step_name="call", node_name="call", status="running", sequence=1
                )
            )
            return run

        top = row(None, dead)
        child = row(top, dead)
        grandchild = row(child, dead, "paused")
        done = row(top, dead, "completed")
        elsewhere = row(top, alive)  # a child another runner runs (left alone)
        unrelated = row(None, dead)
        conn.commit()
        reason = "Interrupted: the worker running it (elsewhere pid 4242) stopped."
        assert run_rows.write_transaction(conn, records.interrupt_dead_run, top, *dead, reason)

        statuses = dict(conn.execute(select(EXECUTIONS.c.id, EXECUTIONS.c.status)).all())
        steps = dict(conn.execute(select(LOGS.c.execution_id, LOGS.c.status)).all())
        conn.rollback()
    assert [statuses[r] for r in (top, child, grandchild, done, elsewhere, unrelated)] == [
        "interrupted", "interrupted", "interrupted", "completed", "running", "running",
    ]  # fmt: skip
    assert [steps[r] for r in (top, child, grandchild, elsewhere, unrelated)] == [
        "cancelled", "cancelled", "cancelled", "running", "running",
    ]  # fmt: skip
