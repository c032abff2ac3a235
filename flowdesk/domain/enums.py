"""Closed sets of the domain: node, connection, execution and step kinds."""

from __future__ import annotations

from enum import StrEnum


class NodeType(StrEnum):
    """Built-in node types. Custom types are plain strings registered at run time."""

    START = "START"
    END = "END"
    API_CALL = "API_CALL"
    CONDITION = "CONDITION"
    DELAY = "DELAY"
    PARALLEL = "PARALLEL"
    LOOP = "LOOP"
    TRANSFORM = "TRANSFORM"
    SWITCH = "SWITCH"
    ASSERT = "ASSERT"
    POLL = "POLL"


class ConnectionType(StrEnum):
    """How control passes along a connection (docs/semantics.md has the rules)."""

    SEQUENCE = "SEQUENCE"
    CONDITIONAL = "CONDITIONAL"
    CONDITIONAL_TRUE = "CONDITIONAL_TRUE"
    CONDITIONAL_FALSE = "CONDITIONAL_FALSE"
    PARALLEL = "PARALLEL"
    LOOP = "LOOP"
    ERROR = "ERROR"


class ExecutionStatus(StrEnum):
    """Life cycle of one workflow execution."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"
    RESUMED = "resumed"  # an interrupted execution another one has taken over (resumed_as_id)

    @property
    def is_final(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.PAUSED)


class StepStatus(StrEnum):
    """Outcome of one node run (one row of workflow_execution_logs)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class WorkflowStatus(StrEnum):
    """A workflow is a draft until it is made active (stored as is_active)."""

    DRAFT = "draft"
    ACTIVE = "active"


class Severity(StrEnum):
    """How serious a validation problem is: errors stop a run, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


BUILTIN_NODE_TYPES: frozenset[str] = frozenset(t.value for t in NodeType)
