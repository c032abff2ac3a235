"""The SQL about SUBWORKFLOW child runs (`workflow_executions.parent_execution_id` / `parent_step`,
migration 0009), on both databases through SQLAlchemy Core:

- `earlier_child`: the child run an earlier run of a resume chain started for a step, followed
  through its own resumes (what a resumed SUBWORKFLOW step reuses or resumes instead of starting a
  new child);
- `with_child_figures`: one workflow's monitor figures with its runs told apart: how many were
  child runs, the headline figures over its top-level runs only (the monitor's "Top-level only"),
  and the time its runs spent waiting in SUBWORKFLOW steps (their own time, without their
  children's).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, literal_column, select
from sqlalchemy.engine import Connection

from flowdesk.domain.enums import ExecutionStatus

from .mapping import execution_from_row
from .tables import ExecutionLogRow, ExecutionRow, NodeRow

EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
LOGS: Table = ExecutionLogRow.__table__  # type: ignore[assignment]
NODES: Table = NodeRow.__table__  # type: ignore[assignment]
FINAL_STATUSES = frozenset(s.value for s in ExecutionStatus if s.is_final)
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


def with_child_figures(
    conn: Connection,
    stats: dict[str, Any],
    workflow_id: int,
    since: datetime | None = None,
    *,
    top_level_only: bool = False,
) -> dict[str, Any]:
    """The monitor's headline figures of a workflow (`stats`, over all its runs started at or after
    `since`) with the child runs told apart: `child_executions` (its runs a SUBWORKFLOW step
    started), `avg_time_in_children` (of its completed runs, the average seconds the steps of the
    SUBWORKFLOW nodes of its current graph took, i.e. waiting for child runs counted again under
    their own workflows) and `avg_own_time` (their average duration less that). `top_level_only`:
    the headline figures (total_executions to p95_execution_time) are those of its other runs, the top-level ones (read only then, and
    only when it has child runs), and `top_level_only` says so."""
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
    figures = {
        **stats,
        "child_executions": children,
        "avg_time_in_children": _number(per_run),
        "avg_own_time": None if avg is None else _number(max(0.0, avg - (per_run or 0.0))),
        "top_level_only": top_level_only,
    }
    if top_level_only and children:
        figures.update(_top_level(conn, scope))
    return figures


def _top_level(conn: Connection, scope: list[Any]) -> dict[str, Any]:
    """The headline figures over the runs in `scope` that no SUBWORKFLOW step started."""
    top = [*scope, EXECUTIONS.c.parent_execution_id.is_(None)]
    counts = {status.value: 0 for status in ExecutionStatus}
    for status, n in conn.execute(
        select(EXECUTIONS.c.status, func.count()).where(*top).group_by(EXECUTIONS.c.status)
    ):
        counts[status] = counts.get(status, 0) + int(n)
    duration = _duration(conn)
    timed = [*top, EXECUTIONS.c.status == "completed", EXECUTIONS.c.completed_at.is_not(None)]
    n_timed, avg, low, high = conn.execute(
        select(func.count(), func.avg(duration), func.min(duration), func.max(duration)).where(*timed)
    ).one()

    def percentile(p: float) -> float | None:
        if not n_timed:
            return None
        rank = max(1, math.ceil(p / 100.0 * n_timed))  # nearest rank
        return _number(
            conn.execute(select(duration).where(*timed).order_by(duration).limit(1).offset(rank - 1)).scalar()
        )

    finished = sum(n for status, n in counts.items() if status in FINAL_STATUSES)
    done = counts["completed"]
    return {
        "total_executions": sum(counts.values()),
        "finished_executions": finished,
        "active_executions": counts["running"] + counts["paused"],
        "status_counts": counts,
        "successful_executions": done,
        "failed_executions": finished - done,
        "success_rate": round(done * 100.0 / finished, 2) if finished else None,
        "timed_executions": int(n_timed),
        "avg_execution_time": _number(avg),
        "min_execution_time": _number(low),
        "max_execution_time": _number(high),
        "p50_execution_time": percentile(50),
        "p95_execution_time": percentile(95),
    }


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)  # milliseconds, as the monitor's figures


_T = "workflow_executions."
_SQLITE_DURATION = f"((julianday({_T}completed_at) - julianday({_T}started_at)) * 86400.0)"
_PG_MS = (
    "(date_part('epoch', date_trunc('minute', {column} AT TIME ZONE 'UTC') - TIMESTAMP '2000-01-01') * 1000"
    " + floor(date_part('second', {column} AT TIME ZONE 'UTC') * 1000.0 + 0.5))"
)
_PG_DURATION = (
    f"(({_PG_MS.format(column=_T + 'completed_at')} - {_PG_MS.format(column=_T + 'started_at')}) / 1000.0)"
)


def _duration(conn: Connection) -> Any:
    """A run's duration in seconds: on PostgreSQL each time read to the millisecond as SQLite's
    julianday() reads it, so both databases give the same figures (the monitor's own duration,
    services/monitoring/sql_dialect.py, and migration 0003's index expression)."""
    return literal_column(_SQLITE_DURATION if conn.dialect.name == "sqlite" else _PG_DURATION)
