"""What PARALLEL and LOOP (with `concurrency`) share: stopping the bodies still running when the
node's outcome is known or the node is cancelled."""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_unfinished(
    unfinished: list[tuple[Any, asyncio.Task[Any]]], reason: str | None, done: asyncio.Future[None]
) -> None:
    """Cancel each (body, task) still running, saying why (`reason`; None: the run's own reason
    applies), wait for them to end, and settle `done` so that an outcome that came while stopping is
    not reported as lost."""
    for body, task in unfinished:
        if reason is not None:
            body.note_cancel(reason)
        task.cancel()
    if unfinished:
        await asyncio.gather(*(task for _, task in unfinished), return_exceptions=True)
    if not done.done():
        done.cancel()
    elif not done.cancelled():
        done.exception()


def ended_result(task: asyncio.Task[Any], done: asyncio.Future[None]) -> Any:
    """The BodyResult of a body's ended task, or None when it no longer matters (cancelled, or the
    node's outcome already known) or the task raised: Body catches node failures, so that is an
    engine bug, and it fails the node (`done`)."""
    if task.cancelled() or done.done():
        return None
    exc = task.exception()
    if exc is not None:
        done.set_exception(exc)
        return None
    return task.result()
