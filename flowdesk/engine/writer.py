"""ExecutionWriter: step rows and execution updates go to the database from one worker thread.

The event loop only appends to a queue (microseconds); the thread drains it in batches, one
transaction per batch (one executemany for the step rows, one UPDATE per execution touched). `call`
runs any other database work (creating an execution, loading a graph) on the same thread, in order,
and `flush()` waits until everything queued so far is committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from .encoding import json_text, time_text

logger = logging.getLogger(__name__)

_STOP = object()
JSON_STEP_FIELDS = ("input_data", "output_data", "warnings", "metrics", "iteration_path")


def json_safe(value: Any) -> Any:
    """A JSON-able copy of `value` (dates as ISO text, other unknown objects as their str)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class ExecutionWriter:
    """Batches database writes of runs off the event loop (one thread, its own connections)."""

    def __init__(self, db: Any, *, linger: float = 0.02, max_batch: int = 2000) -> None:
        self.db = db
        self.linger = linger
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._conn: Any = None
        self._urgent = threading.Event()
        self.failures = 0

    # -- loop side ---------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._work, name="flowdesk-execution-writer", daemon=True
                    )
                    self._thread.start()

    def add_step(self, execution_id: int, row: dict[str, Any]) -> None:
        """Queue one step row (a dict of workflow_execution_logs columns)."""
        row["execution_id"] = execution_id
        row["created_at"] = row.get("completed_at")
        self._ensure_thread()
        self._queue.put(("step", row))

    def update_execution(self, execution_id: int, **fields: Any) -> None:
        """Queue a change of an execution's columns (coalesced with others of the same batch)."""
        self._ensure_thread()
        self._queue.put(("exec", execution_id, fields))

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` on the writer thread after what is queued; return its result."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(("call", fn, args, kwargs, loop, future))
        self._urgent.set()
        return await future

    async def transaction(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(connection, *args, **kwargs)` in one write transaction on the writer thread's own
        connection, after what is queued; return its result (an exception rolls it back)."""
        return await self.call(self._in_transaction, fn, *args, **kwargs)

    def _in_transaction(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection()
        if conn.dialect.name != "sqlite":
            with conn.begin():
                return fn(conn, *args, **kwargs)
        # The engine's transactions use the SQLite connection directly (see records.py).
        raw = conn.connection.driver_connection
        raw.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn, *args, **kwargs)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return result

    def _connection(self) -> Any:
        # The thread's own connection, held for the writer's life (no pool round trip per batch).
        if self._conn is None or self._conn.closed:
            self._conn = self.db.engine.connect()
        return self._conn

    async def flush(self) -> None:
        """Wait until every row and update queued so far is committed."""
        if self._thread is None:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(("flush", loop, future))
        self._urgent.set()
        await future

    def request_flush(self) -> None:
        """Ask for a commit of what is queued without waiting for it."""
        if self._thread is not None:
            self._queue.put(("nudge",))
            self._urgent.set()

    def close(self) -> None:
        """Write what is left and stop the thread."""
        if self._thread is not None and not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._urgent.set()
            self._thread.join(timeout=30)
            self._thread = None
            self._closed = False

    # -- thread side -------------------------------------------------------------------------
    def _work(self) -> None:
        q = self._queue
        stop = False
        while not stop:
            item = q.get()
            batch = [item]
            urgent = item is _STOP or item[0] in ("call", "flush", "nudge")
            if not urgent and self.linger:
                # Let a burst of steps gather so that one commit writes many of them. The thread
                # sleeps instead of taking each row as it comes (no wake-up, no GIL hand-over per
                # row); a flush, a call or the stop request (`_urgent`) ends the wait at once.
                self._urgent.wait(self.linger)
            self._urgent.clear()
            while len(batch) < self.max_batch:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            steps: list[dict[str, Any]] = []
            execs: dict[int, dict[str, Any]] = {}
            done: list[tuple[Any, asyncio.Future[Any], bool, Any]] = []
            for entry in batch:
                if entry is _STOP:
                    stop = True
                    continue
                tag = entry[0]
                if tag == "step":
                    steps.append(entry[1])
                elif tag == "exec":
                    fields = execs.setdefault(entry[1], {})
                    audit = fields.get("_audit")
                    fields.update(entry[2])
                    if audit and entry[2].get("_audit"):
                        fields["_audit"] = f"{audit} {entry[2]['_audit']}"
                    elif audit:
                        fields["_audit"] = audit
                elif tag == "flush":
                    done.append((entry[1], entry[2], True, None))
                elif tag == "call":
                    # Write what came before, then run the call (keeps order).
                    self._write(steps, execs)
                    steps, execs = [], {}
                    _, fn, args, kwargs, loop, future = entry
                    try:
                        result = fn(*args, **kwargs)
                        done.append((loop, future, True, result))
                    except BaseException as exc:  # handed to the awaiting coroutine
                        done.append((loop, future, False, exc))
            self._write(steps, execs)
            for loop, future, ok, value in done:
                try:
                    loop.call_soon_threadsafe(_settle, future, ok, value)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    pass
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _write(self, steps: list[dict[str, Any]], execs: dict[int, dict[str, Any]]) -> None:
        if not steps and not execs:
            return
        from flowdesk.services.executions import EXECUTIONS, LOGS

        try:
            self._commit(LOGS, EXECUTIONS, steps, execs)
        except (TypeError, ValueError):
            # Something is not JSON-able: make it so and try once more.
            for row in steps:
                for key in JSON_STEP_FIELDS:
                    if key in row:
                        row[key] = json_safe(row[key])
            for fields in execs.values():
                for key in ("output_data", "input_data"):
                    if key in fields:
                        fields[key] = json_safe(fields[key])
            try:
                self._commit(LOGS, EXECUTIONS, steps, execs)
            except Exception:
                self.failures += 1
                logger.exception("could not write %d step rows", len(steps))
        except Exception:
            self.failures += 1
            logger.exception("could not write %d step rows", len(steps))

    def _commit(
        self, logs: Any, executions: Any, steps: list[dict[str, Any]], execs: dict[int, dict[str, Any]]
    ) -> None:
        from .records import add_audit, update_execution

        conn = self._connection()
        if conn.dialect.name == "sqlite":
            # Every statement of a batch is the engine's own: the SQLite connection runs them
            # directly (BEGIN IMMEDIATE ... COMMIT), without SQLAlchemy's per-statement work.
            raw = conn.connection.driver_connection
            raw.execute("BEGIN IMMEDIATE")
            try:
                if steps:
                    insert_steps_sqlite(raw, steps)
                for execution_id, fields in execs.items():
                    self._update(conn, execution_id, fields, update_execution, add_audit)
                raw.execute("COMMIT")
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            return
        from flowdesk.store.bulk import append_rows

        with conn.begin():
            if steps:
                append_rows(conn, logs, steps)
            for execution_id, fields in execs.items():
                self._update(conn, execution_id, fields, update_execution, add_audit)

    @staticmethod
    def _update(conn: Any, execution_id: int, fields: dict[str, Any], update: Any, audit: Any) -> None:
        columns = {k: v for k, v in fields.items() if k != "_audit"}
        if columns:
            update(conn, execution_id, columns)
        if fields.get("_audit"):
            audit(conn, execution_id, "update", fields["_audit"])


STEP_COLUMNS = (
    "execution_id",
    "node_id",
    "step_name",
    "node_name",
    "node_type",
    "status",
    "input_data",
    "output_data",
    "error_message",
    "error_type",
    "attempts",
    "execution_time",
    "warnings",
    "sequence",
    "metrics",
    "iteration_path",
    "started_at",
    "completed_at",
    "created_at",
)
_JSON_COLUMNS = frozenset(JSON_STEP_FIELDS)
_TIME_COLUMNS = frozenset({"started_at", "completed_at", "created_at"})
_INSERT_STEPS = f"INSERT INTO workflow_execution_logs (id, {', '.join(STEP_COLUMNS)}) VALUES ({', '.join('?' * (len(STEP_COLUMNS) + 1))})"


def insert_steps_sqlite(raw: Any, steps: list[dict[str, Any]]) -> None:
    """One executemany of step rows on a sqlite3 connection (in its open transaction), with values
    encoded as the store encodes them (several times cheaper than generic bind processing, which
    matters for thousands of steps). Ids are assigned under the write lock, as store/bulk.py does."""
    cursor = raw.cursor()
    first = int(cursor.execute("SELECT coalesce(max(id), 0) FROM workflow_execution_logs").fetchone()[0]) + 1
    params = []
    for offset, row in enumerate(steps):
        get = row.get
        params.append(
            (
                first + offset,
                get("execution_id"),
                get("node_id"),
                get("step_name"),
                get("node_name"),
                get("node_type"),
                get("status"),
                json_text(get("input_data")),
                json_text(get("output_data")),
                get("error_message"),
                get("error_type"),
                get("attempts", 0),
                get("execution_time"),
                json_text(get("warnings")),
                get("sequence", 0),
                json_text(get("metrics")),
                json_text(get("iteration_path")),
                time_text(get("started_at")),
                time_text(get("completed_at")),
                time_text(get("created_at")),
            )
        )
    cursor.executemany(_INSERT_STEPS, params)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def dumps(value: Any) -> str:
    """JSON text of a value the engine recorded (for the CLI and tests)."""
    return json.dumps(json_safe(value), ensure_ascii=False)
