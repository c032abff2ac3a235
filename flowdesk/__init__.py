"""flowdesk: design, run, debug and monitor workflows of API calls.

The public Python API is re-exported here lazily, so `import flowdesk.domain` stays light and
never pulls in SQLAlchemy, httpx or Qt.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "NodeType": "flowdesk.domain.enums",
    "ConnectionType": "flowdesk.domain.enums",
    "ExecutionStatus": "flowdesk.domain.enums",
    "StepStatus": "flowdesk.domain.enums",
    "WorkflowStatus": "flowdesk.domain.enums",
    "FlowdeskError": "flowdesk.domain.errors",
    "WorkflowOrchestrator": "flowdesk.api",
    "WorkflowExecutor": "flowdesk.api",
    "WorkflowMonitor": "flowdesk.api",
    "WorkflowPlugin": "flowdesk.api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowdesk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
