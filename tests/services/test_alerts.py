"""Alert rules: checked input, storage, and evaluation after runs (fires once, re-arms)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flowdesk.domain import NodeType
from flowdesk.domain.alert_rules import AlertKind, check_rule
from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.services.alerts import AlertService
from flowdesk.services.executions import ExecutionService
from flowdesk.store.tables import utcnow


@pytest.fixture
def alerts(db):
    return AlertService(db)


@pytest.fixture
def workflow(workflows):
    wf = workflows.create_workflow("watched")
    workflows.add_node(wf.id, "call", NodeType.API_CALL, config={"url": "http://127.0.0.1:9/"})
    return wf


def _run(db, workflow_id: int, status: str, seconds: float = 1.0, *, node_status: str | None = None) -> int:
    """One finished run of `seconds`, optionally with a step row of node 'call' in `node_status`."""
    from flowdesk.domain.models import ExecutionLog

    executions = ExecutionService(db)
    run = executions.create_execution(workflow_id, status="running")
    started = utcnow() - timedelta(seconds=seconds)
    executions.update_execution(
        run.id, started_at=started, status=status, completed_at=started + timedelta(seconds=seconds)
    )
    if node_status is not None:
        executions.add_logs(
            [ExecutionLog(execution_id=run.id, step_name="call", node_name="call", status=node_status)]
        )
    return run.id


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "latency", "threshold": 1}, "kind"),
        ({"kind": "success_rate", "threshold": 120}, "threshold"),
        ({"kind": "success_rate", "threshold": "high"}, "threshold"),
        ({"kind": "p95_duration", "threshold": 0}, "threshold"),
        ({"kind": "failures_in_row", "threshold": 2.5}, "threshold"),
        ({"kind": "failures_in_row", "threshold": 3, "runs": 10}, "runs"),
        ({"kind": "success_rate", "threshold": 90, "runs": 0}, "runs"),
        ({"kind": "success_rate", "threshold": 90, "period": -5}, "period"),
        ({"kind": "success_rate", "threshold": 90, "runs": 5, "period": 60}, "runs or period"),
        ({"kind": "node_error_rate", "threshold": 10}, "node"),
        ({"kind": "success_rate", "threshold": 90, "node": "call"}, "node"),
    ],
)
def test_a_bad_rule_is_refused_in_one_sentence_naming_the_field(fields, named):
    with pytest.raises(InvalidInputError) as caught:
        check_rule(workflow_id=1, **fields)
    message = str(caught.value)
    assert named in message
    assert message.count(".") >= 1 and "\n" not in message


def test_rules_are_stored_listed_and_deleted(alerts, workflow):
    rule = alerts.add_rule(workflow.id, "success-rate", 90, runs=10)
    assert rule.kind is AlertKind.SUCCESS_RATE and rule.runs == 10
    assert rule.name == "success rate below 90 % over the last 10 runs"
    other = alerts.add_rule(workflow.id, "p95_duration", 2.5, period=3600, name="slow")
    listed = alerts.list_rules(workflow.id)
    assert [(r.id, name) for r, name in listed] == [(rule.id, "watched"), (other.id, "watched")]
    assert listed[1][0].period == 3600 and listed[1][0].name == "slow"
    alerts.delete_rule(rule.id)
    assert [r.id for r, _ in alerts.list_rules()] == [other.id]
    with pytest.raises(NotFoundError):
        alerts.delete_rule(rule.id)


def test_a_rule_of_a_missing_workflow_or_webhook_is_refused(alerts, workflow):
    with pytest.raises(NotFoundError):
        alerts.add_rule(workflow.id + 100, "success_rate", 90)
    with pytest.raises(NotFoundError, match="webhook"):
        alerts.add_rule(workflow.id, "success_rate", 90, webhook_api_id=4242)
    assert alerts.list_rules() == []


def test_a_workflow_without_rules_fires_nothing(db, alerts, workflow):
    run = _run(db, workflow.id, "failed")
    assert alerts.evaluate_after_run(workflow.id, run) == []


def test_success_rate_fires_once_and_re_arms_when_it_recovers(db, alerts, workflow):
    rule = alerts.add_rule(workflow.id, "success_rate", 60, runs=4)
    for _ in range(3):
        assert alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "completed")) == []
    first_failure = _run(db, workflow.id, "failed")
    assert alerts.evaluate_after_run(workflow.id, first_failure) == []  # 3 of 4: 75 %
    second_failure = _run(db, workflow.id, "failed")  # window: c, c, f, f: 50 %
    fired = alerts.evaluate_after_run(workflow.id, second_failure)
    assert [(a.rule.id, a.value, a.execution_id) for a in fired] == [(rule.id, 50.0, second_failure)]
    assert "2 of 4 runs completed (50 %)" in fired[0].message
    # still below: no second firing
    assert alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed")) == []
    # recovers (3 of 4 completed), then drops again: it fires again
    for _ in range(3):
        assert alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "completed")) == []
    assert alerts.list_rules()[0][0].firing is False
    _run(db, workflow.id, "failed")
    again = alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed"))
    assert [a.rule.id for a in again] == [rule.id]
    history = alerts.history(workflow.id)
    assert [h.execution_id for h in history] == [again[0].execution_id, second_failure]
    assert history[0].rule_name == rule.name and history[0].webhook_status is None


def test_failures_in_a_row_counts_only_the_latest_unbroken_failures(db, alerts, workflow):
    alerts.add_rule(workflow.id, "failures_in_row", 3)
    _run(db, workflow.id, "failed")
    _run(db, workflow.id, "completed")
    assert alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed")) == []
    assert alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "timed_out")) == []
    fired = alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed"))
    assert [a.value for a in fired] == [3.0]
    assert fired[0].message == "watched: 3 failures in a row (the last 3 runs failed)."


def test_p95_duration_is_measured_over_completed_runs(db, alerts, workflow):
    alerts.add_rule(workflow.id, "p95_duration", 5, runs=40)
    for _ in range(20):
        _run(db, workflow.id, "completed", 1.0)
    _run(db, workflow.id, "failed", 60.0)  # a failed run's duration is not counted
    assert alerts.evaluate_after_run(workflow.id, None) == []
    fired = alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "completed", 30.0))
    # nearest rank: the 20th of 21 sorted completed durations (1 s x 20, 30 s) is 1 s: not breached
    assert fired == []
    fired = alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "completed", 30.0))
    # the 21st of 22 is 30 s
    assert len(fired) == 1 and fired[0].value == pytest.approx(30.0, abs=0.01)
    assert "over 22 completed runs of the last 40 runs" in fired[0].message


def test_node_error_rate_counts_the_nodes_steps_over_a_period(db, alerts, workflow):
    alerts.add_rule(workflow.id, "node_error_rate", 60, period=3600, node="call")
    _run(db, workflow.id, "completed", node_status="success")
    _run(db, workflow.id, "completed", node_status="skipped")  # not a run of the node
    assert (
        alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed", node_status="failed")) == []
    )  # 50 %
    fired = alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed", node_status="failed"))
    assert [round(a.value, 1) for a in fired] == [66.7]
    assert "node 'call' failed 2 of 3 times" in fired[0].message


def test_deleting_a_rule_keeps_its_history(db, alerts, workflow):
    rule = alerts.add_rule(workflow.id, "failures_in_row", 1)
    alerts.evaluate_after_run(workflow.id, _run(db, workflow.id, "failed"))
    alerts.delete_rule(rule.id)
    (kept,) = alerts.history()
    assert (
        kept.rule_id is None and kept.rule_name == "1 failures in a row" and kept.workflow_name == "watched"
    )
