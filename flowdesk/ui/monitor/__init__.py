"""Monitoring in the desktop app: per-workflow monitor view, run timeline (Gantt), active runs panel.

Each is a standalone QWidget on a Database (or a MonitorQueries): `MonitorView(db, workflow_id)`,
`RunTimeline(db, execution_id)`, `ActiveExecutionsPanel(db, executor=None)`. They query in a worker
thread and never block the event loop; docs/monitoring.md says how the main window hosts them.
"""

from __future__ import annotations

from .active_panel import ActiveExecutionsPanel
from .monitor_view import MonitorView
from .timeline import RunTimeline

__all__ = ["ActiveExecutionsPanel", "MonitorView", "RunTimeline"]
