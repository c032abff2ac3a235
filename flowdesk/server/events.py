"""Live events for the REST server: the engine's events as JSON, fanned out to subscribers.

Every subscriber has a bounded queue. Publishing never waits: when a subscriber's queue is full its
events are dropped and it is marked *lagged*; the subscriber then receives a `lagged` event followed
by the current state of the run(s) it follows, and goes on from there. So a slow WebSocket client
never slows a run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

from flowdesk.engine import events as ev

DEFAULT_QUEUE_SIZE = 1000


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON-ready copy of an event field (outputs may hold anything the engine produced)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 50:
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def event_to_json(event: ev.EngineEvent) -> dict[str, Any]:
    """One engine event as a JSON object: `type`, `execution_id`, `time` and the event's own fields."""
    data: dict[str, Any] = {"type": event.kind}
    for f in dataclasses.fields(event):
        data[f.name] = _plain(getattr(event, f.name))
    return data


class Subscription:
    """One subscriber's queue of events (dicts); `None` in the queue means the stream has ended."""

    def __init__(self, hub: EventHub, execution_id: int | None, size: int) -> None:
        self.hub = hub
        self.execution_id = execution_id
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=size)
        self.lagged = False
        self.closed = False

    def offer(self, item: dict[str, Any] | None) -> None:
        if self.closed:
            return
        if item is None:
            self.closed = True
            self._force(None)
            return
        if self.lagged:
            return  # already behind: the state sent on catching up covers what is dropped now
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True

    def _force(self, item: dict[str, Any] | None) -> None:
        while True:
            try:
                self.queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()  # the end of the stream must get through
                self.lagged = True

    async def next(self) -> dict[str, Any] | None:
        """The next event; a `lagged` event and fresh state when events were dropped; None at the end."""
        if self.lagged and self.queue.empty() and not self.closed:
            return await self._catch_up()
        item = await self.queue.get()
        if item is None and self.lagged:
            self.lagged = False
        return item

    async def _catch_up(self) -> dict[str, Any]:
        self.lagged = False
        state = await self.hub.state(self.execution_id)
        return {"type": "lagged", "execution_id": self.execution_id, "time": time.time(), "state": state}

    def close(self) -> None:
        self.closed = True
        self.hub._remove(self)


class EventHub:
    """Receives the executor's events (on the event loop) and hands them to subscriptions.

    `state_of(execution_id)` is an async function giving a run's current state (None: every active
    run's), used for late and lagging subscribers.
    """

    def __init__(self, state_of: Callable[[int | None], Any], queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._state_of = state_of
        self._queue_size = queue_size
        self._by_execution: dict[int, set[Subscription]] = {}
        self._all: set[Subscription] = set()

    def publish(self, event: ev.EngineEvent) -> None:
        """Fan an engine event out (the executor's listener; never blocks, never raises)."""
        if not self._by_execution.get(event.execution_id or -1) and not self._all:
            return
        self.publish_json(event_to_json(event))

    def publish_json(self, data: dict[str, Any]) -> None:
        """Fan out an event already in its JSON form (what workers publish over Redis)."""
        targets = self._by_execution.get(data.get("execution_id") or -1)
        if not targets and not self._all:
            return
        for sub in self._all:
            sub.offer(data)
        if targets:
            finished = data.get("type") == ev.ExecutionFinished.kind
            for sub in list(targets):
                sub.offer(data)
                if finished:
                    sub.offer(None)

    def subscribe(self, execution_id: int | None) -> Subscription:
        """A new subscription to one execution's events (None: every execution's)."""
        sub = Subscription(self, execution_id, self._queue_size)
        if execution_id is None:
            self._all.add(sub)
        else:
            self._by_execution.setdefault(execution_id, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        if sub.execution_id is None:
            self._all.discard(sub)
            return
        subs = self._by_execution.get(sub.execution_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_execution[sub.execution_id]

    async def state(self, execution_id: int | None) -> Any:
        """The current state of one run (or of every active run)."""
        return await self._state_of(execution_id)

    def close_all(self) -> None:
        """End every stream (the server is stopping)."""
        for sub in list(self._all):
            sub.offer(None)
        for subs in list(self._by_execution.values()):
            for sub in list(subs):
                sub.offer(None)

    @property
    def subscriber_count(self) -> int:
        return len(self._all) + sum(len(s) for s in self._by_execution.values())
