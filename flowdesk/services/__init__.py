"""Use cases over the store: synchronous, one transaction per call, one audit row per write.

`TransferService` (import/export) and `MonitorService` live in their own modules and are imported
lazily from here, so importing the services does not pull in the file format or monitoring code.
"""

from __future__ import annotations

import importlib
from typing import Any

from .apis import ApiService
from .audit import AuditEntry, AuditService
from .executions import ExecutionService
from .node_types import NodeTypeDefinition, NodeTypeService
from .versions import VersionDiff, VersionService
from .workflows import WorkflowService

_LAZY = {"TransferService": "flowdesk.services.transfer", "MonitorService": "flowdesk.services.monitor"}

__all__ = [
    "ApiService",
    "AuditEntry",
    "AuditService",
    "ExecutionService",
    "NodeTypeDefinition",
    "NodeTypeService",
    "VersionDiff",
    "VersionService",
    "WorkflowService",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowdesk.services' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
