"""One worker process's engine: one asyncio loop in a thread, shared by every execution it runs.

Celery's `threads` pool calls `WorkerRuntime.take(execution_id)` from up to --concurrency threads;
each call hands the run to the loop and blocks until it ends, so the message is acknowledged only
then (acks_late). The runs themselves share the loop, its HTTP pool and the database writer, as in
the app.

Liveness: every worker keeps a Redis key `flowdesk:worker:{host}:{pid}` alive (refreshed every
`heartbeat` seconds, expiring after three missed beats), holding what it runs. A message for a run
whose recorded worker has no key any more means that worker died: the run is marked interrupted
and resumed here through the executor's atomic resume claim (records.claim_resume).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Coroutine
from typing import Any

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.engine import records
from flowdesk.engine.errors import ExecutionLimitReached, ExecutionNotResumableError
from flowdesk.engine.queue import CANCEL_CHANNEL, EVENTS_CHANNEL, WORKER_KEY_PREFIX, enqueue
from flowdesk.store import run_rows
from flowdesk.store.database import this_host

from .events import EventPublisher

logger = logging.getLogger(__name__)

# What `take` tells the Celery task to do with the message.
ENDED = "ended"  # the run ended here, or had ended already: acknowledge
OWNED = "owned"  # a live worker runs it: look again later (the message is re-sent with a delay)
HANDED_BACK = "handed_back"  # this worker is stopping: the run was interrupted and queued again
BUSY = "busy"  # the workflow runs its max_concurrent_executions already: try again in a moment
UNREACHABLE = "unreachable"  # the database cannot be reached: the message is sent again later


DATABASE_RETRY = 2.0
"""Seconds between two attempts to reach a database that could not be reached at start."""


def _runs_recorded_under(conn: Any, host: str, pid: int) -> list[tuple[int, str, int | None]]:
    """(id, queue, resumed_from_id) of the executions recorded `running` or `paused` under this host
    and pid."""
    found = []
    for execution_id, config, resumed_from in run_rows.executions_held_by(conn, host, pid):
        queue = str((config or {}).get("queue") or "default")
        found.append((execution_id, queue, resumed_from))
    return found


def worker_key(host: str, pid: int) -> str:
    """The Redis key that says a worker process is alive."""
    return f"{WORKER_KEY_PREFIX}{host}:{pid}"


class WorkerRuntime:
    """The engine of one worker process (see the module docstring)."""

    def __init__(
        self,
        db: str,
        broker: str,
        *,
        queues: list[str],
        concurrency: int,
        heartbeat: float = 2.0,
        grace: float = 30.0,
        rate_limits: dict[str, tuple[int, float]] | None = None,
    ) -> None:
        self.db_spec = db
        self.broker = broker
        self.queues = queues
        self.concurrency = concurrency
        self.heartbeat = heartbeat
        self.grace = grace
        self.rate_limits = dict(rate_limits or {})  # queue -> (runs, per seconds), across all workers
        self.host = this_host()
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.executor: Any = None
        self._handles: dict[int, Any] = {}
        self._starting: set[int] = set()  # claimed (or being claimed) here, its handle not yet made
        self._reclaim: asyncio.Task[Any] | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop_main, name="flowdesk-worker-loop", daemon=True)
        self._tasks: list[asyncio.Task[Any]] = []
        self._events: EventPublisher | None = None
        self._redis: Any = None
        self._setup_error: BaseException | None = None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> WorkerRuntime:
        """Start the loop thread, open the database and the Redis connection; raises what failed."""
        self._thread.start()
        self._ready.wait()
        if self._setup_error is not None:
            raise self._setup_error
        return self

    def _loop_main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._setup())
        except BaseException as exc:  # reported by start()
            self._setup_error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _setup(self) -> None:
        import redis.asyncio as aioredis

        from flowdesk.engine.executor import WorkflowExecutor

        self.executor = WorkflowExecutor(db=self.db_spec, broker=self.broker)
        await self._open_database()
        self._redis = aioredis.Redis.from_url(self.broker)
        await self._redis.ping()
        await self._beat()
        self._events = EventPublisher(self._redis, EVENTS_CHANNEL)
        self.executor.subscribe(self._on_event)
        self._tasks = [
            asyncio.ensure_future(self._heartbeat_forever()),
            asyncio.ensure_future(self._listen_for_cancels()),
            asyncio.ensure_future(self._events.run()),
        ]

    async def _open_database(self) -> None:
        """Open the store now, not at the first message: a bad --db fails here; a database server
        that cannot be reached yet (stopped, restarting) is waited for, said once in the log."""
        from flowdesk.store.storage_errors import unreachable

        waiting_since: float | None = None
        while True:
            try:
                db = await self.executor.database()
            except Exception as exc:
                if not unreachable(exc):
                    raise
                if waiting_since is None:
                    waiting_since = time.monotonic()
                    logger.warning("%s The worker waits for it, trying every %.0f s.", exc, DATABASE_RETRY)
                await asyncio.sleep(DATABASE_RETRY)
                continue
            if waiting_since is not None:
                logger.warning(
                    "the database answers after %.0f s; the worker starts", time.monotonic() - waiting_since
                )
            self._watch_outages(db)
            return

    def _watch_outages(self, db: Any) -> None:
        """After each database outage the writer has waited out, look for lost claims
        (`_hand_back_lost`); the executor's own outage handling (pausing runs) is kept."""
        writer = self.executor.writer_for(db)
        told = writer.on_outage

        def on_outage(down: bool) -> None:  # on the writer thread
            if told is not None:
                told(down)
            if not down:
                self.loop.call_soon_threadsafe(self._look_for_lost_claims)

        writer.on_outage = on_outage

    def _look_for_lost_claims(self) -> None:
        if self._reclaim is None or self._reclaim.done():
            self._reclaim = asyncio.ensure_future(self._hand_back_lost())

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the loop from another thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def begin_shutdown(self) -> None:
        """Stop taking runs; the runs going on get `grace` seconds to end, then are handed back."""
        if self._stopping:
            return
        self._stopping = True
        logger.info("stopping: %d run(s) get %.0f s to end", len(self._handles), self.grace)
        self.loop.call_soon_threadsafe(lambda: self.loop.call_later(self.grace, self._hand_back_all))

    @property
    def stopping(self) -> bool:
        """True once the worker was asked to stop (SIGTERM, SIGINT): it takes no more runs."""
        return self._stopping

    def _hand_back_all(self) -> None:
        for handle in list(self._handles.values()):
            handle.interrupt(f"the worker {self.host} pid {self.pid} stopped; the run was queued again")

    def close(self) -> None:
        """Cancel what still runs, stop the loop and drop this worker's liveness key."""
        if not self._thread.is_alive():
            return

        async def finish() -> None:
            for task in self._tasks:
                task.cancel()
            if self.executor is not None:
                await self.executor.aclose()
            if self._redis is not None:
                try:
                    await self._redis.delete(worker_key(self.host, self.pid))
                except Exception as exc:  # Redis away: the key expires after three missed beats
                    logger.warning("could not remove this worker's liveness key: %s", exc)
                await self._redis.aclose()

        try:
            self.call(finish())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)

    # -- taking a message ------------------------------------------------------------------------
    def take(self, execution_id: int) -> str:
        """What the Celery task does with a message naming `execution_id` (blocks until done)."""
        return str(self.call(self._take(execution_id)))

    async def _take(self, execution_id: int) -> str:
        from flowdesk.store.storage_errors import unreachable

        try:
            return await self._take_once(execution_id)
        except Exception as exc:
            if not unreachable(exc):
                raise
            # The database went away while this message was looked at, perhaps in the middle of
            # the claim's commit: the message is sent again, and once the database answers this
            # worker hands back the runs it is recorded to run but does not hold (`_hand_back_lost`).
            logger.warning("execution %s waits: %s", execution_id, exc)
            self._look_for_lost_claims()
            return UNREACHABLE

    async def _take_once(self, execution_id: int) -> str:
        from flowdesk.services.executions import ExecutionService

        db = await self.executor.database()
        writer = self.executor.writer_for(db)
        service = ExecutionService(db)
        for _attempt in range(10):
            current = await writer.call(service.latest_attempt, execution_id)
            status = ExecutionStatus(current.status)
            if status == ExecutionStatus.PENDING:
                queue = str((current.config or {}).get("queue") or "default")
                if not await self._within_rate(queue):
                    logger.info("execution %s waits: queue %s is at its rate limit", current.id, queue)
                    return BUSY
                self._starting.add(current.id)
                try:
                    handle = await self.executor.run_queued(current.id)
                except ExecutionLimitReached as limit:
                    logger.info("execution %s waits: %s", current.id, limit)
                    return BUSY
                finally:
                    self._starting.discard(current.id)  # _follow holds its handle from here on
                if handle is None:
                    continue  # another worker took it, or it was cancelled: look again
                return await self._follow(handle)
            if status in (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED):
                host, pid = current.runner_host or "", current.runner_pid or 0
                if (host, pid) == (self.host, self.pid):
                    if self._holds(current.id):
                        return OWNED  # its message came back after the visibility timeout
                    # Recorded as running here, but not held: a claim whose answer was lost.
                    await self._hand_back(writer, current.id)
                    continue
                if await self._alive(host, pid):
                    return OWNED  # another live worker runs it
                reason = f"Interrupted: the worker running it ({host} pid {pid}) stopped."
                await writer.transaction(records.interrupt_dead_run, current.id, host, pid, reason)
                continue
            if status == ExecutionStatus.INTERRUPTED:
                if self._stopping:
                    await self._requeue(current)
                    return HANDED_BACK
                self._starting.add(current.id)  # its new execution names it as resumed_from_id
                try:
                    handle = await self.executor.resume(current.id, config={"async": True})
                except ExecutionNotResumableError:
                    continue  # another worker claimed it first: its new execution is the latest now
                finally:
                    self._starting.discard(current.id)
                return await self._follow(handle)
            return ENDED  # completed, failed, cancelled, timed out: a late or duplicate message
        logger.warning("execution %s kept changing under this worker; message dropped", execution_id)
        return ENDED

    def _holds(self, execution_id: int) -> bool:
        """Whether this process runs `execution_id`, or is starting it."""
        return execution_id in self._handles or execution_id in self._starting

    async def _hand_back(self, writer: Any, execution_id: int) -> bool:
        """Mark a run recorded as this worker's, which this worker does not hold, `interrupted`
        (conditional on this host and pid); the next look at its message resumes it."""
        reason = (
            f"Interrupted: the worker {self.host} pid {self.pid} was recorded to run it but did not "
            "(the database went away as it took the run); the run was handed back."
        )
        done = bool(
            await writer.transaction(records.interrupt_dead_run, execution_id, self.host, self.pid, reason)
        )
        if done:
            logger.warning("execution %s was recorded as running here but is not: handed back", execution_id)
        return done

    async def _hand_back_lost(self) -> None:
        """Once the database answers again, hand back every run recorded as running under this worker
        (host and pid) that it does not hold, and queue each again: the claim whose commit was made
        while its answer was lost to an outage. Runs waiting for the database stay in `_handles`."""
        from flowdesk.store.storage_errors import unreachable

        db = await self.executor.database()
        writer = self.executor.writer_for(db)
        while True:
            try:
                recorded = await writer.transaction(_runs_recorded_under, self.host, self.pid)
                break
            except Exception as exc:
                if not unreachable(exc):
                    logger.warning("could not look for runs recorded under this worker: %s", exc)
                    return
                await asyncio.sleep(DATABASE_RETRY)
        for execution_id, queue, resumed_from in recorded:
            if self._holds(execution_id) or (resumed_from is not None and resumed_from in self._starting):
                continue  # held, being started, or the new execution of a resume going on here
            if await self._hand_back(writer, execution_id):
                await asyncio.to_thread(enqueue, self.broker, execution_id, queue)

    async def _follow(self, handle: Any) -> str:
        self._handles[handle.id] = handle
        await self._beat()
        try:
            await handle.wait()
        finally:
            self._handles.pop(handle.id, None)
        if handle.status == ExecutionStatus.INTERRUPTED and self._stopping:
            from flowdesk.services.executions import ExecutionService

            db = await self.executor.database()
            await self._requeue(await asyncio.to_thread(ExecutionService(db).get_execution, handle.id))
            return HANDED_BACK
        return ENDED

    async def _requeue(self, execution: Any) -> None:
        queue = (execution.config or {}).get("queue") or "default"
        await asyncio.to_thread(enqueue, self.broker, int(execution.id), str(queue))

    async def _within_rate(self, queue: str) -> bool:
        """A fixed-window counter in Redis shared by every worker: at most N runs of the queue start
        per window of S seconds (`--rate-limit QUEUE=N/S`)."""
        limit = self.rate_limits.get(queue)
        if limit is None:
            return True
        runs, per = limit
        key = f"flowdesk:rate:{queue}:{int(time.time() // per)}"
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, max(1, int(per * 2 + 1)))
        return bool(count <= runs)

    # -- liveness, cancels, events --------------------------------------------------------------
    async def _alive(self, host: str, pid: int) -> bool:
        return bool(await self._redis.exists(worker_key(host, pid)))

    async def _beat(self) -> None:
        state = {
            "host": self.host,
            "pid": self.pid,
            "queues": self.queues,
            "concurrency": self.concurrency,
            "running": sorted(self._handles),
            "stopping": self._stopping,
            "time": time.time(),
        }
        ttl = max(1, int(self.heartbeat * 3 + 0.999))
        await self._redis.set(worker_key(self.host, self.pid), json.dumps(state), ex=ttl)

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._beat()
            except Exception as exc:  # Redis away for a moment: the next beat tries again
                logger.warning("heartbeat failed: %s", exc)

    async def _listen_for_cancels(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(CANCEL_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        request = json.loads(message["data"])
                        wanted, reason = int(request["execution_id"]), str(request["reason"])
                    except (TypeError, ValueError, KeyError):
                        logger.warning("ignored a malformed cancel request: %r", message["data"][:200])
                        continue
                    handle = self._handles.get(wanted)
                    if handle is not None:
                        handle.cancel(reason)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect after a broker restart
                logger.warning("cancel listener lost the broker (%s); reconnecting", exc)
                await asyncio.sleep(1.0)

    def _on_event(self, event: Any) -> None:
        from flowdesk.server.events import event_to_json

        if self._events is not None:
            self._events.put(event_to_json(event))
