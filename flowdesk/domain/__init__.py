"""Pure domain layer: enums, models, validation, the expression language. No Qt, no SQLAlchemy."""

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
