"""PARALLEL: runs the targets of its PARALLEL connections as concurrent branches.

`max_concurrent` (0 = unlimited) bounds how many branches run at once. `wait_for_all: true` (the
default): the node finishes when every branch has; an unhandled failure in a branch cancels the
others and fails the node. `wait_for_all: false`: the node finishes as soon as one branch succeeds
and the others are cancelled; it fails only when every branch failed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure

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


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Run the branches; output `{"branches": [last output of each branch, in connection order]}`."""
    bodies = ctx.runtime.bodies(ctx)
    limit = _int_option(ctx, "max_concurrent", 0)
    wait_for_all = _bool_option(ctx, "wait_for_all", True)
    outputs: list[Any] = [None] * len(bodies)
    if not bodies:
        return {"branches": outputs}
    semaphore = asyncio.Semaphore(limit) if limit > 0 else None

    async def run_branch(i: int) -> Any:
        if semaphore is None:
            result = await bodies[i].run_once()
        else:
            async with semaphore:
                result = await bodies[i].run_once()
        outputs[i] = result.output
        return result

    tasks: list[asyncio.Future[Any]] = []
    reason: str | None = None
    try:
        for i in range(len(bodies)):
            if i and i % START_BATCH == 0:
                await asyncio.sleep(0)  # let the loop (and a Qt GUI on it) breathe between batches
            tasks.append(asyncio.ensure_future(run_branch(i)))
        if wait_for_all:
            reason = "another branch failed"
            await _wait_all(ctx, tasks)
        else:
            reason = "another branch finished first"
            await _wait_first(ctx, tasks)
    except asyncio.CancelledError:
        reason = None  # the run itself is being stopped: its own reason applies
        raise
    finally:
        unfinished = [i for i, t in enumerate(tasks) if not t.done()]
        for i in unfinished:
            if reason is not None:
                bodies[i].note_cancel(reason)
            tasks[i].cancel()
        if unfinished:
            await asyncio.gather(*(tasks[i] for i in unfinished), return_exceptions=True)
    return {"branches": outputs}


def _report_to(queue: asyncio.Queue[int], index: int) -> Any:
    def report(_task: asyncio.Future[Any]) -> None:
        queue.put_nowait(index)

    return report


async def _completions(tasks: list[asyncio.Future[Any]]) -> Any:
    """Yield (index, result) of the branch tasks as they finish (one callback per task, no re-polling)."""
    done: asyncio.Queue[int] = asyncio.Queue()
    for i, t in enumerate(tasks):
        t.add_done_callback(_report_to(done, i))
    for _ in range(len(tasks)):
        i = await done.get()
        yield i, tasks[i].result()


async def _wait_all(ctx: NodeContext, tasks: list[asyncio.Future[Any]]) -> None:
    async for i, result in _completions(tasks):
        if not result.ok:
            failure = result.failure
            raise NodeFailure(
                f"branch {i + 1} failed at '{result.failed_step}': {failure.message}",
                error_type=failure.error_type,
                attempts=1,
            )


async def _wait_first(ctx: NodeContext, tasks: list[asyncio.Future[Any]]) -> None:
    failures: list[str] = []
    async for i, result in _completions(tasks):
        if result.ok:
            return
        failures.append(f"branch {i + 1} failed at '{result.failed_step}': {result.failure.message}")
    raise NodeFailure("every branch failed: " + "; ".join(failures), error_type="other")
