"""What the REST server holds while it runs: the database, one WorkflowExecutor on the server's event
loop, the live-event hub, and the settings. Routes read it from `request.app.state.runtime`.

Runs go through the same WorkflowExecutor the app and `flowdesk run` use; the server only starts,
follows and stops them. At shutdown, runs still going on are interrupted (status `interrupted`, so
`POST /executions/{id}/resume` or `flowdesk resume` can finish them later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_json

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.domain.models import Execution
from flowdesk.store import Database
from flowdesk.store.database import this_host

from . import DEFAULT_BODY_LIMIT, DEFAULT_PORT
from .events import EventHub

log = logging.getLogger(__name__)

#: Seconds between looks at the users: while none exists (is auth on yet?), and per token once it is
#: (is it still valid, whose is it?). docs/server.md promises changes take effect within this.
AUTH_RECHECK = 2.0

#: How many GET /executions/{id} answers are kept, and the largest kept (ServerRuntime.execution_answer).
ANSWERS_KEPT = 1024
ANSWER_KEPT_BYTES = 64 * 1024


@dataclass(slots=True)
class ServerSettings:
    """How the server was started (what `flowdesk serve` parsed)."""

    db: str | Database | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    body_limit: int = DEFAULT_BODY_LIMIT
    workers_broker: str | None = None
    shutdown_grace: float = 1.0  # seconds runs get to reach a stop point at shutdown
    event_queue_size: int = 1000


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def execution_view(execution: Execution, handle: Any = None) -> dict[str, Any]:
    """An execution as the API shows it: the seed's fields (`progress` 0-100, `current_step`) plus
    input, output, error, environment and times. A live handle, when there is one, is fresher."""
    progress = execution.progress  # 0-100 as every read offers it (store/mapping.progress_percent)
    status = execution.status.value if hasattr(execution.status, "value") else str(execution.status)
    current = execution.current_node
    output, error, completed_at = execution.output_data, execution.error_message, execution.completed_at
    if handle is not None and not handle.done:
        progress = handle.progress
        current = handle.current_step or current
        status = handle.status.value
        if handle.completed_at is not None:
            # Ended a moment ago, its row still on the way to the database: all of it from the handle.
            output, error, completed_at = handle.output_data, handle.error_message, handle.completed_at
    if status == ExecutionStatus.COMPLETED.value:
        progress = 100.0
    duration = None
    if execution.started_at and completed_at:
        duration = (completed_at - execution.started_at).total_seconds()
    return {
        "id": execution.id,
        "workflow_id": execution.workflow_id,
        "execution_name": execution.execution_name,
        "status": status,
        "progress": round(progress, 1),
        "current_step": current,
        "input_data": execution.input_data,
        "output_data": output,
        "error_message": error,
        "environment": execution.environment,
        "resumed_from_id": execution.resumed_from_id,
        "config": execution.config,
        "started_at": execution.started_at,
        "completed_at": completed_at,
        "duration": duration,
        "runner_host": execution.runner_host,
        "runner_pid": execution.runner_pid,
    }


def view_json(view: dict[str, Any]) -> bytes:
    """An `execution_view` as the JSON FastAPI would write of it through ExecutionView, written
    without validating it again: its values are already of the model's types, in the model's field
    order, and pydantic's own serializer writes them (tests/server/test_rest_api.py compares)."""
    return to_json(view, inf_nan_mode="null")


def handle_view(handle: Any, config: Mapping[str, Any], environment: str | None) -> dict[str, Any]:
    """An ended run as `execution_view` shows it, from its handle (what the writer has just stored),
    so a synchronous execute answers without reading the row back."""
    execution = Execution(
        id=handle.id,
        workflow_id=handle.workflow_id,
        execution_name=handle.execution_name,
        status=handle.status,
        input_data=handle.input_data,
        output_data=handle.output_data,
        error_message=handle.error_message,
        current_node=handle.current_step,
        progress=handle.progress,
        config=dict(config),
        environment=environment,
        runner_pid=os.getpid(),
        runner_host=this_host(),
        started_at=handle.started_at,
        completed_at=handle.completed_at,
    )
    return execution_view(execution)


@dataclass
class ServerRuntime:
    """The server's live parts; made at start-up by the app's lifespan, closed at shutdown."""

    settings: ServerSettings
    db: Database
    executor: Any = None  # flowdesk.engine.executor.WorkflowExecutor
    monitor: Any = None  # flowdesk.services.monitor.MonitorService (it keeps the system-load sampler)
    reader: Any = None  # flowdesk.store.row_reader.ExecutionReader: GET /executions/{id} on the loop
    hub: EventHub = field(init=False)
    handles: dict[int, Any] = field(default_factory=dict)
    _users_checked: float = 0.0
    _auth_on: bool = True
    _tokens: dict[str, tuple[Any, float]] = field(default_factory=dict)  # digest -> (user, checked at)
    _answers: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # id -> (workflow id, JSON)
    _answers_version: int | None = None  # the reader's data_version when _answers were read
    _loopback: bool = True
    _unsubscribe: Any = None
    _worker_events: Any = None

    def __post_init__(self) -> None:
        self.hub = EventHub(self.state_of, queue_size=self.settings.event_queue_size)
        self._loopback = is_loopback(self.settings.host)

    @classmethod
    async def start(cls, settings: ServerSettings) -> ServerRuntime:
        """Open the database (created or upgraded) and the executor."""
        from flowdesk.engine.executor import WorkflowExecutor

        db = (
            settings.db
            if isinstance(settings.db, Database)
            else await asyncio.to_thread(Database, settings.db)
        )
        runtime = cls(settings=settings, db=db)
        from flowdesk.store.row_reader import ExecutionReader

        runtime.reader = ExecutionReader(db)
        runtime.executor = WorkflowExecutor(db=db, broker=settings.workers_broker)
        from flowdesk.services.monitor import MonitorService

        runtime.monitor = MonitorService(db)
        runtime._unsubscribe = runtime.executor.subscribe(runtime.hub.publish)
        if settings.workers_broker:
            runtime._worker_events = asyncio.ensure_future(
                runtime._relay_worker_events(settings.workers_broker)
            )
        await runtime.refresh_auth(force=True)
        return runtime

    async def _relay_worker_events(self, broker: str) -> None:
        """Feed the workers' events (Redis pub/sub, in each worker's emission order) to the hub."""
        import json

        import redis.asyncio as aioredis

        from flowdesk.engine.queue import EVENTS_CHANNEL

        while True:
            client = aioredis.Redis.from_url(broker)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(EVENTS_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.hub.publish_json(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker restarted: subscribe again
                log.warning("lost the workers' events (%s); subscribing again", exc)
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()

    async def close(self) -> None:
        """Interrupt runs still going on (resumable later), end event streams, close the executor."""
        handles = [h for h in self.executor.active_executions if not h.done]
        for handle in handles:
            handle.interrupt("the server stopped")
        if handles:
            await asyncio.wait(
                [asyncio.ensure_future(h.wait()) for h in handles], timeout=self.settings.shutdown_grace
            )
        self.hub.close_all()
        if self._worker_events is not None:
            self._worker_events.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.executor.aclose()
        self.reader.close()
        if not isinstance(self.settings.db, Database):
            await asyncio.to_thread(self.db.close)

    # -- auth ------------------------------------------------------------------------------------

    async def refresh_auth(self, *, force: bool = False) -> bool:
        """Whether requests must carry a token: always once a user exists, or off loopback. While no
        user exists the count is looked at again at most every two seconds (a user added by
        `flowdesk user add` turns auth on without a restart)."""
        if self._auth_on and not force:
            return True
        if not self._loopback:
            self._auth_on = True
            return True
        now = time.monotonic()
        if force or now - self._users_checked > AUTH_RECHECK:
            from flowdesk.services.users import UserService

            self._users_checked = now
            self._auth_on = await asyncio.to_thread(UserService(self.db).count_users) > 0
        return self._auth_on

    async def token_user(self, token: str) -> Any:
        """The user (flowdesk.services.users.User) a valid token belongs to, else None. A valid
        token's user is looked up again at most every AUTH_RECHECK seconds, so a revoked token, a
        deleted user or a changed role takes effect within that; unknown tokens are looked up each time."""
        from flowdesk.services.users import UserService, token_digest

        key = token_digest(token)
        now = time.monotonic()
        known = self._tokens.get(key)
        if known is not None and now - known[1] < AUTH_RECHECK:
            return known[0]
        user = await asyncio.to_thread(UserService(self.db).authenticate, token)
        if user is None:
            self._tokens.pop(key, None)
        else:
            if len(self._tokens) >= 4096:  # a bound, far beyond the tokens one server sees at once
                self._tokens = {k: v for k, v in self._tokens.items() if now - v[1] < AUTH_RECHECK}
            self._tokens[key] = (user, now)
        return user

    # -- runs --------------------------------------------------------------------------------------

    async def execute(
        self,
        workflow_id: int,
        *,
        input_data: Any,
        execution_name: str | None,
        config: Mapping[str, Any],
        step_by_step: bool,
        breakpoints: list[str],
        environment: str | None,
    ) -> Any:
        """Start a run; returns its handle (already ended unless async, step-by-step or paused)."""
        run_config = dict(config)
        run_async = bool(run_config.pop("async", False))
        if run_config.get("queue") not in (None, False):
            if not self.settings.workers_broker:
                raise InvalidInputError(
                    "This server hands no runs to workers (start it with --workers-broker URL); "
                    "leave out config.queue to run it here."
                )
            if step_by_step or breakpoints:
                raise InvalidInputError("A run handed to workers cannot be stepped or paused at breakpoints.")
            queued = await self.executor.execute_workflow(
                workflow_id,
                input_data,
                execution_name=execution_name,
                config=run_config,
                environment=environment,
            )
            if not run_async:
                await queued.wait()
            return queued
        handle = await self.executor.execute_workflow(
            workflow_id,
            input_data,
            execution_name=execution_name,
            config={**run_config, "async": True},
            step_by_step=step_by_step,
            breakpoints=breakpoints,
            environment=environment,
        )
        if handle.id is not None:
            self.handles[handle.id] = handle
            asyncio.ensure_future(self._forget_when_done(handle))
        if not run_async and not step_by_step and not breakpoints:
            await handle.wait()
        return handle

    async def _forget_when_done(self, handle: Any) -> None:
        await handle.wait()
        await asyncio.sleep(30)  # late `GET`s of a just-finished run still see the handle's fresh state
        self.handles.pop(handle.id, None)

    def handle(self, execution_id: int) -> Any:
        """The live handle of a run this server started and that has not ended, else None."""
        handle = self.handles.get(execution_id)
        return handle if handle is not None and not handle.done else None

    def live_handle(self, execution_id: int) -> Any:
        """The live handle, or NotFoundError/InvalidInputError saying why there is none."""
        handle = self.handles.get(execution_id)
        if handle is None:
            raise InvalidInputError(
                f"Execution {execution_id} is not running on this server, so it cannot be controlled here."
            )
        if handle.done:
            raise InvalidInputError(f"Execution {execution_id} has ended ({handle.status.value}).")
        return handle

    async def resume(self, execution_id: int, config: Mapping[str, Any] | None = None) -> Any:
        handle = await self.executor.resume(execution_id, config={**dict(config or {}), "async": True})
        if handle.id is not None:
            self.handles[handle.id] = handle
            asyncio.ensure_future(self._forget_when_done(handle))
        return handle

    async def get_execution(self, execution_id: int) -> dict[str, Any]:
        """The run as the API shows it. Read on the event loop where the reader can (a SQLite file:
        tens of microseconds), else by the store in a worker thread (PostgreSQL; a busy file; no
        such run, which the store then reports)."""
        live = self.handle(execution_id)
        execution = await self._read_execution(execution_id)
        if live is not None and live.done:
            # It ended while its row was read in the worker thread: that row can be older than the
            # end (a resume's status is written with the next batch), and the handle no longer
            # speaks for the run. Its final row is committed before `done` is set: read that.
            execution = await self._read_execution(execution_id)
        return execution_view(execution, self.handle(execution_id))

    async def _read_execution(self, execution_id: int) -> Any:
        execution = self.reader.execution(execution_id)
        if execution is None:
            from flowdesk.services.executions import ExecutionService

            execution = await asyncio.to_thread(ExecutionService(self.db).get_execution, execution_id)
        return execution

    async def execution_answer(self, execution_id: int) -> tuple[int, bytes]:
        """GET /executions/{id}: the run's workflow id (for the scope check) and its JSON.

        Answers are kept while nothing at all has been committed to the SQLite file since they were
        read (its data_version, which a commit by any connection of any process moves: a run's
        progress, a resume, a deletion) and the run is not live here, so polling a finished run
        costs a look-up. The version is read before the row: a commit in between moves it, and the
        next call reads again. Small answers only, and at most ANSWERS_KEPT of them."""
        version = self.reader.data_version()
        if version is not None and version != self._answers_version:
            self._answers.clear()
            self._answers_version = version
        live = self.handle(execution_id) is not None
        if version is not None and not live:
            kept = self._answers.get(execution_id)
            if kept is not None:
                return kept
        view = await self.get_execution(execution_id)
        answer = (view["workflow_id"], view_json(view))
        if (
            version is not None
            and not live
            and self.handle(execution_id) is None
            and len(answer[1]) <= ANSWER_KEPT_BYTES
            and version == self._answers_version
        ):
            if len(self._answers) >= ANSWERS_KEPT:
                self._answers.clear()
            self._answers[execution_id] = answer
        return answer

    async def state_of(self, execution_id: int | None) -> Any:
        """A run's current state (what a late or lagging event subscriber is sent first)."""
        if execution_id is not None:
            try:
                return await self.get_execution(execution_id)
            except NotFoundError:
                return None
        return [
            {
                "id": h.id,
                "workflow_id": h.workflow_id,
                "status": h.status.value,
                "progress": h.progress,
                "current_step": h.current_step,
            }
            for h in self.executor.active_executions
        ]
