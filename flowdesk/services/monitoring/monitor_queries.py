"""`MonitorQueries`: the monitor's questions as synchronous calls, each one short read transaction.

For worker threads: the async `WorkflowMonitor` runs these through `asyncio.to_thread`, the Qt views
through a thread pool. Reads use deferred transactions (`session(read_only=True)`), so they never
take the write lock and never make the engine's writer wait (docs/store.md: on PostgreSQL they run
at REPEATABLE READ, so the queries of one call see one snapshot, as on SQLite).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.store import Database
from flowdesk.store.child_runs import child_figures
from flowdesk.store.monitor.logs import workflow_name
from flowdesk.store.monitor.times import utc, utcnow

from . import custom_metrics as metrics_sql
from . import retention
from .assertions import assertion_runs
from .error_analysis import error_analysis, error_executions
from .execution_logs import execution_logs, execution_summary
from .execution_stats import execution_stats
from .live import RATE_WINDOW_MINUTES, active_executions, start_rate
from .performance import performance_analysis
from .system_load import SystemLoad
from .trends import execution_trend

Clock = Callable[[], datetime]


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class MonitorQueries:
    """Monitoring figures from one flowdesk database (a path, a URL, None for the default, or a Database).

    `clock` returns the current aware UTC time (tests pass a fixed one).
    """

    def __init__(
        self, db: Database | str | os.PathLike[str] | None = None, *, clock: Clock | None = None
    ) -> None:
        self._owns_db = not isinstance(db, Database)
        self.db: Database = db if isinstance(db, Database) else Database(db)
        self.clock: Clock = clock or utcnow
        self._load = SystemLoad()

    def close(self) -> None:
        """Close the database if this object opened it."""
        if self._owns_db:
            self.db.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.db.session(read_only=True) as session:
            yield session.connection()

    def _workflow_exists(self, conn: Connection, workflow_id: int) -> None:
        if workflow_name(conn, workflow_id) is None:
            raise NotFoundError(f"There is no workflow with id {workflow_id}.")

    # -- per workflow ----------------------------------------------------------------------------

    def execution_stats(
        self, workflow_id: int, since: datetime | None = None, *, top_level_only: bool = False
    ) -> dict[str, Any]:
        """See execution_stats.execution_stats; with the child runs told apart (store/child_runs.py:
        `child_executions`, `avg_time_in_children`, `avg_own_time`). `top_level_only`: the headline
        figures are those of the top-level runs (the runs no SUBWORKFLOW step started)."""
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            stats = execution_stats(conn, workflow_id, _aware(since))
            stats.update(
                child_figures(conn, stats, workflow_id, _aware(since)), top_level_only=top_level_only
            )
            if top_level_only and stats["child_executions"]:  # else the figures are the top-level ones
                stats.update(execution_stats(conn, workflow_id, _aware(since), top_level=True))
            return stats

    def execution_trend(
        self,
        workflow_id: int,
        *,
        bucket: str = "day",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Runs by status and p50/p95 durations per hour or day (default: the last 30 days / 48 hours)."""
        until = _aware(until) or self.clock()
        if since is None:
            since = until - (timedelta(days=29) if bucket == "day" else timedelta(hours=47))
        since = _aware(since)
        assert since is not None
        if since > until:
            raise InvalidInputError("since must not be later than until")
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            return execution_trend(conn, workflow_id, since=since, until=until, bucket=bucket)

    def performance_analysis(self, workflow_id: int) -> dict[str, Any]:
        """See performance.performance_analysis."""
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            return performance_analysis(conn, workflow_id)

    def error_analysis(self, workflow_id: int, since: datetime | None = None) -> list[dict[str, Any]]:
        """See error_analysis.error_analysis."""
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            return error_analysis(conn, workflow_id, _aware(since))

    def assertion_runs(
        self, workflow_id: int, since: datetime | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """See assertions.assertion_runs: passed/failed assertions of each recent run with an ASSERT."""
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            return assertion_runs(conn, workflow_id, _aware(since), limit)

    def error_executions(
        self, workflow_id: int, error_type: str, node: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The executions behind one row of the error analysis (drill-down), newest first."""
        with self._read() as conn:
            return error_executions(conn, workflow_id, error_type, node, limit)

    def custom_metrics(self, workflow_id: int, since: datetime | None = None) -> dict[str, dict[str, Any]]:
        """{metric name: {count, sum, avg, min, max}} over the workflow's steps (since `since`, if given)."""
        with self._read() as conn:
            self._workflow_exists(conn, workflow_id)
            if since is not None:
                return metrics_sql.custom_metrics_from_steps(conn, workflow_id, _aware(since))
            if self.db.read_only:  # the stored totals cannot be refreshed: read the steps themselves
                return metrics_sql.custom_metrics_from_steps(conn, workflow_id)
            stale = metrics_sql.stale_nodes(conn, workflow_id)
        if stale:
            with self.db.session() as session:
                metrics_sql.refresh_totals(session.connection(), stale)
        with self._read() as conn:
            return metrics_sql.custom_metrics_from_totals(conn, workflow_id)

    # -- across workflows ------------------------------------------------------------------------

    def custom_metrics_summary(
        self, workflow_id: int, since: datetime | None = None
    ) -> dict[str, dict[str, float]]:
        """The seed's shape: `{"custom_metrics": {name: average}}`, the average of each metric over
        the same steps as `custom_metrics` (whose roll-ups it is read from)."""
        rollups = self.custom_metrics(workflow_id, since)
        return {"custom_metrics": {name: figures["avg"] for name, figures in rollups.items()}}

    def cache_hit_rates(self, workflow_id: int) -> dict[str, dict[str, Any]]:
        """The response cache's hit rate per node of the workflow, and under "" the workflow's:
        {name: {"lookups", "hits", "rate"}} over every recorded step (store/response_cache.py)."""
        from flowdesk.store.response_cache import hit_rates

        with self._read() as conn:
            return hit_rates(conn, workflow_id)

    def cache_figures(self, workflow_id: int) -> dict[str, Any]:
        """`cache_hit_rates` as one object: `{"hit_rate", "lookups", "hits", "nodes": {name: ...}}`,
        `hit_rate` None when no step of the workflow looked in the cache."""
        return cache_figures(self.cache_hit_rates(workflow_id))

    def active_executions(self) -> list[dict[str, Any]]:
        """Every running or paused execution with its elapsed seconds."""
        with self._read() as conn:
            return active_executions(conn, self.clock())

    def real_time_metrics(self) -> dict[str, Any]:
        """Active count, runs started per minute (last 5 minutes) and system load."""
        now = self.clock()
        with self._read() as conn:
            active, rate = start_rate(conn, now)
        return {
            "timestamp": now,
            "active_executions": active,
            "executions_per_minute": rate,
            "rate_window_minutes": RATE_WINDOW_MINUTES,
            "system_load": self._load.sample(),
        }

    def execution_logs(self, execution_id: int) -> list[dict[str, Any]]:
        """The step logs of one execution in start order."""
        with self._read() as conn:
            if execution_summary(conn, execution_id) is None:
                raise NotFoundError(f"There is no execution with id {execution_id}.")
            return execution_logs(conn, execution_id)

    def execution_summary(self, execution_id: int) -> dict[str, Any]:
        """One execution's status, times and workflow."""
        with self._read() as conn:
            summary = execution_summary(conn, execution_id)
        if summary is None:
            raise NotFoundError(f"There is no execution with id {execution_id}.")
        return summary

    def cleanup(
        self,
        *,
        older_than_days: float | None = None,
        keep_last: int | None = None,
        batch_size: int = retention.DEFAULT_BATCH_SIZE,
    ) -> dict[str, int]:
        """Delete old finished executions and their logs in batches (see retention.cleanup)."""
        return retention.cleanup(
            self.db,
            older_than_days=older_than_days,
            keep_last=keep_last,
            batch_size=batch_size,
            now=self.clock(),
        )

    def workflow_name(self, workflow_id: int) -> str:
        """The workflow's name (NotFoundError if there is none)."""
        with self._read() as conn:
            name = workflow_name(conn, workflow_id)
        if name is None:
            raise NotFoundError(f"There is no workflow with id {workflow_id}.")
        return name


def cache_figures(rates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The hit rates of `MonitorQueries.cache_hit_rates` (the workflow's under "") as one object."""
    whole = rates.get("", {"lookups": 0, "hits": 0, "rate": None})
    return {
        "hit_rate": whole["rate"],
        "lookups": whole["lookups"],
        "hits": whole["hits"],
        "nodes": {name: figures for name, figures in rates.items() if name},
    }
