"""The monitor's queries: SQL aggregates over the execution tables, one module per question.

`MonitorQueries` (synchronous, for worker threads) is the facade; `flowdesk.services.monitor.WorkflowMonitor`
is the async door onto it. docs/monitoring.md defines every figure.
"""

from __future__ import annotations

from .monitor_queries import MonitorQueries
from .retention import RetentionPolicy

__all__ = ["MonitorQueries", "RetentionPolicy"]
