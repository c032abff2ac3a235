"""The SQL of alerts: rule and history rows, and the figures a rule is measured on.

Each function takes a SQLAlchemy Connection (a service's `session.connection()`), so a rule's
measuring, its `firing` flip and its history row share the caller's transaction. Windows are the
workflow's *finished* runs (a final status and a `completed_at`), newest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update

from flowdesk.domain.enums import ExecutionStatus

from .tables import TABLES, WorkflowRow

_RULES = TABLES["alert_rules"]
_HISTORY = TABLES["alert_history"]
_RUNS = TABLES["workflow_executions"]
_STEPS = TABLES["workflow_execution_logs"]
_FINAL = [s.value for s in ExecutionStatus if s.is_final]


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


def has_rules(conn: Connection, workflow_id: int) -> bool:
    """Whether the workflow has any alert rule (what every run's end asks first)."""
    stmt = select(_RULES.c.id).where(_RULES.c.workflow_id == workflow_id).limit(1)
    return conn.execute(stmt).first() is not None


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


def _window(workflow_id: int, runs: int | None, since: datetime | None) -> Any:
    """The ids of the window's finished runs, as a subquery."""
    stmt = select(_RUNS.c.id).where(
        _RUNS.c.workflow_id == workflow_id, _RUNS.c.status.in_(_FINAL), _RUNS.c.completed_at.is_not(None)
    )
    if since is not None:
        stmt = stmt.where(_RUNS.c.completed_at >= since)
    stmt = stmt.order_by(_RUNS.c.completed_at.desc(), _RUNS.c.id.desc())
    if runs is not None:
        stmt = stmt.limit(runs)
    return stmt.subquery()


def run_outcomes(
    conn: Connection, workflow_id: int, *, runs: int | None, since: datetime | None = None
) -> list[tuple[str, datetime | None, datetime]]:
    """(status, started_at, completed_at) of the window's finished runs, newest first."""
    window = _window(workflow_id, runs, since)
    stmt = (
        select(_RUNS.c.status, _RUNS.c.started_at, _RUNS.c.completed_at)
        .where(_RUNS.c.id.in_(select(window.c.id)))
        .order_by(_RUNS.c.completed_at.desc(), _RUNS.c.id.desc())
    )
    return [(r.status, r.started_at, r.completed_at) for r in conn.execute(stmt)]


def node_step_counts(
    conn: Connection, workflow_id: int, node_name: str, *, runs: int | None, since: datetime | None = None
) -> tuple[int, int]:
    """(steps that succeeded or failed, failed steps) of one node over the window's finished runs."""
    window = _window(workflow_id, runs, since)
    stmt = select(
        func.count(),
        func.coalesce(func.sum(case((_STEPS.c.status == "failed", 1), else_=0)), 0),
    ).where(
        and_(
            _STEPS.c.execution_id.in_(select(window.c.id)),
            _STEPS.c.node_name == node_name,
            _STEPS.c.status.in_(("success", "failed")),
        )
    )
    total, failed = conn.execute(stmt).one()
    return int(total or 0), int(failed or 0)
