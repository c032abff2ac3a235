"""The SQL about SUBWORKFLOW child runs (`workflow_executions.parent_execution_id` / `parent_step`,
migration 0009), on both databases through SQLAlchemy Core:

- `earlier_child`: the child run an earlier run of a resume chain started for a step, followed
  through its own resumes (what a resumed SUBWORKFLOW step reuses or resumes instead of starting a
  new child);
- `child_run_figures`: per workflow, how many of its runs were child runs and how long they took (the
  monitor's "child runs" figures, and its "top-level only" filter's counterpart).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.engine import Connection

from .mapping import execution_from_row
from .tables import ExecutionRow

EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
CHAIN_LIMIT = 10_000  # a resume chain longer than this is not followed further (a damaged database)


def resume_chain(conn: Connection, execution_id: int) -> list[int]:
    """`execution_id` and the runs it resumed, newest first (following `resumed_from_id`)."""
    chain = [execution_id]
    while len(chain) < CHAIN_LIMIT:
        earlier = conn.execute(
            select(EXECUTIONS.c.resumed_from_id).where(EXECUTIONS.c.id == chain[-1])
        ).scalar()
        if earlier is None or earlier in chain:
            break
        chain.append(int(earlier))
    return chain


def earlier_child(conn: Connection, resumed_from: int, step_name: str) -> Any:
    """The child run that `resumed_from` (or a run it resumed) started for the step `step_name`,
    the newest one, followed through the runs that resumed it to the last (an Execution), or None
    when no run of the chain got that far."""
    chain = resume_chain(conn, resumed_from)
    row = conn.execute(
        select(EXECUTIONS)
        .where(EXECUTIONS.c.parent_execution_id.in_(chain), EXECUTIONS.c.parent_step == step_name)
        .order_by(EXECUTIONS.c.id.desc())
        .limit(1)
    ).first()
    seen: set[int] = set()
    while row is not None and row.resumed_as_id is not None and row.id not in seen:
        seen.add(row.id)
        later = conn.execute(select(EXECUTIONS).where(EXECUTIONS.c.id == row.resumed_as_id)).first()
        if later is None:
            break
        row = later
    return execution_from_row(row) if row is not None else None


def child_run_figures(
    conn: Connection, since: datetime | None = None, workflow_ids: Sequence[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Per workflow id: `child_runs` (its runs a SUBWORKFLOW step started), `child_completed`, and
    `child_duration` (their summed seconds, finished ones), over runs started at or after `since`."""
    duration = func.sum(
        case(
            (
                EXECUTIONS.c.completed_at.is_not(None),
                _seconds(conn, EXECUTIONS.c.completed_at) - _seconds(conn, EXECUTIONS.c.started_at),
            ),
            else_=0.0,
        )
    )
    conditions = [EXECUTIONS.c.parent_execution_id.is_not(None)]
    if since is not None:
        conditions.append(EXECUTIONS.c.started_at >= since)
    if workflow_ids is not None:
        conditions.append(EXECUTIONS.c.workflow_id.in_(list(workflow_ids)))
    rows = conn.execute(
        select(
            EXECUTIONS.c.workflow_id,
            func.count(),
            func.sum(case((EXECUTIONS.c.status == "completed", 1), else_=0)),
            duration,
        )
        .where(and_(*conditions))
        .group_by(EXECUTIONS.c.workflow_id)
    )
    return {
        int(wid): {
            "child_runs": int(count),
            "child_completed": int(done or 0),
            "child_duration": float(seconds or 0.0),
        }
        for wid, count, done, seconds in rows
    }


def _seconds(conn: Connection, column: Any) -> Any:
    """A timestamp column as seconds (a number both databases can subtract)."""
    if conn.dialect.name == "sqlite":
        return func.julianday(column) * 86400.0
    return func.extract("epoch", column)
