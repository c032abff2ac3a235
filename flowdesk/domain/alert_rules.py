"""Alert rules (告警设置): what a rule watches, how it is checked, and when it is breached.

A rule belongs to one workflow and watches one figure over a window of its finished runs (the last
`runs` of them, or those that ended in the last `period` seconds): the success rate, the p95
duration, a run of failures, or one node's error rate. `check_rule` turns loose input into a rule
or raises InvalidInputError naming the field; `breached` says whether a measured value crosses the
threshold. The store gathers the figures, the services decide, the engine calls them after each run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import InvalidInputError


class AlertKind(StrEnum):
    """What a rule watches (the words the CLI, the app and the database use)."""

    SUCCESS_RATE = "success_rate"  # fires when completed / finished * 100 < threshold
    P95_DURATION = "p95_duration"  # fires when the p95 duration of completed runs (s) > threshold
    FAILURES_IN_ROW = "failures_in_row"  # fires when the last `threshold` finished runs all failed
    NODE_ERROR_RATE = "node_error_rate"  # fires when failed steps of `node` / its steps * 100 > threshold


KIND_LABELS = {
    AlertKind.SUCCESS_RATE: "success rate below",
    AlertKind.P95_DURATION: "p95 duration above",
    AlertKind.FAILURES_IN_ROW: "failures in a row",
    AlertKind.NODE_ERROR_RATE: "node error rate above",
}
DEFAULT_RUNS = 20  # the window of a rate or p95 rule given neither `runs` nor `period`
FAILED_STATUSES = frozenset({"failed", "timed_out"})  # what counts as a failure in a row


@dataclass(frozen=True)
class AlertRule:
    """One alert rule of one workflow (a row of alert_rules)."""

    workflow_id: int
    kind: AlertKind
    threshold: float
    runs: int | None = None
    period: float | None = None  # seconds
    node: str | None = None
    webhook_api_id: int | None = None
    name: str = ""
    id: int | None = None
    firing: bool = False
    created_at: datetime | None = None

    def describe(self) -> str:
        """The rule in words: "success rate below 90 % over the last 20 runs"."""
        t = _number(self.threshold)
        if self.kind is AlertKind.FAILURES_IN_ROW:
            return f"{t} failures in a row"
        if self.kind is AlertKind.SUCCESS_RATE:
            what = f"success rate below {t} %"
        elif self.kind is AlertKind.P95_DURATION:
            what = f"p95 duration above {t} s"
        else:
            what = f"error rate of node '{self.node}' above {t} %"
        return f"{what} over {self.window_words()}"

    def window_words(self) -> str:
        if self.period is not None:
            return f"the last {_number(self.period)} s"
        return f"the last {self.runs} runs"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _as_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or value is None:
        raise InvalidInputError(f"The alert rule's {field} must be a number, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"The alert rule's {field} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise InvalidInputError(f"The alert rule's {field} must be a finite number, got {value!r}.")
    return number


def _as_whole(value: Any, field: str) -> int:
    number = _as_number(value, field)
    if not number.is_integer() or number < 1:
        raise InvalidInputError(
            f"The alert rule's {field} must be a whole number of at least 1, got {value!r}."
        )
    return int(number)


def check_rule(
    *,
    workflow_id: int,
    kind: Any,
    threshold: Any,
    runs: Any = None,
    period: Any = None,
    node: Any = None,
    webhook_api_id: int | None = None,
    name: Any = None,
) -> AlertRule:
    """A valid rule from loose input; InvalidInputError (one sentence naming the field) otherwise."""
    text = str(kind or "").strip().lower().replace("-", "_")
    try:
        rule_kind = AlertKind(text)
    except ValueError:
        known = ", ".join(k.value for k in AlertKind)
        raise InvalidInputError(f"The alert rule's kind must be one of {known}, got {kind!r}.") from None
    value = _as_number(threshold, "threshold")
    if rule_kind in (AlertKind.SUCCESS_RATE, AlertKind.NODE_ERROR_RATE) and not 0 <= value <= 100:
        raise InvalidInputError(
            f"The alert rule's threshold is a percentage from 0 to 100, got {threshold!r}."
        )
    if rule_kind is AlertKind.P95_DURATION and value <= 0:
        raise InvalidInputError(f"The alert rule's threshold must be more than 0 seconds, got {threshold!r}.")
    if rule_kind is AlertKind.FAILURES_IN_ROW:
        value = float(_as_whole(threshold, "threshold"))
        if runs is not None or period is not None:
            raise InvalidInputError(
                "The alert rule's runs and period do not apply to failures_in_row: its threshold is the count."
            )
    window_runs = None if runs is None else _as_whole(runs, "runs")
    window_period = None if period is None else _as_number(period, "period")
    if window_period is not None and window_period <= 0:
        raise InvalidInputError(f"The alert rule's period must be more than 0 seconds, got {period!r}.")
    if window_runs is not None and window_period is not None:
        raise InvalidInputError("The alert rule's window is either runs or period, not both.")
    if rule_kind is not AlertKind.FAILURES_IN_ROW and window_runs is None and window_period is None:
        window_runs = DEFAULT_RUNS
    node_name = str(node).strip() if node is not None else ""
    if rule_kind is AlertKind.NODE_ERROR_RATE and not node_name:
        raise InvalidInputError("The alert rule's node must name the node whose error rate it watches.")
    if rule_kind is not AlertKind.NODE_ERROR_RATE and node_name:
        raise InvalidInputError(
            f"The alert rule's node applies only to node_error_rate, not to {rule_kind.value}."
        )
    label = str(name).strip() if name is not None else ""
    if len(label) > 255:
        raise InvalidInputError("The alert rule's name must be at most 255 characters.")
    rule = AlertRule(
        workflow_id=workflow_id,
        kind=rule_kind,
        threshold=value,
        runs=window_runs,
        period=window_period,
        node=node_name or None,
        webhook_api_id=webhook_api_id,
    )
    return replace(rule, name=label or rule.describe())


def breached(rule: AlertRule, value: float | None) -> bool:
    """Whether the measured `value` crosses the rule's threshold (None, no runs to judge: never)."""
    if value is None:
        return False
    if rule.kind is AlertKind.SUCCESS_RATE:
        return value < rule.threshold
    if rule.kind is AlertKind.FAILURES_IN_ROW:
        return value >= rule.threshold
    return value > rule.threshold
