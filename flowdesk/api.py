"""The public Python API: thin async doors onto the services, the engine and the monitor.

Imported lazily so that `import flowdesk` costs nothing until a class is used.
"""

from __future__ import annotations

from typing import Any

_CLASSES = {
    "WorkflowOrchestrator": "flowdesk.services.orchestrator",
    "WorkflowExecutor": "flowdesk.engine.executor",
    "WorkflowPlugin": "flowdesk.engine.plugins",
    "WorkflowMonitor": "flowdesk.services.monitor",
}

__all__ = sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'flowdesk.api' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
