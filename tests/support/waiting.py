"""Waiting for what a test expects, never for a length of time.

A test that waits for something waits for the event or the condition itself. The deadline here only
turns "it never happened" into a failure that says what did not happen; it is generous because a busy
2-core machine can stall a process for seconds, and it never decides a pass. Where a test must tell
"happened" from "did not", what it waits on is made far slower than the deadline (a DELAY of an hour,
not of 30 s), so the deadline sits between the two with room on both sides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds to wait for something that happens at once on an idle machine.
EVENTUALLY = 60.0

#: How often a condition nobody signals is looked at again (a poll, not a wait for a time).
POLL = 0.005


def _never(what: str, timeout: float) -> AssertionError:
    return AssertionError(f"{what} did not happen within {timeout:g} s")


async def eventually(awaitable: Awaitable[T], what: str, timeout: float = EVENTUALLY) -> T:
    """Await `awaitable`; fail saying `what` never happened if it takes longer than `timeout`."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise _never(what, timeout) from None


async def until(predicate: Callable[[], Any], what: str, timeout: float = EVENTUALLY) -> None:
    """On the event loop: poll `predicate` (letting other tasks run) until it is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise _never(what, timeout)
        await asyncio.sleep(POLL)


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = EVENTUALLY) -> None:
    """Off any event loop (another thread or process does the work): poll `predicate` until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _never(what, timeout)
        time.sleep(POLL)


class EngineEvents:
    """Records an executor's events and lets a test await one (`await events.wait("node_started", "d")`)."""

    def __init__(self, executor: Any) -> None:
        self.seen: list[Any] = []
        self._arrived = asyncio.Event()
        self.unsubscribe = executor.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        self.seen.append(event)
        self._arrived.set()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.seen]

    def find(self, kind: str, node_name: str | None = None) -> Any | None:
        """The first event of `kind` (for `node_name`, when given), or None."""
        for event in self.seen:
            if event.kind == kind and (node_name is None or getattr(event, "node_name", None) == node_name):
                return event
        return None

    async def wait(self, kind: str, node_name: str | None = None, timeout: float = EVENTUALLY) -> Any:
        """The first event of `kind` (for `node_name`), waiting for it if it has not come yet."""

        async def arrival() -> Any:
            while (event := self.find(kind, node_name)) is None:
                self._arrived.clear()
                await self._arrived.wait()
            return event

        what = f"the event {kind}" + (f" of node {node_name!r}" if node_name else "")
        return await eventually(arrival(), what, timeout)


#: EVENTUALLY in milliseconds, for pytest-qt's `qtbot.waitUntil(..., timeout=)` / `waitSignal`.
EVENTUALLY_MS = int(EVENTUALLY * 1000)
