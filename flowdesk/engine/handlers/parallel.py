"""PARALLEL: runs the targets of its PARALLEL connections as concurrent branches.

`max_concurrent` (0 = unlimited) bounds how many branches run at once. `wait_for_all: true` (the
default): the node finishes when every branch has; an unhandled failure in a branch cancels the
others and fails the node. `wait_for_all: false`: the node finishes as soon as one branch succeeds
and the others are cancelled; it fails only when every branch failed.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure
from .bodies import ended_result, stop_unfinished

REUSABLE = False  # its branches are what resume reuses, step by step

START_BATCH = 32
"""Branches started per event-loop turn; a PARALLEL with hundreds of branches yields between batches."""


def _int_option(ctx: NodeContext, key: str, default: int) -> int:
    raw = ctx.config.get(key, default)
    value = ctx.render(raw) if isinstance(raw, str) else raw
    try:
        number = int(value if value is not None else default)
    except (TypeError, ValueError):
        raise NodeFailure(
            f"PARALLEL {key} must be a whole number, got {value!r}", error_type="expression"
        ) from None
    return max(0, number)


def _bool_option(ctx: NodeContext, key: str, default: bool) -> bool:
    raw = ctx.config.get(key, default)
    value = ctx.render(raw) if isinstance(raw, str) else raw
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value) if value is not None else default


class _FanOut:
    """Starts branches in connection order, at most `limit` at a time (the next one when one ends),
    and settles `done` when the node's outcome is known: every branch ended, the first unhandled
    failure (wait_for_all), or the first success (a race)."""

    def __init__(self, bodies: list[Any], limit: int, wait_for_all: bool) -> None:
        self.bodies: list[Any] = bodies  # an ended branch's entry becomes None (_ended)
        self.limit = limit if limit > 0 else len(bodies)
        self.wait_for_all = wait_for_all
        self.outputs: list[Any] = [None] * len(bodies)
        self.tasks: list[asyncio.Task[Any] | None] = [None] * len(bodies)
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.started = 0
        self.running = 0
        self.left = len(bodies)
        self.failures: list[str] = []

    def start(self, most: int) -> None:
        """Start up to `most` more branches, as the limit allows."""
        while most > 0 and self.running < self.limit and self.started < len(self.bodies):
            if self.done.done():
                return
            i = self.started
            self.started += 1
            self.running += 1
            most -= 1
            task = self.loop.create_task(self.bodies[i].run_once())
            task.add_done_callback(functools.partial(self._ended, i))
            self.tasks[i] = task

    def _ended(self, i: int, task: asyncio.Task[Any]) -> None:
        self.running -= 1
        self.left -= 1
        # An ended branch's task and body (its frame's state) are let go now: kept until the last
        # branch ends, a fan-out of 1,000 held some 15,000 containers the collector walked again
        # and again while the others ran (gc_control.py).
        self.tasks[i] = None
        self.bodies[i] = None
        result = ended_result(task, self.done)
        if result is None:
            return
        self.outputs[i] = result.output
        if not result.ok:
            message = f"branch {i + 1} failed at '{result.failed_step}': {result.failure.message}"
            if self.wait_for_all:
                self.done.set_exception(
                    NodeFailure(message, error_type=result.failure.error_type, attempts=1)
                )
                return
            self.failures.append(message)
        elif not self.wait_for_all:
            self.done.set_result(None)  # the race is won
            return
        if self.left == 0:
            if self.wait_for_all:
                self.done.set_result(None)
            else:
                failure = NodeFailure("every branch failed: " + "; ".join(self.failures), error_type="other")
                self.done.set_exception(failure)
            return
        self.start(1)

    def unfinished(self) -> list[tuple[int, asyncio.Task[Any]]]:
        """(index, task) of the branches started and not yet ended."""
        return [(i, t) for i, t in enumerate(self.tasks) if t is not None and not t.done()]


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Run the branches; output `{"branches": [last output of each branch, in connection order]}`."""
    bodies = ctx.runtime.bodies(ctx)
    limit = _int_option(ctx, "max_concurrent", 0)
    wait_for_all = _bool_option(ctx, "wait_for_all", True)
    if not bodies:
        return {"branches": []}
    fan = _FanOut(bodies, limit, wait_for_all)
    reason: str | None = "another branch failed" if wait_for_all else "another branch finished first"
    try:
        fan.start(START_BATCH)
        while fan.started < len(bodies) and fan.running < fan.limit and not fan.done.done():
            await asyncio.sleep(0)  # let the loop (and a Qt GUI on it) breathe between batches
            fan.start(START_BATCH)
        await fan.done
    except asyncio.CancelledError:
        reason = None  # the run itself is being stopped: its own reason applies
        raise
    finally:
        await stop_unfinished([(fan.bodies[i], task) for i, task in fan.unfinished()], reason, fan.done)
    return {"branches": fan.outputs}
