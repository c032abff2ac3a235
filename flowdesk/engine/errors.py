"""Typed failures of the engine: a node that failed, a workflow refused before it runs."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.domain.errors import ExpressionLimitError, ExpressionSyntaxError, FlowdeskError

ERROR_TYPES: tuple[str, ...] = (
    "timeout",
    "connection",
    "http_4xx",
    "http_5xx",
    "expression",
    "assertion",
    "cancelled",
    "other",
)
"""The closed set of `error_type` values a failed step carries (monitoring groups by it)."""


class NodeFailure(Exception):
    """Raised by a node handler when its node failed (after its own retries, if any).

    `error_type` is one of ERROR_TYPES; `attempts` how many attempts were made; `output` what the
    node still produced (e.g. the last HTTP response), stored in the step row and visible to the
    nodes an ERROR connection leads to as `{{name.x}}`.
    """

    def __init__(
        self,
        message: str,
        *,
        error_type: str = "other",
        attempts: int = 1,
        output: dict[str, Any] | None = None,
    ) -> None:
        if error_type not in ERROR_TYPES:
            error_type = "other"
        self.message = message
        self.error_type = error_type
        self.attempts = attempts
        self.output = output
        super().__init__(message)


class WorkflowInvalidError(FlowdeskError):
    """The workflow did not pass validation; nothing ran. `problems` lists every problem found."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class ExecutionNotResumableError(FlowdeskError):
    """`resume` was asked for an execution that cannot be resumed (not interrupted, or unknown)."""


def failure_from_exception(exc: BaseException) -> NodeFailure:
    """Turn any exception a handler let escape into a NodeFailure with a classified error_type."""
    if isinstance(exc, NodeFailure):
        return exc
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return NodeFailure(str(exc) or "timed out", error_type="timeout")
    if isinstance(exc, ExpressionSyntaxError | ExpressionLimitError):
        return NodeFailure(str(exc), error_type="expression")
    if isinstance(exc, ConnectionError):
        return NodeFailure(str(exc) or type(exc).__name__, error_type="connection")
    text = str(exc)
    return NodeFailure(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, error_type="other")


class ExecutionLimitReached(FlowdeskError):
    """A queued run must wait: its workflow runs `config.max_concurrent_executions` already."""
