"""Pure domain layer: enums, models, validation, the expression language. No Qt, no SQLAlchemy.

Names are re-exported lazily (as in flowdesk/__init__.py): `from flowdesk.domain.errors import ...`
must not pay for pydantic and the models, which `flowdesk --help` never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .enums import (
        BUILTIN_NODE_TYPES,
        ConnectionType,
        ExecutionStatus,
        NodeType,
        Severity,
        StepStatus,
        WorkflowStatus,
    )
    from .errors import (
        ConflictError,
        DatabaseTooNewError,
        DatabaseUnavailableError,
        ExpressionSyntaxError,
        FileFormatError,
        FlowdeskError,
        InvalidInputError,
        NotFoundError,
    )
    from .models import (
        ApiDefinition,
        ApiParameter,
        Connection,
        Execution,
        ExecutionLog,
        Node,
        Problem,
        Workflow,
        WorkflowGraph,
    )

_EXPORTS = {
    "BUILTIN_NODE_TYPES": "flowdesk.domain.enums",
    "ConnectionType": "flowdesk.domain.enums",
    "ExecutionStatus": "flowdesk.domain.enums",
    "NodeType": "flowdesk.domain.enums",
    "Severity": "flowdesk.domain.enums",
    "StepStatus": "flowdesk.domain.enums",
    "WorkflowStatus": "flowdesk.domain.enums",
    "ConflictError": "flowdesk.domain.errors",
    "DatabaseTooNewError": "flowdesk.domain.errors",
    "DatabaseUnavailableError": "flowdesk.domain.errors",
    "ExpressionSyntaxError": "flowdesk.domain.errors",
    "FileFormatError": "flowdesk.domain.errors",
    "FlowdeskError": "flowdesk.domain.errors",
    "InvalidInputError": "flowdesk.domain.errors",
    "NotFoundError": "flowdesk.domain.errors",
    "ApiDefinition": "flowdesk.domain.models",
    "ApiParameter": "flowdesk.domain.models",
    "Connection": "flowdesk.domain.models",
    "Execution": "flowdesk.domain.models",
    "ExecutionLog": "flowdesk.domain.models",
    "Node": "flowdesk.domain.models",
    "Problem": "flowdesk.domain.models",
    "Workflow": "flowdesk.domain.models",
    "WorkflowGraph": "flowdesk.domain.models",
}

__all__ = [
    "BUILTIN_NODE_TYPES",
    "ConnectionType",
    "ExecutionStatus",
    "NodeType",
    "Severity",
    "StepStatus",
    "WorkflowStatus",
    "ConflictError",
    "DatabaseTooNewError",
    "DatabaseUnavailableError",
    "ExpressionSyntaxError",
    "FileFormatError",
    "FlowdeskError",
    "InvalidInputError",
    "NotFoundError",
    "ApiDefinition",
    "ApiParameter",
    "Connection",
    "Execution",
    "ExecutionLog",
    "Node",
    "Problem",
    "Workflow",
    "WorkflowGraph",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
