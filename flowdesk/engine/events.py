"""The engine's one observer mechanism: typed events on an EventBus.

Plugins, the CLI and the desktop UI (through one Qt adapter) all listen here. Listeners are plain
callables `listener(event)`; one that returns an awaitable has it scheduled as a task. A listener
that raises is logged and ignored: it never breaks a run.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class EngineEvent:
    """Base of every engine event; `kind` names it ("execution_started", "node_finished"...)."""

    execution_id: int | None
    time: float  # wall clock, seconds since the epoch

    kind = "event"


@dataclass(slots=True, frozen=True)
class ExecutionStarted(EngineEvent):
    workflow_id: int | None = None
    execution_name: str | None = None
    input_data: Any = None
    parent_execution_id: int | None = None  # a SUBWORKFLOW's child run: the run and step that started it
    parent_step: str | None = None
    kind = "execution_started"


@dataclass(slots=True, frozen=True)
class ExecutionPaused(EngineEvent):
    reason: str = ""
    current_step: str | None = None
    kind = "execution_paused"


@dataclass(slots=True, frozen=True)
class ExecutionResumed(EngineEvent):
    kind = "execution_resumed"


@dataclass(slots=True, frozen=True)
class ExecutionFinished(EngineEvent):
    status: str = ""
    output_data: Any = None
    error_message: str | None = None
    duration: float = 0.0
    kind = "execution_finished"


@dataclass(slots=True, frozen=True)
class NodeStarted(EngineEvent):
    node_name: str = ""
    node_type: str = ""
    step_name: str = ""
    sequence: int = 0
    iteration_path: tuple[int, ...] = ()
    kind = "node_started"


@dataclass(slots=True, frozen=True)
class NodeFinished(EngineEvent):
    node_name: str = ""
    node_type: str = ""
    step_name: str = ""
    sequence: int = 0
    status: str = ""  # a StepStatus value: success, failed, skipped, cancelled
    output: Any = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 0
    duration: float = 0.0
    iteration_path: tuple[int, ...] = ()
    taken: tuple[str, ...] = ()  # target node names of the connections taken
    warnings: tuple[str, ...] = ()  # e.g. "unresolved reference 'input.base_url'" (also sent as LogLines)
    dead: tuple[str, ...] = ()  # target node names of the connections this step left dead
    kind = "node_finished"


@dataclass(slots=True, frozen=True)
class LogLine(EngineEvent):
    level: str = "info"
    message: str = ""
    node_name: str | None = None
    step_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    kind = "log"


@dataclass(slots=True, frozen=True)
class AlertFired(EngineEvent):
    """An alert rule became true after this run (engine/alerting.py); `message` says what was measured."""

    alert_id: int = 0
    rule_id: int | None = None
    rule_name: str = ""
    workflow_id: int | None = None
    message: str = ""
    value: float = 0.0
    kind = "alert_fired"


Listener = Callable[[EngineEvent], Any]

_KINDS: dict[str, type[EngineEvent]] = {
    cls.kind: cls
    for cls in (
        ExecutionStarted,
        ExecutionPaused,
        ExecutionResumed,
        ExecutionFinished,
        NodeStarted,
        NodeFinished,
        LogLine,
        AlertFired,
    )
}
_TUPLE_FIELDS = frozenset({"iteration_path", "taken", "warnings", "dead"})


def event_from_json(data: Mapping[str, Any]) -> EngineEvent | None:
    """The engine event a JSON object describes (`type` and the event's fields, as workers publish
    them and the server streams them: server/events.py `event_to_json`); None when it is no event."""
    cls = _KINDS.get(str(data.get("type")))
    if cls is None:
        return None
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            values[f.name] = tuple(value) if f.name in _TUPLE_FIELDS and isinstance(value, list) else value
    try:
        return cls(**values)
    except TypeError:  # execution_id or time missing
        return None


class EventBus:
    """Synchronous fan-out of engine events to listeners (errors logged, never raised)."""

    __slots__ = ("_listeners", "_tasks")

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it again."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            try:
                self._listeners.remove(listener)
            except ValueError:
                pass

        return unsubscribe

    def unsubscribe(self, listener: Listener) -> None:
        """Remove a listener (no error when it is not subscribed)."""
        try:
            self._listeners.remove(listener)
        except ValueError:
            pass

    @property
    def active(self) -> bool:
        """Whether anybody listens (lets the engine skip building events nobody reads)."""
        return bool(self._listeners)

    def emit(self, event: EngineEvent) -> None:
        """Deliver `event` to every listener in subscription order."""
        for listener in tuple(self._listeners):
            try:
                result = listener(event)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._task_done)
            except Exception:
                logger.exception("event listener %r raised on %s; ignored", listener, event.kind)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("async event listener raised; ignored", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for async listeners still running (used at the end of a run)."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
