"""flowdesk: design, run, debug and monitor workflows of API calls.

The public Python API is re-exported here lazily, so `import flowdesk.domain` stays light and
never pulls in SQLAlchemy, httpx or Qt.
"""

from __future__ import annotations

from flowdesk.lazy_exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
