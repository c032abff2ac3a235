"""The SQL of alerts: rule and history rows, and the figures a rule is measured on.

Each function takes a SQLAlchemy Connection (a service's `session.connection()`), so a rule's
measuring, its `firing` flip and its history row share the caller's transaction. Windows are the
workflow's *ended* runs (those with a `completed_at`: every final status), newest first.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, insert, select, update

from .tables import TABLES, WorkflowRow

_RULES = TABLES["alert_rules"]
_HISTORY = TABLES["alert_history"]
_RUNS = TABLES["workflow_executions"]
_STEPS = TABLES["workflow_execution_logs"]


def insert_rule(conn: Connection, values: dict[str, Any]) -> int:
    """Store a rule; its new id."""
    return int(conn.execute(insert(_RULES).values(**values).returning(_RULES.c.id)).scalar_one())


def rule_rows(conn: Connection, workflow_id: int | None = None) -> list[dict[str, Any]]:
    """Rules (of one workflow, or all) by id, each with its workflow's name as `workflow_name`."""
    stmt = (
        select(_RULES, WorkflowRow.name.label("workflow_name"))
        .join(WorkflowRow, WorkflowRow.id == _RULES.c.workflow_id)
        .order_by(_RULES.c.id)
    )
    if workflow_id is not None:
        stmt = stmt.where(_RULES.c.workflow_id == workflow_id)
    return [dict(row._mapping) for row in conn.execute(stmt)]


# Built once: every recorded run's end asks it, and building the statement costs more than running it.
_HAS_RULES = select(_RULES.c.id).where(_RULES.c.workflow_id == bindparam("workflow_id")).limit(1)


def has_rules(conn: Connection, workflow_id: int) -> bool:
    """Whether the workflow has any alert rule (what every run's end asks first)."""
    return conn.execute(_HAS_RULES, {"workflow_id": workflow_id}).first() is not None


def delete_rule(conn: Connection, rule_id: int) -> dict[str, Any] | None:
    """Remove a rule (its history stays, unlinked); the removed row, or None when there was none."""
    row = conn.execute(select(_RULES).where(_RULES.c.id == rule_id)).first()
    if row is None:
        return None
    conn.execute(delete(_RULES).where(_RULES.c.id == rule_id))
    return dict(row._mapping)


def set_firing(conn: Connection, rule_id: int, firing: bool) -> bool:
    """Flip a rule's `firing` flag; True only for the caller that changed it (two runs ending at once
    on two machines: one of them fires)."""
    result = conn.execute(
        update(_RULES).where(_RULES.c.id == rule_id, _RULES.c.firing == (not firing)).values(firing=firing)
    )
    return bool(result.rowcount)


def insert_alert(conn: Connection, values: dict[str, Any]) -> int:
    """Store one firing; its id."""
    return int(conn.execute(insert(_HISTORY).values(**values).returning(_HISTORY.c.id)).scalar_one())


def set_webhook_status(conn: Connection, alert_id: int, status: str) -> None:
    """Record how the webhook call of a firing went."""
    conn.execute(update(_HISTORY).where(_HISTORY.c.id == alert_id).values(webhook_status=status))


def history_rows(conn: Connection, workflow_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Firings, newest first, each with its workflow's name as `workflow_name`."""
    stmt = (
        select(_HISTORY, WorkflowRow.name.label("workflow_name"))
        .join(WorkflowRow, WorkflowRow.id == _HISTORY.c.workflow_id)
        .order_by(_HISTORY.c.fired_at.desc(), _HISTORY.c.id.desc())
        .limit(limit)
    )
    if workflow_id is not None:
        stmt = stmt.where(_HISTORY.c.workflow_id == workflow_id)
    return [dict(row._mapping) for row in conn.execute(stmt)]


# Each measuring statement is built once per dialect and window shape, with the workflow, the
# window's size or start and the rank as parameters: building a statement costs SQLAlchemy more than
# SQLite needs to run it, and every run's end of a workflow with rules runs them.
_ARGS: dict[str, Any] = {"workflow_id": bindparam("workflow_id"), "runs": bindparam("runs")}


def _window(dialect: str, by_period: bool, limited: bool) -> Any:
    """The window's ended runs (an end time: every final status has one, no other status does),
    newest first, with their `duration` in seconds. By runs they are the last started, found by
    walking the (workflow, start) index backwards; by period, those that ended since `since`."""
    stmt = select(
        _RUNS.c.id,
        _RUNS.c.status,
        _duration(dialect, _RUNS.c.started_at, _RUNS.c.completed_at).label("duration"),
    ).where(
        _RUNS.c.workflow_id == _ARGS["workflow_id"],
        _RUNS.c.completed_at.is_not(None),
        _RUNS.c.started_at.is_not(None),  # a queued run cancelled before it started is no outcome
    )
    if by_period:
        stmt = stmt.where(_RUNS.c.completed_at >= bindparam("since", type_=_RUNS.c.completed_at.type))
    stmt = stmt.order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
    if limited:
        stmt = stmt.limit(_ARGS["runs"])
    return stmt.subquery()


def _duration(dialect: str, started: Any, ended: Any) -> Any:
    """Seconds between two timestamp columns, in the dialect's SQL."""
    if dialect == "sqlite":
        return (func.julianday(ended) - func.julianday(started)) * 86400.0
    return func.extract("epoch", ended - started)


@lru_cache(maxsize=64)
def _statement(question: str, dialect: str, by_period: bool, limited: bool) -> Any:
    window = _window(dialect, by_period, limited)
    if question == "counts":
        completed = func.coalesce(func.sum(case((window.c.status == "completed", 1), else_=0)), 0)
        return select(func.count(), completed).select_from(window)
    if question == "statuses":
        return select(window.c.status)
    if question == "completed":
        return select(func.count()).where(window.c.status == "completed")
    if question == "duration_at":
        return (
            select(window.c.duration)
            .where(window.c.status == "completed")
            .order_by(window.c.duration)
            .limit(1)
            .offset(bindparam("offset"))
        )
    assert question == "node_steps"
    failed = func.coalesce(func.sum(case((_STEPS.c.status == "failed", 1), else_=0)), 0)
    return (
        select(func.count(), failed)
        .select_from(window.join(_STEPS, _STEPS.c.execution_id == window.c.id))
        .where(_STEPS.c.node_name == bindparam("node"), _STEPS.c.status.in_(("success", "failed")))
    )


def _ask(
    conn: Connection,
    question: str,
    workflow_id: int,
    runs: int | None,
    since: datetime | None,
    **params: Any,
) -> Any:
    stmt = _statement(question, conn.dialect.name, since is not None, runs is not None)
    values: dict[str, Any] = {"workflow_id": workflow_id, **params}
    if since is not None:
        values["since"] = since
    if runs is not None:
        values["runs"] = runs
    return conn.execute(stmt, values)


def run_counts(
    conn: Connection, workflow_id: int, *, runs: int | None, since: datetime | None = None
) -> tuple[int, int]:
    """(ended runs, completed runs) of the window."""
    total, done = _ask(conn, "counts", workflow_id, runs, since).one()
    return int(total or 0), int(done or 0)


def latest_statuses(conn: Connection, workflow_id: int, count: int) -> list[str]:
    """The statuses of the last `count` ended runs, newest first."""
    return list(_ask(conn, "statuses", workflow_id, count, None).scalars())


def completed_count(
    conn: Connection, workflow_id: int, *, runs: int | None, since: datetime | None = None
) -> int:
    """How many of the window's runs completed (the population of its duration percentiles)."""
    return int(_ask(conn, "completed", workflow_id, runs, since).scalar_one())


def completed_duration_at(
    conn: Connection, workflow_id: int, rank: int, *, runs: int | None, since: datetime | None = None
) -> float | None:
    """The duration (seconds) at 1-based `rank` of the window's completed runs sorted by duration."""
    value = _ask(conn, "duration_at", workflow_id, runs, since, offset=rank - 1).scalar()
    return None if value is None else float(value)


def node_step_counts(
    conn: Connection, workflow_id: int, node_name: str, *, runs: int | None, since: datetime | None = None
) -> tuple[int, int]:
    """(steps that succeeded or failed, failed steps) of one node over the window's runs."""
    total, failed = _ask(conn, "node_steps", workflow_id, runs, since, node=node_name).one()
    return int(total or 0), int(failed or 0)
