"""Alerts: add, list and delete a workflow's rules, read the history, and evaluate the rules after a run.

Evaluation (`evaluate_after_run`) is what the engine calls once a run's rows are committed: one read
asks whether the workflow has rules at all (the common answer, no, costs nothing more); otherwise
each rule is measured with one query in the same read, and a rule that becomes true fires once (its
`firing` flag set, a history row written: the only write), re-arming when a later run finds it
false again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from flowdesk.domain.alert_rules import FAILED_STATUSES, AlertKind, AlertRule, breached, check_rule
from flowdesk.domain.errors import NotFoundError
from flowdesk.store import Database
from flowdesk.store import alerts as sql
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.tables import ApiRow, WorkflowRow, utcnow


@dataclass(frozen=True)
class FiredAlert:
    """One firing: the history row's id, the rule, what was measured and the sentence saying so."""

    id: int
    rule: AlertRule
    workflow_name: str
    execution_id: int | None
    value: float
    message: str
    fired_at: datetime

    def summary(self) -> dict[str, Any]:
        """What a webhook receives (no inputs, outputs or secrets: figures and names only)."""
        return {
            "alert_id": self.id,
            "rule_id": self.rule.id,
            "rule": self.rule.name,
            "kind": self.rule.kind.value,
            "threshold": self.rule.threshold,
            "value": self.value,
            "workflow_id": self.rule.workflow_id,
            "workflow": self.workflow_name,
            "execution_id": self.execution_id,
            "message": self.message,
            "fired_at": self.fired_at.isoformat(),
        }


@dataclass(frozen=True)
class AlertRecord:
    """A row of the alerts history."""

    id: int
    rule_id: int | None
    workflow_id: int
    workflow_name: str
    execution_id: int | None
    rule_name: str
    message: str
    value: float | None
    webhook_status: str | None
    fired_at: datetime


def _rule(row: dict[str, Any]) -> AlertRule:
    return AlertRule(
        id=row["id"],
        workflow_id=row["workflow_id"],
        kind=AlertKind(row["kind"]),
        threshold=row["threshold"],
        runs=row["window_runs"],
        period=row["window_seconds"],
        node=row["node_name"],
        webhook_api_id=row["webhook_api_id"],
        name=row["name"],
        firing=bool(row["firing"]),
        created_at=row["created_at"],
    )


def _figure(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def measure(conn: Connection, rule: AlertRule, now: datetime) -> tuple[float | None, str]:
    """The rule's figure now (None when no run is there to judge) and a sentence saying it."""
    since = now - timedelta(seconds=rule.period) if rule.period is not None else None
    window = rule.window_words()
    if rule.kind is AlertKind.FAILURES_IN_ROW:
        in_row = 0
        for status in sql.latest_statuses(conn, rule.workflow_id, int(rule.threshold)):
            if status not in FAILED_STATUSES:
                break
            in_row += 1
        return float(in_row), f"the last {in_row} runs failed"
    if rule.kind is AlertKind.NODE_ERROR_RATE:
        assert rule.node is not None
        steps, failed = sql.node_step_counts(conn, rule.workflow_id, rule.node, runs=rule.runs, since=since)
        if not steps:
            return None, ""
        rate = failed * 100.0 / steps
        return rate, f"node '{rule.node}' failed {failed} of {steps} times ({_figure(rate)} %) over {window}"
    if rule.kind is AlertKind.SUCCESS_RATE:
        ended, completed = sql.run_counts(conn, rule.workflow_id, runs=rule.runs, since=since)
        if not ended:
            return None, ""
        rate = completed * 100.0 / ended
        return rate, f"{completed} of {ended} runs completed ({_figure(rate)} %) over {window}"
    count = sql.completed_count(conn, rule.workflow_id, runs=rule.runs, since=since)
    if not count:
        return None, ""
    # imported here: the monitoring package loads psutil, which a run without p95 rules never needs
    from .monitoring.percentile import nearest_rank

    p95 = sql.completed_duration_at(
        conn, rule.workflow_id, nearest_rank(95, count), runs=rule.runs, since=since
    )
    if p95 is None:
        return None, ""
    return p95, f"p95 duration {p95:.3g} s over {count} completed runs of {window}"


class AlertService:
    """Alert rules per workflow, their history, and their evaluation after each run."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_rule(self, workflow_id: int, kind: Any, threshold: Any, **options: Any) -> AlertRule:
        """Store a new rule; `options` are check_rule's (runs, period, node, webhook_api_id, name).
        It is checked first: InvalidInputError names the wrong field, and nothing is stored."""
        rule = check_rule(workflow_id=workflow_id, kind=kind, threshold=threshold, **options)
        webhook_api_id = rule.webhook_api_id
        with self.db.session() as session:
            if session.get(WorkflowRow, workflow_id) is None:
                raise NotFoundError(f"No workflow has the id {workflow_id}.")
            if webhook_api_id is not None and session.get(ApiRow, webhook_api_id) is None:
                raise NotFoundError(
                    f"The alert rule's webhook: no API definition has the id {webhook_api_id}."
                )
            now = utcnow()
            rule_id = sql.insert_rule(
                session.connection(),
                {
                    "workflow_id": workflow_id,
                    "name": rule.name,
                    "kind": rule.kind.value,
                    "threshold": rule.threshold,
                    "window_runs": rule.runs,
                    "window_seconds": rule.period,
                    "node_name": rule.node,
                    "webhook_api_id": webhook_api_id,
                    "firing": False,
                    "created_at": now,
                },
            )
            record_audit(session, "alert_rule", rule_id, "create", f"Added alert rule '{rule.name}'.")
        return AlertRule(**{**rule.__dict__, "id": rule_id, "created_at": now})

    def list_rules(self, workflow_id: int | None = None) -> list[tuple[AlertRule, str]]:
        """(rule, workflow name) pairs of one workflow or of all, by id."""
        with self.db.session(read_only=True) as session:
            rows = sql.rule_rows(session.connection(), workflow_id)
        return [(_rule(r), r["workflow_name"]) for r in rows]

    def delete_rule(self, rule_id: int) -> AlertRule:
        """Remove a rule; its firings stay in the history."""
        with self.db.session() as session:
            row = sql.delete_rule(session.connection(), rule_id)
            if row is None:
                raise NotFoundError(f"No alert rule has the id {rule_id}.")
            record_audit(session, "alert_rule", rule_id, "delete", f"Removed alert rule '{row['name']}'.")
        return _rule(row)

    def history(self, workflow_id: int | None = None, limit: int = 100) -> list[AlertRecord]:
        """Firings, newest first."""
        with self.db.session(read_only=True) as session:
            rows = sql.history_rows(session.connection(), workflow_id, limit)
        return [AlertRecord(**row) for row in rows]

    def record_webhook(self, alert_id: int, status: str) -> None:
        """Write how a firing's webhook call went ("200", or the one sentence of its failure)."""
        with self.db.session() as session:
            sql.set_webhook_status(session.connection(), alert_id, status)

    def evaluate_after_run(self, workflow_id: int, execution_id: int | None) -> list[FiredAlert]:
        """Measure the workflow's rules after a run ended; the alerts that fired now.

        The measuring is a read: the write lock is taken only when a rule fires or re-arms, and the
        flag is flipped by a conditional update, so of two runs ending at once one fires it."""
        with self.db.session(read_only=True) as session:
            conn = session.connection()
            if not sql.has_rules(conn, workflow_id):
                return []
            now = utcnow()
            changes: list[tuple[AlertRule, str, float | None, str]] = []
            for row in sql.rule_rows(conn, workflow_id):
                rule = _rule(row)
                value, words = measure(conn, rule, now)
                if breached(rule, value) != rule.firing:
                    changes.append((rule, row["workflow_name"], value, words))
        fired: list[FiredAlert] = []
        if not changes:
            return fired
        with self.db.session() as session:
            conn = session.connection()
            for rule, workflow_name, value, words in changes:
                assert rule.id is not None
                if rule.firing:
                    sql.set_firing(conn, rule.id, False)  # re-armed: fires again when next true
                    continue
                if value is None or not sql.set_firing(conn, rule.id, True):
                    continue  # another run's evaluation fired it first
                message = f"{workflow_name}: {rule.name} ({words})."
                alert_id = sql.insert_alert(
                    conn,
                    {
                        "rule_id": rule.id,
                        "workflow_id": workflow_id,
                        "execution_id": execution_id,
                        "rule_name": rule.name,
                        "message": message,
                        "value": value,
                        "fired_at": now,
                    },
                )
                fired.append(FiredAlert(alert_id, rule, workflow_name, execution_id, value, message, now))
        return fired
