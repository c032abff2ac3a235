"""Use cases over the store: synchronous, one transaction per call, one audit row per write.

Every service is imported when first named (`from flowdesk.services import WorkflowService`, or
its own module), so a command loads only the services it uses: `flowdesk run` of a file never
imports the version history, the audit reader, monitoring or export code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .alerts import AlertService
    from .apis import ApiService
    from .audit import AuditEntry, AuditService
    from .executions import ExecutionService
    from .monitor import MonitorService
    from .node_types import NodeTypeDefinition, NodeTypeService
    from .transfer import TransferService
    from .versions import VersionDiff, VersionService
    from .workflows import WorkflowService

_MODULES = {
    "AlertService": "alerts",
    "ApiService": "apis",
    "AuditEntry": "audit",
    "AuditService": "audit",
    "ExecutionService": "executions",
    "MonitorService": "monitor",
    "NodeTypeDefinition": "node_types",
    "NodeTypeService": "node_types",
    "TransferService": "transfer",
    "VersionDiff": "versions",
    "VersionService": "versions",
    "WorkflowService": "workflows",
}

__all__ = [
    "AlertService",
    "ApiService",
    "AuditEntry",
    "AuditService",
    "ExecutionService",
    "MonitorService",
    "NodeTypeDefinition",
    "NodeTypeService",
    "TransferService",
    "VersionDiff",
    "VersionService",
    "WorkflowService",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'flowdesk.services' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
