"""The SQL about SUBWORKFLOW child runs (`workflow_executions.parent_execution_id` / `parent_step`,
migration 0009), on both databases through SQLAlchemy Core:

- `earlier_child`: the child run an earlier run of a resume chain started for a step, followed
  through its own resumes (what a resumed SUBWORKFLOW step reuses or resumes instead of starting a
  new child);
- `split_figures`: one workflow's runs told apart for the monitor: how many were child runs, the
  headline figures over its top-level runs only (the monitor's "Top-level only"), and the time its
  runs spent waiting in SUBWORKFLOW steps (their own time, without their children's).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, literal_column, select
from sqlalchemy.engine import Connection

from flowdesk.domain.enums import ExecutionStatus

from .mapping import execution_from_row
from .tables import ExecutionLogRow, ExecutionRow

EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
LOGS: Table = ExecutionLogRow.__table__  # type: ignore[assignment]
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


def split_figures(conn: Connection, workflow_id: int, since: datetime | None = None) -> dict[str, Any]:
    """One workflow's runs (started at or after `since`) told apart: `child_executions` (runs a
    SUBWORKFLOW step started), `top_level` (the headline figures over the other runs: counts by
    status, finished, completed, success rate, average / min / max / p50 / p95 duration of completed
    runs), `avg_time_in_children` (of its completed runs, the average seconds their SUBWORKFLOW
    steps spent, i.e. waiting for child runs that are counted under their own workflows) and
    `avg_own_time` (their average duration without that time, so a child's time is not counted twice)."""
    scope = [EXECUTIONS.c.workflow_id == workflow_id]
    if since is not None:
        scope.append(EXECUTIONS.c.started_at >= since)
    duration = _duration(conn)
    top = EXECUTIONS.c.parent_execution_id.is_(None)
    completed = EXECUTIONS.c.status == "completed"
    counts = {status.value: 0 for status in ExecutionStatus}
    children = 0
    for is_top, status, n in conn.execute(
        select(top, EXECUTIONS.c.status, func.count()).where(*scope).group_by(top, EXECUTIONS.c.status)
    ):
        if is_top:
            counts[status] = counts.get(status, 0) + int(n)
        else:
            children += int(n)
    timed = [*scope, top, completed, EXECUTIONS.c.completed_at.is_not(None)]
    n_timed, avg, low, high = conn.execute(
        select(func.count(), func.avg(duration), func.min(duration), func.max(duration)).where(*timed)
    ).one()

    def percentile(p: float) -> float | None:
        if not n_timed:
            return None
        rank = max(1, math.ceil(p / 100.0 * n_timed))  # nearest rank
        value = conn.execute(
            select(duration).where(*timed).order_by(duration).limit(1).offset(rank - 1)
        ).scalar()
        return _number(value)

    steps = LOGS
    in_children = conn.execute(
        select(func.sum(steps.c.execution_time))
        .select_from(EXECUTIONS.join(steps, steps.c.execution_id == EXECUTIONS.c.id))
        .where(*scope, completed, steps.c.node_type == "SUBWORKFLOW", steps.c.status == "success")
    ).scalar()
    n_completed, avg_all = conn.execute(
        select(func.count(), func.avg(duration)).where(
            *scope, completed, EXECUTIONS.c.completed_at.is_not(None)
        )
    ).one()
    in_children_avg = float(in_children) / n_completed if in_children and n_completed else None
    avg_all = None if avg_all is None else float(avg_all)  # PostgreSQL: a Decimal
    finished = sum(n for status, n in counts.items() if status in FINAL_STATUSES)
    done = counts.get("completed", 0)
    return {
        "child_executions": children,
        "avg_time_in_children": _number(in_children_avg),
        "avg_own_time": _number(max(0.0, avg_all - (in_children_avg or 0.0)))
        if avg_all is not None
        else None,
        "top_level": {
            "total_executions": sum(counts.values()),
            "finished_executions": finished,
            "active_executions": counts.get("running", 0) + counts.get("paused", 0),
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
        },
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
