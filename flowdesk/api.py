"""The public Python API: thin async doors onto the services, the engine and the monitor.

Imported lazily so that `import flowdesk` costs nothing until a class is used.
"""

from __future__ import annotations

from flowdesk.lazy_exports import lazy_exports

_CLASSES = {
    "WorkflowOrchestrator": "flowdesk.services.orchestrator",
    "WorkflowExecutor": "flowdesk.engine.executor",
    "WorkflowPlugin": "flowdesk.engine.plugins",
    "WorkflowMonitor": "flowdesk.services.monitor",
}

__all__ = sorted(_CLASSES)


__getattr__ = lazy_exports(__name__, _CLASSES)
