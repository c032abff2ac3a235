"""The SQL about SUBWORKFLOW child runs (`workflow_executions.parent_execution_id` / `parent_step`,
migration 0009), on both databases through SQLAlchemy Core:

- `earlier_child`: the child run an earlier run of a resume chain started for a step, followed
  through its own resumes (what a resumed SUBWORKFLOW step reuses or resumes instead of starting a
  new child);
- `child_figures`: beside one workflow's monitor figures, how many of its runs were child runs,
  and the time its runs spent waiting in SUBWORKFLOW steps (their own time, without their
  children's); the top-level runs' figures are store/monitor/stats.py's with `top_level`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, literal_column, select
from sqlalchemy.engine import Connection

from .mapping import execution_from_row
from .tables import ExecutionLogRow, ExecutionRow, NodeRow

EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
LOGS: Table = ExecutionLogRow.__table__  # type: ignore[assignment]
NODES: Table = NodeRow.__table__  # type: ignore[assignment]
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


def child_figures(
    conn: Connection, stats: dict[str, Any], workflow_id: int, since: datetime | None = None
) -> dict[str, Any]:
    """Beside the monitor's headline figures of a workflow (`stats`, over its runs started at or
    after `since`): `child_executions` (its runs a SUBWORKFLOW step started: index entries only,
    migration 0010), `avg_time_in_children` (of its completed runs, the average seconds the
    successful steps of the SUBWORKFLOW nodes of its current graph took, i.e. waiting for child runs
    counted again under their own workflows) and `avg_own_time` (their average duration less that).
    The top-level runs' own figures: store/monitor/stats.py with `top_level`."""
    scope = [EXECUTIONS.c.workflow_id == workflow_id]
    if since is not None:
        scope.append(EXECUTIONS.c.started_at >= since)
    children = int(
        conn.execute(
            select(func.count()).where(*scope, EXECUTIONS.c.parent_execution_id.is_not(None))
        ).scalar()
        or 0
    )
    calls = select(NODES.c.id).where(NODES.c.workflow_id == workflow_id, NODES.c.node_type == "SUBWORKFLOW")
    # Driven from the steps of the workflow's SUBWORKFLOW nodes (the node_id index; none: nothing is
    # read), each run found by its key. SQLite's planner would rather walk every successful step by
    # the status index, or every completed run: the unary + keeps it off those indexes.
    sqlite = conn.dialect.name == "sqlite"
    step_status = literal_column("+workflow_execution_logs.status") if sqlite else LOGS.c.status
    run_status = literal_column("+workflow_executions.status") if sqlite else EXECUTIONS.c.status
    started = [EXECUTIONS.c.started_at >= since] if since is not None else []
    in_children = conn.execute(
        select(func.sum(LOGS.c.execution_time))
        .select_from(LOGS.join(EXECUTIONS, EXECUTIONS.c.id == LOGS.c.execution_id))
        .where(LOGS.c.node_id.in_(calls), step_status == "success", run_status == "completed", *started)
    ).scalar()
    done, avg = stats["successful_executions"], stats["avg_execution_time"]
    per_run = float(in_children) / done if in_children and done else None
    return {
        "child_executions": children,
        "avg_time_in_children": _number(per_run),
        "avg_own_time": None if avg is None else _number(max(0.0, avg - (per_run or 0.0))),
    }


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)  # milliseconds, as the monitor's figures
