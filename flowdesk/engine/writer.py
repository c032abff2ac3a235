"""ExecutionWriter: step rows and execution updates go to the database from one worker thread.

The event loop encodes each step row into its SQL values (a few microseconds with orjson) and
appends it to a queue; the thread drains the queue in batches, one transaction per batch (one
executemany for the step rows, one UPDATE per execution touched). `call` runs any other database
work (creating an execution, loading a graph) on the same thread, in order, and `flush()` waits
until everything queued so far is committed.

Why the encoding happens on the loop and not on the thread: the thread would hold the GIL for the
whole of a batch's encoding, and the event loop, coming back from each socket call, would wait for
it (up to the interpreter's 5 ms switch interval each time). With rows encoded, the thread's work is
sqlite3's executemany, which lets go of the GIL for every row it writes.

When runs write steps in bulk (a batch of SINK_THRESHOLD rows or more) on a SQLite file, the
inserts go to the step sink, a process of its own (step_sink.py): there they cost the engine's
process nothing, not even the GIL hand-overs of executemany. The writer thread waits for the
sink's answer before it goes on, so order and flush() hold; execution updates and audit rows stay
on the thread. If the sink cannot start or stops, the thread writes the rows itself. Once the sink
serves, the thread lets the event loop drive it (sink_channel.py): the loop writes the batches to the
sink's pipe and reads its answers, and the writer's other items wait there for the batches before
them, so no thread stands between a step row and the sink.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowdesk.store import run_rows
from flowdesk.store.run_rows import INSERT_STEPS, STEP_COLUMNS, step_values
from flowdesk.store.storage_errors import TOO_BIG, UNREACHABLE, StorageFailure, classify, unreachable
from flowdesk.store.value_text import json_safe, json_text

from .sink_channel import SinkChannel
from .step_sink import read_message, write_message

logger = logging.getLogger(__name__)

_STOP = object()
JSON_STEP_FIELDS = tuple(sorted(run_rows.STEP_JSON_COLUMNS))
__all__ = [
    "NOT_STORED",
    "SINK_BATCH",
    "SINK_THRESHOLD",
    "ExecutionWriter",
    "dumps",
    "json_safe",
    "step_values",
]

STORE_ATTEMPTS = 3
"""Times a batch is written before its rows are written one by one (and a run's failure is declared)."""
PREVIEW_CHARACTERS = 1000
"""A value too big for the database is stored as a marker holding its first this many characters."""
CUT_ABOVE = 10_000
"""When a row is too big, its values longer than this (as JSON text) are cut."""
NOT_STORED = "not_stored"
"""The key of the marker a step row carries in place of values that could not be stored."""

OUTAGE_PATIENCE = 600.0
"""Seconds the writer keeps trying a database server that cannot be reached (stopped, restarting)
before it gives up and the runs waiting on it fail. Meanwhile runs are paused (executor.py)."""
OUTAGE_RETRY_MAX = 2.0
"""Longest wait between two attempts to reach the database (the wait doubles from 0.1 s)."""

SINK_THRESHOLD = 200
"""Step rows in one batch from which a SQLite file's inserts go to the step sink process."""
SINK_BATCH = 100
"""While the step sink serves, a batch is taken as soon as this many step rows have come (or after
`linger`, whichever is first): the sink inserts one batch while the run makes the next, so at a
run's end at most this many rows are left to wait for. (Lingering 20 ms, a chain of 1,000 fast
nodes had nearly ended before the sink got its first row.) Counted in rows, not time, so that a
slow run (a busy machine) does not make a transaction of a handful of rows."""
HANDOFF_WAIT = 0.005
"""Longest time the loop waits for the writer thread to take a full batch for the sink (`add_step`)."""
_SINK_SCRIPT = Path(__file__).with_name("step_sink.py")


class StepSinkGone(Exception):
    """The step sink process stopped or cannot be reached."""


class StepSinkProcess:
    """The step sink process, as the writer thread sees it. Starting it takes a few tens of
    milliseconds (a new interpreter): `ready` is set once it has opened the database, and until
    then the writer thread goes on writing rows itself."""

    def __init__(self, database: Path) -> None:
        self.proc = subprocess.Popen(
            # -I: isolated (no environment, no user site); -S: no site packages to import, which
            # takes two thirds of an interpreter's start. The sink needs the standard library only.
            [sys.executable, "-I", "-S", str(_SINK_SCRIPT), str(database)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin, self.proc.stdout
        self.ready = threading.Event()
        self.failed = False
        self._send(("sql", INSERT_STEPS))
        threading.Thread(target=self._await_ready, name="flowdesk-step-sink-start", daemon=True).start()

    @property
    def stdin_fd(self) -> int:
        return self._in.fileno()

    @property
    def stdout_fd(self) -> int:
        return self._out.fileno()

    def _await_ready(self) -> None:
        try:
            message = read_message(self._out)
        except (OSError, ValueError):
            message = None
        self.failed = message != ("ready", None)
        self.ready.set()

    def _send(self, message: Any) -> None:
        try:
            write_message(self._in, message)
        except (OSError, ValueError) as exc:
            raise StepSinkGone(str(exc)) from exc

    def insert(self, rows: list[tuple[Any, ...]], sent: Callable[[], None] | None = None) -> str | None:
        """Insert `rows` in one transaction (once `ready`): None once committed, else why not.
        `sent` is called once the rows are in the pipe, before the wait for the answer."""
        if self.failed:
            raise StepSinkGone(f"the step sink process did not start (exit code {self.proc.poll()})")
        self._send(("rows", rows))
        if sent is not None:
            sent()
        reply = read_message(self._out)
        if reply is None:
            raise StepSinkGone(f"the step sink process ended (exit code {self.proc.poll()})")
        kind, detail = reply
        return None if kind == "ok" else str(detail)

    def close(self) -> None:
        try:
            self._in.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.ready.wait(5)  # the start thread has seen EOF by now
        self._out.close()


class ExecutionWriter:
    """Batches database writes of runs off the event loop (one thread, its own connections)."""

    def __init__(
        self, db: Any, *, linger: float = 0.02, max_batch: int = 2000, step_sink: bool | None = None
    ) -> None:
        self.db = db
        self.linger = linger
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._conn: Any = None
        self._urgent = threading.Event()
        # Set by the thread once it has taken the batch the loop asked for (`add_step`, below).
        self._taken = threading.Event()
        # While the step sink serves (`_bulk`, set by the thread), the loop counts the rows queued
        # since the thread last took a batch and ends its linger at SINK_BATCH. The thread resets
        # the count; a reset lost to a race only ends the next linger sooner.
        self._bulk = False
        self._gathered = 0
        # Once the sink serves, the thread lets the loop drive it (`_loop_may_own`, set between two
        # of the thread's batches); the loop's next step row opens the channel (engine/sink_channel.py)
        # and from then on the thread leaves the sink alone until the channel is given back.
        self._loop_may_own = False
        self._channel: SinkChannel | None = None
        self._channel_unsupported = False
        self._encoded = run_rows.encodes_step_rows(db)  # SQLite rows are queued as SQL values
        self._sink: StepSinkProcess | None = None
        # The step sink serves SQLite files, from a real interpreter (not a frozen app). `step_sink`
        # False keeps every insert on the thread, True uses the sink from the first row; None reads
        # FLOWDESK_STEP_SINK (0 / 1), else the sink takes batches of SINK_THRESHOLD rows or more.
        if step_sink is None:
            setting = os.environ.get("FLOWDESK_STEP_SINK", "")
            step_sink = {"0": False, "1": True}.get(setting)
        usable = self._encoded and getattr(db, "path", None) is not None and not getattr(sys, "frozen", False)
        self._sink_from = 1 if step_sink else SINK_THRESHOLD
        self._sink_usable = usable and step_sink is not False
        self.sink_rows = 0  # step rows the sink committed
        self.failures = 0
        # Storage failures: `on_failure(execution_id, sentence)` is called (on this thread) the first
        # time an execution's rows cannot be written; the rows wait in `_pending` meanwhile.
        self.on_failure: Callable[[int, str], None] | None = None
        self.failed: dict[int, str] = {}
        self._pending: dict[int, list[Any]] = {}
        # A database server that cannot be reached: every write and call is tried again until it
        # answers (or `outage_patience` runs out); `on_outage(True)` is called (on this thread) when
        # the first attempt fails, `on_outage(False)` once the database answers again.
        self.outage_patience = OUTAGE_PATIENCE
        self.on_outage: Callable[[bool], None] | None = None
        self._outage_since: float | None = None
        self._outage_delay = 0.1
        # Per execution, its progress update still in the queue (note_progress): later notes change
        # it in place until the thread takes it or an explicit update comes after it.
        self._progress: dict[int, dict[str, Any]] = {}
        self._progress_lock = threading.Lock()

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
        if self._thread is None:
            self._ensure_thread()
        if not self._encoded:
            self._queue.put(("step", row))
            return
        values = step_values(row)
        channel = self._channel
        if channel is None and self._loop_may_own and not self._channel_unsupported:
            channel = self._open_channel()
        if channel is not None:
            channel.add(values, SINK_BATCH)
            return
        self._queue.put(("step", values))
        if self._bulk:
            self._gathered += 1
            if self._gathered % SINK_BATCH == 0:
                # A batch for the sink is there: the thread stops lingering. Once per batch, not for
                # every row that comes before the thread wakes (each set() takes the event's lock).
                self._taken.clear()
                self._urgent.set()
                # Then the loop lets the thread have the GIL until it has handed the batch to the
                # sink (HANDOFF_WAIT at most). Without this wait a busy loop starves the thread: the
                # loop gives the GIL up for a moment at every poll of its selector, which resets the
                # interpreter's switch interval, so a waiting thread is never given the GIL by force
                # and can wait out a whole run (docs/architecture.md, "The step sink").
                self._taken.wait(HANDOFF_WAIT)

    def _open_channel(self) -> SinkChannel | None:
        """The loop takes the sink over from the thread (on a running loop, the sink ready)."""
        sink = self._sink
        if sink is None or not sink.ready.is_set() or sink.failed or not self._sink_usable:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        try:
            self._channel = SinkChannel(self, sink, loop)
        except (NotImplementedError, OSError) as exc:  # a loop that cannot watch pipes (Windows' proactor)
            logger.debug("the loop cannot drive the step sink (%s): the thread does", exc)
            self._loop_may_own = False
            self._channel_unsupported = True
            return None
        return self._channel

    def enqueue(self, item: Any, urgent: bool = False) -> None:
        """Give the writer thread one item of its queue (the channel's way, once it is the item's turn)."""
        self._queue.put(item)
        if urgent:
            self._urgent.set()

    def queue_rows(self, rows: list[Any]) -> None:
        """Encoded step rows for the thread to write itself (a batch the sink did not write)."""
        self._ensure_thread()
        self._queue.put(("steps", rows))
        self._urgent.set()

    def channel_gone(self, *, usable: bool, reason: str | None = None) -> None:
        """The loop has given the sink back (`usable`), or the sink is gone (`reason`)."""
        self._channel = None
        self._loop_may_own = False
        if not usable:
            logger.warning(
                "the step sink process is not available (%s): the writer thread writes steps", reason
            )
            self._sink_usable = False

    def _put(self, item: Any, urgent: bool) -> None:
        """Queue `item` after every step row queued before it (the channel's rows included)."""
        channel = self._channel
        if channel is not None:
            channel.put(item, urgent)
        else:
            self.enqueue(item, urgent)

    async def release_channel(self) -> None:
        """Wait for the rows the loop has given the sink, then give the sink back to the thread."""
        channel = self._channel
        if channel is not None:
            await channel.drain()
            channel.detach()

    def expect_bulk(self) -> None:
        """A run with many steps begins: start the step sink now, so that it is ready when they come
        (nothing happens where the sink does not serve, or when it runs already)."""
        if self._sink_usable and self._sink is None:
            self._ensure_thread()
            self._queue.put(("sink",))

    def update_execution(self, execution_id: int, **fields: Any) -> None:
        """Queue a change of an execution's columns (coalesced with others of the same batch)."""
        if self._progress:
            with self._progress_lock:  # a progress note after this one queues an update after it
                self._progress.pop(execution_id, None)
        self._ensure_thread()
        self._put(("exec", execution_id, fields), False)

    def note_progress(self, execution_id: int, current_node: str | None, progress: float) -> None:
        """Record the node that starts and the run's progress. While the update of an earlier note
        waits in the queue, this one only changes its values: a burst of fast nodes costs one
        queued update per batch, and the batch writes the latest node (never an older one)."""
        with self._progress_lock:
            waiting = self._progress.get(execution_id)
            if waiting is not None:
                waiting["current_node"] = current_node
                waiting["progress"] = progress
                return
            fields = {"current_node": current_node, "progress": progress}
            self._progress[execution_id] = fields
        self._ensure_thread()
        self._queue.put(("exec", execution_id, fields))

    def _take_progress(self, execution_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Thread side: the values of a queued update; a progress note's stop changing here."""
        if self._progress.get(execution_id) is not fields:
            return fields  # an explicit update, or a note already closed by one (no longer written)
        with self._progress_lock:
            if self._progress.get(execution_id) is fields:
                del self._progress[execution_id]
            return dict(fields)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` on the writer thread after what is queued; return its result.
        It runs in a copy of the caller's context, so context variables (the audit actor) follow it."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(("call", contextvars.copy_context().run, (fn, *args), kwargs, loop, future), True)
        return await future

    async def transaction(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(connection, *args, **kwargs)` in one write transaction on the writer thread's own
        connection, after what is queued; return its result (an exception rolls it back). A file
        that cannot be written (read-only, disk full) raises the database's one-sentence error."""
        try:
            return await self.call(self._in_transaction, fn, *args, **kwargs)
        except Exception as exc:
            failure = self.db.write_failure(exc)
            if failure is None:
                raise
            raise failure from exc

    def _in_transaction(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return run_rows.write_transaction(self._connection(), fn, *args, **kwargs)

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
        self._put(("flush", loop, future), True)
        await future

    def request_flush(self) -> None:
        """Ask for a commit of what is queued without waiting for it."""
        if self._thread is not None:
            self._put(("nudge",), True)

    def close(self) -> None:
        """Write what is left and stop the thread."""
        if self._thread is not None and not self._closed:
            self._closed = True
            if self._channel is not None:  # the loop is not driving it now: finish it here
                self._channel.finish_blocking()
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
            urgent = item is _STOP or item[0] in ("call", "flush", "nudge", "sink")
            linger = self.linger
            if not urgent and linger:
                # Let a burst of steps gather so that one commit writes many of them. The thread
                # sleeps instead of taking each row as it comes (no wake-up, no GIL hand-over per
                # row); a flush, a call or the stop request (`_urgent`) ends the wait at once.
                self._urgent.wait(linger)
            self._urgent.clear()
            self._gathered = 0
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
                elif tag == "steps":
                    steps.extend(entry[1])
                elif tag == "sink":
                    self._start_sink()
                elif tag == "exec":
                    fields = execs.setdefault(entry[1], {})
                    audit = fields.get("_audit")
                    update = self._take_progress(entry[1], entry[2])
                    fields.update(update)
                    if audit and update.get("_audit"):
                        fields["_audit"] = f"{audit} {update['_audit']}"
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
                        result = self._through_outage(fn, *args, **kwargs)
                        done.append((loop, future, True, result))
                    except BaseException as exc:  # handed to the awaiting coroutine
                        done.append((loop, future, False, exc))
            self._write(steps, execs)
            self._taken.set()
            self._bulk = self._sink is not None and self._sink.ready.is_set()
            if self._bulk and self._sink_usable and not stop and not self._channel_unsupported:
                self._loop_may_own = True  # between two batches: the thread is not using the sink
            for loop, future, ok, value in done:
                try:
                    loop.call_soon_threadsafe(_settle, future, ok, value)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    pass
        if self._pending:
            self._write([], {}, closing=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._bulk = False
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    @property
    def sink_running(self) -> bool:
        """Whether step inserts go to the step sink process now."""
        return self._sink is not None and self._sink_usable

    def _start_sink(self) -> None:
        if self._sink is None and self._sink_usable:
            try:
                self._sink = StepSinkProcess(Path(self.db.path))
            except OSError as exc:
                logger.warning(
                    "the step sink process could not start (%s): the writer thread writes steps", exc
                )
                self._sink_usable = False

    def _to_sink(self, steps: list[Any]) -> list[Any]:
        """Hand `steps` to the step sink when it serves this batch; what is left to write here."""
        if (
            not self._sink_usable
            or self._loop_may_own
            or (self._sink is None and len(steps) < self._sink_from)
        ):
            return steps
        if self._sink is None:
            self._start_sink()
            if self._sink is None:
                return steps
            if self._sink_from == 1:  # asked for from the first row: wait for it to be ready
                self._sink.ready.wait(10)
        if not self._sink.ready.is_set():
            return steps  # still starting: this batch is written here
        try:
            problem = self._sink.insert(steps, self._taken.set)
        except ValueError:  # a value marshal cannot carry: this batch is written here
            return steps
        except (StepSinkGone, OSError) as exc:
            logger.warning("the step sink process is not available (%s): the writer thread writes steps", exc)
            self._sink_usable = False
            if self._sink is not None:
                self._sink.close()
                self._sink = None
            return steps
        if problem is not None:
            logger.warning(
                "the step sink could not write %d steps (%s): writing them here", len(steps), problem
            )
            return steps
        self.sink_rows += len(steps)
        return []

    def _write(self, steps: list[Any], execs: dict[int, dict[str, Any]], *, closing: bool = False) -> None:
        if self._pending:
            # Rows an earlier batch could not write go first (order of sequence numbers kept).
            waiting = [row for rows in self._pending.values() for row in rows]
            self._pending.clear()
            steps = waiting + steps
        if not steps and not execs:
            return
        failure = self._try_commit(steps, execs)
        while failure is not None and failure.kind == UNREACHABLE and self._outage_wait(failure.detail):
            # The batch was one transaction: it was committed whole or not at all. Only a commit
            # whose answer was lost can have been made, and then its first row is there already.
            failure = None if self._batch_stored(steps) else self._try_commit(steps, execs)
        if failure is None:
            self._outage_over()
            return
        attempt = 1
        while failure is not None and failure.kind != TOO_BIG and attempt < STORE_ATTEMPTS:
            # A locked file or a moment's shortage of space: give it a moment and write again.
            time.sleep(0.05 * attempt)
            attempt += 1
            failure = self._try_commit(steps, execs)
        if failure is not None:
            self._write_piecewise(steps, execs, closing=closing)

    def _through_outage(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)` (one transaction), made again while the database cannot be reached."""
        while True:
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                if not unreachable(exc) or not self._outage_wait(classify(exc).detail):
                    raise
                continue
            self._outage_over()
            return result

    def _outage_wait(self, detail: str) -> bool:
        """The database cannot be reached: wait a moment before the next attempt. False once the
        outage has lasted `outage_patience` seconds (the write fails then, as any other would)."""
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
            self._outage_delay = 0.1
            logger.warning(
                "the database %s cannot be reached (%s): runs wait, writes are tried again for up to %.0f s",
                self._where(),
                detail,
                self.outage_patience,
            )
            self._tell_outage(True)
        if now - self._outage_since > self.outage_patience:
            return False
        self._drop_connection()
        time.sleep(self._outage_delay)
        self._outage_delay = min(OUTAGE_RETRY_MAX, self._outage_delay * 2)
        return True

    def _outage_over(self) -> None:
        if self._outage_since is None:
            return
        logger.warning(
            "the database %s answers again after %.1f s; the runs go on",
            self._where(),
            time.monotonic() - self._outage_since,
        )
        self._outage_since = None
        self._tell_outage(False)

    def _tell_outage(self, down: bool) -> None:
        if self.on_outage is not None:
            try:
                self.on_outage(down)
            except Exception:  # the loop is gone: nobody to tell
                logger.debug("could not report the database outage", exc_info=True)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection may refuse even to close
                logger.debug("closing a broken connection failed", exc_info=True)
            self._conn = None

    def _batch_stored(self, steps: list[Any]) -> bool:
        """Whether the first step row of `steps` is in the database already (PostgreSQL rows)."""
        if not steps or not isinstance(steps[0], dict):
            return False
        from flowdesk.store.bulk import step_row_exists

        first = steps[0]
        try:
            return step_row_exists(
                self._connection(), first["execution_id"], first.get("sequence", 0), first["step_name"]
            )
        except Exception as exc:
            if unreachable(exc):
                return False  # still away: the commit that follows fails and waits again
            raise

    def _try_commit(self, steps: list[Any], execs: dict[int, dict[str, Any]]) -> StorageFailure | None:
        """Commit one batch; None once committed, else what the database said."""
        try:
            self._commit(steps, execs)
            return None
        except (TypeError, ValueError):
            # Something is not JSON-able: make it so and try once more.
            for row in steps:
                if not isinstance(row, dict):
                    continue  # already encoded (JSON-safe by construction)
                for key in JSON_STEP_FIELDS:
                    if key in row:
                        row[key] = json_safe(row[key])
            for fields in execs.values():
                for key in ("output_data", "input_data"):
                    if key in fields:
                        fields[key] = json_safe(fields[key])
            try:
                self._commit(steps, execs)
                return None
            except Exception as exc:
                return classify(exc)
        except Exception as exc:
            return classify(exc)

    def _write_piecewise(self, steps: list[Any], execs: dict[int, dict[str, Any]], *, closing: bool) -> None:
        """Write a batch the database refused one row at a time: a row too big is written with its
        large values cut; a row that still cannot be written waits in memory (its run is stopped) and,
        once its run has ended, is written without its values, saying they were not stored."""
        ended = {eid for eid, fields in execs.items() if fields.get("completed_at") is not None}
        for row in steps:
            execution_id = _execution_of(row)
            failure = self._try_commit([row], {})
            if failure is not None and failure.kind == TOO_BIG:
                failure = self._try_commit([_cut_row(row, PREVIEW_CHARACTERS)], {})
            if failure is None:
                continue
            self._fail(execution_id, failure)
            if closing or execution_id in ended:
                slim = _cut_row(row, 0, not_stored=self.failed.get(execution_id, failure.detail))
                if self._try_commit([slim], {}) is None:
                    continue
            self._pending.setdefault(execution_id, []).append(row)
        for execution_id, fields in execs.items():
            sentence = self.failed.get(execution_id)
            if sentence is not None and fields.get("status") == "completed":
                # The run ended before it heard of the failure: it did not keep all its steps.
                fields = {**fields, "status": "failed", "error_message": sentence}
            failure = self._try_commit([], {execution_id: fields})
            if failure is not None:
                # Cut the big values (a workflow's output can be most of the row); the status matters more.
                not_stored = failure.sentence(self._where()) if failure.kind != TOO_BIG else None
                cut = {
                    k: _cut_value(v, PREVIEW_CHARACTERS, not_stored) if k in _JSON_EXECUTION_FIELDS else v
                    for k, v in fields.items()
                }
                failure = self._try_commit([], {execution_id: cut})
            if failure is not None:
                self.failures += 1
                logger.error(
                    "execution %s: its row could not be updated: %s",
                    execution_id,
                    failure.sentence(self._where()),
                )

    def _fail(self, execution_id: int, failure: StorageFailure) -> None:
        self.failures += 1
        if execution_id in self.failed:
            return
        sentence = failure.sentence(self._where())
        self.failed[execution_id] = sentence
        logger.error("execution %s: %s", execution_id, sentence)
        if self.on_failure is not None:
            try:
                self.on_failure(execution_id, sentence)
            except Exception:  # the loop is gone: nobody to tell
                logger.debug(
                    "could not report the storage failure of execution %s", execution_id, exc_info=True
                )

    def _where(self) -> str:
        path = getattr(self.db, "path", None)
        return str(path) if path is not None else str(getattr(self.db, "display_url", "database"))

    def _commit(self, steps: list[Any], execs: dict[int, dict[str, Any]]) -> None:
        if steps:
            steps = self._to_sink(steps)
            if not steps and not execs:
                return
        updates = [
            (execution_id, {k: v for k, v in fields.items() if k != "_audit"}, fields.get("_audit"))
            for execution_id, fields in execs.items()
        ]
        run_rows.write_batch(self._connection(), steps, updates)


_STEP_INDEX = {name: i for i, name in enumerate(STEP_COLUMNS)}
# Values cut to a marker object (warnings stay a list of text; iteration_path is always short).
_CUTTABLE_INDEXES = tuple(_STEP_INDEX[name] for name in ("input_data", "output_data", "metrics"))
_JSON_EXECUTION_FIELDS = frozenset({"input_data", "output_data"})


def _execution_of(row: Any) -> int:
    return int(row["execution_id"] if isinstance(row, dict) else row[0])


def _marker(text: str, keep: int, not_stored: str | None) -> dict[str, Any]:
    marker: dict[str, Any] = {"truncated": True, "original_characters": len(text)}
    if not_stored is not None:
        marker[NOT_STORED] = not_stored
    else:
        marker["text"] = text[:keep]
    return marker


def _cut_value(value: Any, keep: int, not_stored: str | None = None) -> Any:
    """`value` (a Python value) as a marker when its JSON text is long (or always, for `not_stored`)."""
    if value is None or value == [] or value == {}:
        return value
    text = value if isinstance(value, str) else (json_text(value) or "")
    if not_stored is None and len(text) <= CUT_ABOVE:
        return value
    return _marker(text, keep, not_stored)


def _cut_warnings(text: str) -> list[str]:
    return [
        f"the warnings were too big to store ({len(text):,} characters); they began: {text[:PREVIEW_CHARACTERS]}"
    ]


def _cut_row(row: Any, keep: int, *, not_stored: str | None = None) -> Any:
    """A copy of a step row with its long values replaced by markers (a dict row or encoded values)."""
    if isinstance(row, dict):
        cut = dict(row)
        for key in ("input_data", "output_data"):
            cut[key] = _cut_value(row.get(key), keep, not_stored)
        cut["metrics"] = _cut_value(row.get("metrics"), keep)
        warnings = row.get("warnings")
        if warnings and len(json_text(warnings) or "") > CUT_ABOVE:
            cut["warnings"] = _cut_warnings(json_text(warnings) or "")
        message = row.get("error_message")
        if isinstance(message, str) and len(message) > CUT_ABOVE:
            cut["error_message"] = message[:PREVIEW_CHARACTERS] + " ... (cut)"
        return cut
    values = list(row)
    for index in _CUTTABLE_INDEXES:
        text = values[index]
        if not isinstance(text, str):
            continue
        if index in (_STEP_INDEX["input_data"], _STEP_INDEX["output_data"]) and not_stored is not None:
            values[index] = json_text(_marker(text, keep, not_stored))
        elif len(text) > CUT_ABOVE:
            values[index] = json_text(_marker(text, keep, None))
    warnings = values[_STEP_INDEX["warnings"]]
    if isinstance(warnings, str) and len(warnings) > CUT_ABOVE:
        values[_STEP_INDEX["warnings"]] = json_text(_cut_warnings(warnings))
    message = values[_STEP_INDEX["error_message"]]
    if isinstance(message, str) and len(message) > CUT_ABOVE:
        values[_STEP_INDEX["error_message"]] = message[:PREVIEW_CHARACTERS] + " ... (cut)"
    return tuple(values)


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
