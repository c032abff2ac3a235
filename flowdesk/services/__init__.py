"""Use cases over the store: synchronous, one transaction per call, one audit row per write.

Every service is imported when first named (`from flowdesk.services import WorkflowService`, or
its own module), so a command loads only the services it uses: `flowdesk run` of a file never
imports the version history, the audit reader, monitoring or export code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.lazy_exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, {name: f".{module}" for name, module in _MODULES.items()})
