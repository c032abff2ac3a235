"""`WorkflowMonitor`: the async door onto monitoring (statistics, performance, errors, live figures).

Every call runs its SQL in a worker thread (`asyncio.to_thread`), so awaiting it never blocks the
event loop the engine and the UI share. docs/monitoring.md defines each figure.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ExecutionLog
from flowdesk.store import Database

from .monitoring.monitor_queries import Clock, MonitorQueries
from .monitoring.retention import DEFAULT_BATCH_SIZE, RetentionPolicy

__all__ = ["MonitorService", "RetentionPolicy", "WorkflowMonitor"]


class WorkflowMonitor:
    """Monitoring figures of a flowdesk database: `WorkflowMonitor()` or `WorkflowMonitor(db=path|url|Database)`."""

    def __init__(
        self, db: Database | str | os.PathLike[str] | None = None, *, clock: Clock | None = None
    ) -> None:
        self.queries = MonitorQueries(db, clock=clock)

    @property
    def db(self) -> Database:
        """The database the figures come from."""
        return self.queries.db

    def close(self) -> None:
        """Close the database if the monitor opened it."""
        self.queries.close()

    async def __aenter__(self) -> WorkflowMonitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def get_execution_stats(
        self, workflow_id: int, since: datetime | None = None, *, top_level_only: bool = False
    ) -> dict[str, Any]:
        """total_executions, status_counts, success_rate (%), avg/p50/p95 execution time (s) of completed
        runs; child_executions and the top-level runs' figures (MonitorQueries.execution_stats)."""
        return await asyncio.to_thread(
            self.queries.execution_stats, workflow_id, since, top_level_only=top_level_only
        )

    async def get_execution_trend(
        self,
        workflow_id: int,
        bucket: str = "day",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Per hour or day: runs by status, and avg/p50/p95 duration of completed runs."""
        return await asyncio.to_thread(
            self.queries.execution_trend, workflow_id, bucket=bucket, since=since, until=until
        )

    async def get_performance_analysis(self, workflow_id: int) -> dict[str, Any]:
        """slowest_node, bottlenecks (share of total step time, avg/p95, runs) and node_averages."""
        return await asyncio.to_thread(self.queries.performance_analysis, workflow_id)

    async def get_error_analysis(
        self, workflow_id: int, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """[{error_type, count, last_occurrence, node, sample_message, executions}], most frequent first."""
        return await asyncio.to_thread(self.queries.error_analysis, workflow_id, since)

    async def get_error_executions(
        self, workflow_id: int, error_type: str, node: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The executions that had `error_type` (at `node`), newest first: the error table's drill-down."""
        return await asyncio.to_thread(self.queries.error_executions, workflow_id, error_type, node, limit)

    async def get_cache_hit_rates(self, workflow_id: int) -> dict[str, Any]:
        """The response cache's hit rate over every recorded step of the workflow: `{"hit_rate",
        "lookups", "hits", "nodes": {name: {"lookups", "hits", "rate"}}}` (docs/monitoring.md)."""
        return await asyncio.to_thread(self.queries.cache_figures, workflow_id)

    async def get_active_executions(self) -> list[dict[str, Any]]:
        """[{id, workflow_id, status, current_node, elapsed_time, ...}] for running and paused runs."""
        return await asyncio.to_thread(self.queries.active_executions)

    async def get_real_time_metrics(self) -> dict[str, Any]:
        """active_executions, executions_per_minute, system_load."""
        return await asyncio.to_thread(self.queries.real_time_metrics)

    async def get_execution_logs(self, execution_id: int) -> list[ExecutionLog]:
        """The execution's step logs in start order, as `ExecutionLog`s (what the orchestrator and
        `handle.logs()` return): `log.step_name`, `log.status`, `log.input_data`, `log.output_data`,
        `log.error_message`, ..., also readable as `log["step_name"]`."""
        rows = await asyncio.to_thread(self.queries.execution_logs, execution_id)
        return [ExecutionLog.from_row(row, execution_id) for row in rows]

    async def get_custom_metrics(
        self, workflow_id: int, since: datetime | None = None, *, shape: str = "rollups"
    ) -> dict[str, dict[str, Any]]:
        """{metric name: {count, sum, avg, min, max}} of the custom metrics the workflow's nodes recorded;
        `shape="seed"`: the seed's `{"custom_metrics": {name: average}}` over the same steps."""
        if shape == "seed":
            return await asyncio.to_thread(self.queries.custom_metrics_summary, workflow_id, since)
        if shape != "rollups":
            raise InvalidInputError(f"shape must be 'rollups' or 'seed', not {shape!r}.")
        return await asyncio.to_thread(self.queries.custom_metrics, workflow_id, since)

    async def cleanup(
        self,
        older_than_days: float | None = None,
        keep_last: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, int]:
        """Delete finished executions older than `older_than_days`, keeping each workflow's newest `keep_last`."""
        return await asyncio.to_thread(
            self.queries.cleanup, older_than_days=older_than_days, keep_last=keep_last, batch_size=batch_size
        )


MonitorService = MonitorQueries
"""The synchronous form (one read transaction per call), named like the other services."""
