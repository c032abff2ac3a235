"""Handing runs to workers (docs/scale-out.md): the broker, the message, and the submitter's handle.

A queued run is an execution row in `pending` status whose config holds the queue's name; the
message on the broker (Celery task `flowdesk.run_execution`, sent by name, so submitting needs no
worker code) carries only the execution's id. Whoever submits (the executor, the CLI, the server)
holds a QueuedExecution: it follows the row in the database, across the resume a worker does when
it takes over a run from a worker that died.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from datetime import datetime
from typing import Any

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.domain.errors import InvalidInputError

TASK_NAME = "flowdesk.run_execution"
BROKER_ENV = "FLOWDESK_BROKER"
DEFAULT_QUEUE = "default"
DEFAULT_VISIBILITY_TIMEOUT = 300.0
"""Seconds before Redis hands an unacknowledged message to another worker (Celery's default is an
hour). A run still going on when its message comes back is seen alive and left alone."""
CANCEL_CHANNEL = "flowdesk:cancel"
"""Redis pub/sub channel on which cancel requests (an execution id) reach every worker."""
EVENTS_CHANNEL = "flowdesk:events"
"""Redis pub/sub channel on which workers publish their runs' engine events (JSON)."""

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_senders: dict[str, Any] = {}
_senders_lock = threading.Lock()


def broker_url(explicit: str | None = None) -> str:
    """The broker URL: the one given, else $FLOWDESK_BROKER; InvalidInputError when there is none."""
    url = explicit or os.environ.get(BROKER_ENV)
    if not url:
        raise InvalidInputError(
            f"No broker to hand the run to: give --broker URL (e.g. redis://127.0.0.1:6379/0) or set {BROKER_ENV}."
        )
    return url


def shown_broker(url: str) -> str:
    """The broker URL fit for messages and logs: a password in it shown as ***."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def queue_name(value: Any) -> str:
    """A checked queue name (`true`/empty mean the default queue)."""
    if value is True or value in (None, ""):
        return DEFAULT_QUEUE
    if not isinstance(value, str) or not _QUEUE_NAME.match(value):
        raise InvalidInputError(
            f"config.queue must be a queue name of letters, digits, '_', '.' or '-', got {value!r}."
        )
    return value


def celery_sender(broker: str) -> Any:
    """A Celery app used only to send messages to `broker` (one per URL, made on first use)."""
    with _senders_lock:
        app = _senders.get(broker)
        if app is None:
            from celery import Celery  # type: ignore[import-untyped]

            app = Celery("flowdesk-submit", broker=broker, set_as_current=False)
            app.conf.broker_connection_retry_on_startup = True
            _senders[broker] = app
        return app


def enqueue(broker: str, execution_id: int, queue: str) -> None:
    """Put the message for a pending execution on `queue` (blocking: call it off the event loop)."""
    celery_sender(broker).send_task(TASK_NAME, args=[execution_id], queue=queue)


def request_cancel(broker: str, execution_id: int, reason: str = "cancelled by the user") -> int:
    """Tell every worker to cancel `execution_id`; returns how many workers listen (Redis PUBLISH)."""
    import json

    import redis

    client = redis.Redis.from_url(broker)
    try:
        return int(
            client.publish(CANCEL_CHANNEL, json.dumps({"execution_id": execution_id, "reason": reason}))
        )
    finally:
        client.close()


async def cancel_queued(
    db: Any, broker: str | None, execution_id: int, reason: str = "cancelled by the user"
) -> str:
    """Cancel a run handed to workers: a still-queued one is marked `cancelled` in the database (the
    worker that gets its message skips it); a running one is cancelled by the worker running it,
    told over the broker (Redis pub/sub). Returns what happened, in one sentence."""
    from flowdesk.services.executions import ExecutionService

    service = ExecutionService(db)
    current = await asyncio.to_thread(service.latest_attempt, execution_id)
    assert current.id is not None
    if ExecutionStatus(current.status).is_final:
        return f"Execution {current.id} has ended ({current.status}); nothing to cancel."
    if await asyncio.to_thread(service.cancel_pending, current.id, reason):
        return f"Execution {current.id} was still queued; it is cancelled and will not run."
    listeners = await asyncio.to_thread(request_cancel, broker_url(broker), current.id, reason)
    return f"Asked the workers to cancel execution {current.id} ({listeners} worker(s) listening)."


WORKER_KEY_PREFIX = "flowdesk:worker:"
"""Each worker process keeps `flowdesk:worker:HOST:PID` alive (worker/runtime.py): its state as JSON."""


def workers_status(broker: str, queues: list[str] | None = None) -> dict[str, Any]:
    """What the broker knows: the live workers (host, pid, queues, concurrency, running execution ids)
    and the number of messages waiting in each queue (those the workers consume, plus `queues`)."""
    import json

    import redis

    client = redis.Redis.from_url(broker)
    try:
        workers = []
        for key in sorted(client.scan_iter(match=f"{WORKER_KEY_PREFIX}*", count=500)):
            raw = client.get(key)
            if raw:
                workers.append(json.loads(raw))
        names = set(queues or [])
        for worker in workers:
            names.update(worker.get("queues") or [])
        lengths = {name: int(client.llen(name)) for name in sorted(names)}
    finally:
        client.close()
    return {"workers": workers, "queues": lengths}


INSPECT_TIMEOUT = 1.0
"""Seconds Celery's inspect broadcast waits for the workers' replies."""


def workers_overview(broker: str, timeout: float = INSPECT_TIMEOUT) -> dict[str, Any]:
    """Who is alive and runs what, as Celery's inspect API answers (`ping`, `active`), joined with
    the workers' liveness keys (queues, concurrency, stopping) and the queue lengths (workers_status).
    Blocking for about `timeout` seconds: call it off the GUI thread and off the event loop.

    Returns {"workers": [{"name", "host", "pid", "alive", "queues", "concurrency", "running",
    "stopping"}], "queues": {name: messages waiting}}; `running` is the execution ids its tasks carry
    (plus those it resumed for them, from its liveness key)."""
    status = workers_status(broker)
    inspect = celery_sender(broker).control.inspect(timeout=timeout)
    pinged = inspect.ping() or {}
    active = inspect.active() or {}
    by_name: dict[str, dict[str, Any]] = {}
    for state in status["workers"]:
        name = f"flowdesk-{state['pid']}@{state['host']}"  # the --hostname `flowdesk worker` gives Celery
        by_name[name] = {
            "name": name,
            "host": state["host"],
            "pid": state["pid"],
            "alive": False,
            "queues": list(state.get("queues") or []),
            "concurrency": state.get("concurrency"),
            "running": set(state.get("running") or []),
            "stopping": bool(state.get("stopping")),
        }
    for name in set(pinged) | set(active):
        host, pid = name.rpartition("@")[2], name.partition("@")[0].rpartition("-")[2]
        entry = by_name.setdefault(
            name,
            {"name": name, "host": host, "pid": int(pid) if pid.isdigit() else None, "alive": False,
             "queues": [], "concurrency": None, "running": set(), "stopping": False},
        )  # fmt: skip
        entry["alive"] = name in pinged
        for task in active.get(name) or []:
            args = task.get("args") or []
            if task.get("name") == TASK_NAME and args and isinstance(args[0], int):
                entry["running"].add(args[0])
    workers = [{**w, "running": sorted(w["running"])} for _, w in sorted(by_name.items())]
    return {"workers": workers, "queues": status["queues"]}


class QueuedExecution:
    """A run handed to workers, as its submitter sees it: the id at once, the state from the database.

    `wait()` follows the run to its end, also when a worker died and another resumed it as a new
    execution (`resumed_from_id`): `id` stays the submitted one, `final_id` is the one that ended.
    A queued run that ends `interrupted` was handed back to the queue (a worker stopped or died), so
    `wait()` keeps waiting for the worker that resumes it.
    """

    def __init__(
        self, executor: Any, execution_id: int, workflow_id: int, execution_name: str | None, queue: str
    ) -> None:
        self._executor = executor
        self.id: int = execution_id
        self.final_id: int = execution_id
        self.workflow_id: int = workflow_id
        self.execution_name = execution_name
        self.queue = queue
        self.status: ExecutionStatus = ExecutionStatus.PENDING
        self.output_data: Any = None
        self.error_message: str | None = None
        self.started_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.runner_host: str | None = None
        self.runner_pid: int | None = None
        self.current_step: str | None = None
        self.progress: float = 0.0

    @property
    def done(self) -> bool:
        """Whether the last state read says the run has ended."""
        return self.status.is_final and self.status != ExecutionStatus.INTERRUPTED

    async def refresh(self) -> QueuedExecution:
        """Read the run's state (following resumes) from the database."""
        from flowdesk.services.executions import ExecutionService

        db = await self._executor.database()
        current = await asyncio.to_thread(ExecutionService(db).latest_attempt, self.id)
        assert current.id is not None
        self.final_id = current.id
        self.status = ExecutionStatus(current.status)
        self.output_data = current.output_data
        self.error_message = current.error_message
        self.started_at = current.started_at
        self.completed_at = current.completed_at
        self.runner_host = current.runner_host
        self.runner_pid = current.runner_pid
        self.current_step = current.current_node
        self.progress = round((current.progress or 0.0) * 100.0, 1)
        return self

    async def wait(self, poll: float = 0.1) -> QueuedExecution:
        """Wait until the run has ended (on whichever worker); returns the handle. The database is
        read every `poll` seconds: the submitter needs no connection to the broker for this."""
        while not (await self.refresh()).done:
            await asyncio.sleep(poll)
        return self

    async def cancel(self, reason: str = "cancelled by the user") -> str:
        """Cancel the run (see cancel_queued); returns what happened."""
        db = await self._executor.database()
        return await cancel_queued(db, self._executor.broker, self.id, reason)

    def __repr__(self) -> str:
        return f"<QueuedExecution id={self.id} queue={self.queue} status={self.status.value}>"
