"""Runs on workers from the app (docs/scale-out.md): the broker the app hands runs to, and the relay
that brings the workers' engine events to the app's run views.

A queued run is shown by the same RunState, canvas overlay and log dock as a local one: the workers
publish every engine event of their runs on Redis (pub/sub channel `flowdesk:events`, in emission
order per worker); the relay subscribes on the app's event loop, turns each message back into the
engine event it was and hands it to the EngineHost, which routes it exactly as it routes its own
executor's events. docs/architecture.md says why events and not polling the step rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine import events as ev
from flowdesk.engine.queue import BROKER_ENV, EVENTS_CHANNEL, shown_broker

log = logging.getLogger(__name__)

BROKER_SETTING = "workers/broker"
"""The app setting naming the broker (a redis:// URL); $FLOWDESK_BROKER when it is not set."""
RECONNECT_S = 1.0
"""Seconds before the relay subscribes again after losing the broker (a Redis restart)."""
SUBSCRIBE_PATIENCE_S = 10.0
"""Seconds the first subscription may take before the broker counts as unreachable."""


def configured_broker(settings: Any) -> str | None:
    """The broker the app hands runs to: the setting, else $FLOWDESK_BROKER; None when neither is set."""
    value = settings.value(BROKER_SETTING) if settings is not None else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return os.environ.get(BROKER_ENV) or None


class WorkerEventRelay:
    """Subscribes to the workers' events on the running event loop; each event goes to `deliver`."""

    def __init__(self, broker: str, deliver: Callable[[ev.EngineEvent], None]) -> None:
        self.broker = broker
        self._deliver = deliver
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.received = 0  # events relayed (for the monitor and tests)

    async def start(self) -> None:
        """Subscribe (at once, so no event of a run submitted next is missed); InvalidInputError,
        in one sentence, when the broker cannot be reached."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._listen())
        try:
            await asyncio.wait_for(asyncio.shield(self._subscribed.wait()), SUBSCRIBE_PATIENCE_S)
        except TimeoutError:
            await self.stop()
            raise InvalidInputError(
                f"The broker {shown_broker(self.broker)} cannot be reached: start Redis there, or change the setting "
                f"{BROKER_SETTING} / ${BROKER_ENV}."
            ) from None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.broker, socket_connect_timeout=5)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(EVENTS_CHANNEL)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._relay(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: subscribe again
                log.warning("lost the workers' events (%s); subscribing again", exc)
                await asyncio.sleep(RECONNECT_S)
            finally:
                await client.aclose()

    def _relay(self, raw: Any) -> None:
        try:
            event = ev.event_from_json(json.loads(raw))
        except (TypeError, ValueError, AttributeError):
            log.warning("ignored a malformed worker event: %r", raw[:200])
            return
        if event is not None:
            self.received += 1
            self._deliver(event)
