"""Retention: delete old executions and their step logs in small transactions.

`cleanup` picks finished executions (never pending, running or paused ones) created more than
`older_than_days` ago, sparing the newest `keep_last` executions of each workflow whatever their age,
and deletes them `batch_size` at a time, each batch its own short transaction, so the engine's writer
and the UI wait at most one batch (a few tens of milliseconds) for the database. The SQL is the
store's (store/monitor/retention.py).
`RetentionPolicy` is the setting that runs it on a schedule.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.store import Database
from flowdesk.store.monitor import metrics, retention

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100


MAX_AGE_DAYS = 36_525


def cleanup_candidates(
    db: Database, older_than_days: float | None, keep_last: int | None, now: datetime
) -> list[int]:
    """Ids of the executions `cleanup` would delete, oldest first."""
    if older_than_days is None and keep_last is None:
        raise InvalidInputError("cleanup needs older_than_days, keep_last or both")
    if older_than_days is not None and not 0 <= older_than_days <= MAX_AGE_DAYS:
        # NaN fails both comparisons; an age past the calendar's start cannot be subtracted from now.
        raise InvalidInputError(
            f"older_than_days must be between 0 and {MAX_AGE_DAYS:,} (100 years), not {older_than_days}"
        )
    if keep_last is not None and keep_last < 0:
        raise InvalidInputError(f"keep_last must be 0 or more, not {keep_last}")
    before = None if older_than_days is None else now - timedelta(days=older_than_days)
    with db.session(read_only=True) as session:
        return retention.candidates(session.connection(), int(keep_last or 0), before)


def cleanup(
    db: Database,
    *,
    older_than_days: float | None = None,
    keep_last: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime,
    pause: float = 0.005,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Delete the candidates in batches; returns counts of deleted executions, logs and batches.

    `pause` seconds between batches let a waiting writer take the lock; `on_batch(executions, logs)`
    is called after each committed batch.
    """
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be 1 or more, not {batch_size}")
    ids = cleanup_candidates(db, older_than_days, keep_last, now)
    deleted_exec = deleted_logs = batches = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with db.session() as session:
            # Re-checks the status inside the transaction: a run could have been resumed meanwhile.
            execs, logs = retention.delete_finished(session.connection(), chunk)
        if not execs:
            continue
        deleted_exec += execs
        deleted_logs += logs
        batches += 1
        if on_batch is not None:
            on_batch(execs, logs)
        if pause:
            time.sleep(pause)
    with db.session() as session:
        conn = session.connection()
        stale = metrics.all_stale_nodes(conn)
        if stale:
            metrics.refresh_totals(conn, stale)
    log.info(
        "Retention deleted %d executions and %d step logs in %d batches", deleted_exec, deleted_logs, batches
    )
    return {"deleted_executions": deleted_exec, "deleted_logs": deleted_logs, "batches": batches}


@dataclass(frozen=True)
class RetentionPolicy:
    """The retention setting: what `cleanup` keeps, and how often the app runs it.

    The app starts `run_periodically(monitor)` as a task on its event loop at start-up (qasync),
    which cleans once right away and then every `interval_hours`.
    """

    enabled: bool = True
    older_than_days: float | None = 90.0
    keep_last: int | None = 1000
    interval_hours: float = 24.0
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> RetentionPolicy:
        """A policy from a settings mapping (keys as the fields; missing keys take the defaults)."""
        settings = dict(settings or {})
        known = {k: settings[k] for k in cls.__dataclass_fields__ if k in settings}
        policy = cls(**known)
        if policy.interval_hours <= 0:
            raise InvalidInputError(
                f"retention interval_hours must be more than 0, not {policy.interval_hours}"
            )
        if policy.older_than_days is None and policy.keep_last is None:
            raise InvalidInputError("retention needs older_than_days, keep_last or both")
        return policy

    async def run_once(self, monitor: Any) -> dict[str, int] | None:
        """Run one cleanup through `monitor` (a WorkflowMonitor) if enabled; errors are logged, not raised."""
        if not self.enabled:
            return None
        try:
            return await monitor.cleanup(
                older_than_days=self.older_than_days, keep_last=self.keep_last, batch_size=self.batch_size
            )
        except Exception:  # a failed cleanup must not take the app down; the next run tries again
            log.exception("Retention cleanup failed")
            return None

    async def run_periodically(self, monitor: Any) -> None:
        """Clean now, then every `interval_hours`, until the task is cancelled."""
        while True:
            await self.run_once(monitor)
            await asyncio.sleep(self.interval_hours * 3600.0)
