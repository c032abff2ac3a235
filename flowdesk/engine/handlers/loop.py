"""LOOP: runs its body (the targets of its LOOP connections) once per iteration.

Before each iteration the next item of `items` is taken as `loop.item` (the loop ends when there is
none left) and `condition` is evaluated with `loop.index` (the loop ends when it is false). Reaching
`max_iterations` (default 1000) ends it with a warning. `break_on_error` (default true): a failed
iteration fails the LOOP node; false: the iteration's result is `{"error": ...}` and the loop goes on.
Each iteration runs with fresh state (nested loops start again from index 0).

`batch_size: n` hands the body up to n items at a time (`loop.batch`, also `loop.item`): one
iteration per batch. `concurrency: n` (with `items`, without `condition`) runs up to n iterations
at once; `results` stay in item order, a failure with `break_on_error` cancels the iterations still
running. docs/semantics.md §2.5 has the rules.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure
from ..scheduler import MISSING, Body, BodyResult
from .bodies import ended_result, stop_unfinished

REUSABLE = False  # its body steps are what resume reuses, iteration by iteration
DEFAULT_MAX_ITERATIONS = 1000
MAX_CONCURRENCY = 10_000


def _option(ctx: NodeContext, key: str, default: Any) -> Any:
    raw = ctx.config.get(key, default)
    return ctx.render(raw) if isinstance(raw, str) else raw


def _whole(ctx: NodeContext, key: str, default: Any, low: int, high: int) -> Any:
    """A whole-number option from `low` to `high` (a template may give it); `default` when unset."""
    value = _option(ctx, key, default)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        number = int(float(value))
    except (TypeError, ValueError):
        raise NodeFailure(
            f"LOOP {key} must be a whole number, got {value!r}", error_type="expression"
        ) from None
    if not low <= number <= high:
        raise NodeFailure(
            f"LOOP {key} must be from {low:,} to {high:,}, got {number}", error_type="expression"
        )
    return number


def _items(ctx: NodeContext) -> list[Any] | None:
    if "items" not in ctx.config or ctx.config.get("items") in (None, ""):
        return None
    value = _option(ctx, "items", None)
    if value is None:
        ctx.warn("LOOP items gave null: no iteration")
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    raise NodeFailure(f"LOOP items must give a list, got {type(value).__name__}", error_type="expression")


def _error_result(result: BodyResult) -> dict[str, Any]:
    failure = result.failure
    assert failure is not None
    return {"error": failure.message, "error_type": failure.error_type}


def _iteration_failed(index: int, result: BodyResult, output: dict[str, Any]) -> NodeFailure:
    failure = result.failure
    assert failure is not None
    return NodeFailure(
        f"iteration {index} failed at '{result.failed_step}': {failure.message}",
        error_type=failure.error_type,
        output=output,
    )


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Iterate; output `{"iterations", "results", "stopped_by"}`."""
    bodies = ctx.runtime.bodies(ctx)
    items = _items(ctx)
    condition = ctx.config.get("condition")
    if isinstance(condition, str) and not condition.strip():
        condition = None
    max_iterations = _whole(ctx, "max_iterations", DEFAULT_MAX_ITERATIONS, 1, 10_000_000)
    concurrency = _whole(ctx, "concurrency", 1, 1, MAX_CONCURRENCY)
    batch_size = _whole(ctx, "batch_size", None, 1, 10_000_000)
    break_on_error = _option(ctx, "break_on_error", True)
    if isinstance(break_on_error, str):
        break_on_error = break_on_error.strip().lower() not in ("false", "0", "no", "")
    if batch_size is not None and items is None:
        raise NodeFailure("LOOP batch_size needs items to put in batches", error_type="expression")
    if concurrency > 1 and (items is None or condition not in (None, True)):
        raise NodeFailure(
            "LOOP concurrency above 1 needs items and no condition (iterations run side by side)",
            error_type="expression",
        )
    batched = batch_size is not None
    if batched and items is not None:
        items = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    body = bodies[0] if bodies else None
    if concurrency > 1 and body is not None and items is not None:
        return await _side_by_side(ctx, body, items, concurrency, max_iterations, break_on_error, batched)

    results: list[Any] = []
    stopped_by = "max_iterations"
    index = 0
    from flowdesk.domain.expressions import evaluate_condition

    try:
        while True:
            item = None
            if items is not None:
                if index >= len(items):
                    stopped_by = "items"
                    break
                item = items[index]
            batch = item if batched else MISSING
            if condition is not None and not isinstance(condition, bool):
                scope = (
                    body.condition_scope(index, item, batch)
                    if body is not None
                    else ctx.runtime.make_scope(ctx)
                )
                try:
                    go = evaluate_condition(condition, scope)
                except Exception as exc:
                    raise NodeFailure(
                        f"loop condition could not be evaluated: {exc}", error_type="expression"
                    ) from exc
                for w in getattr(scope, "warnings", ()):
                    if w not in ctx.warnings:
                        ctx.warn(w)
                if not go:
                    stopped_by = "condition"
                    break
            elif condition is False:
                stopped_by = "condition"
                break
            if index >= max_iterations:
                _warn_max(ctx, max_iterations)
                stopped_by = "max_iterations"
                break
            if body is None:
                results.append(None)
            else:
                result = await body.run_iteration(index, item, batch)
                if result.ok:
                    results.append(result.output)
                elif break_on_error:
                    output = {"iterations": index + 1, "results": results, "stopped_by": "error"}
                    raise _iteration_failed(index, result, output)
                else:
                    results.append(_error_result(result))
            index += 1
    finally:
        if body is not None:
            body.publish()
    return {"iterations": index, "results": results, "stopped_by": stopped_by}


def _warn_max(ctx: NodeContext, max_iterations: int) -> None:
    message = f"LOOP '{ctx.node.name}' stopped at max_iterations ({max_iterations})"
    ctx.warn(message)
    ctx.log("warning", message)


class _SideBySide:
    """Runs iterations 0..n-1 at most `limit` at a time, each in a Body of its own, starting the
    next one as one ends; `done` settles when all have ended or (break_on_error) one failed."""

    def __init__(self, body: Body, items: list[Any], limit: int, break_on_error: bool, batched: bool) -> None:
        self.body = body
        self.items = items
        self.limit = limit
        self.break_on_error = break_on_error
        self.batched = batched
        self.results: list[Any] = [None] * len(items)
        self.running: dict[int, tuple[Body, asyncio.Task[BodyResult]]] = {}
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.started = 0
        self.ended = 0
        self.last: Body | None = None  # the Body of the highest index started (published after)

    def start(self) -> None:
        while len(self.running) < self.limit and self.started < len(self.items) and not self.done.done():
            i = self.started
            self.started += 1
            body = self.body.twin()
            item = self.items[i]
            task = self.loop.create_task(body.run_iteration(i, item, item if self.batched else MISSING))
            task.add_done_callback(functools.partial(self._ended, i))
            self.running[i] = (body, task)
            self.last = body

    def _ended(self, i: int, task: asyncio.Task[BodyResult]) -> None:
        self.running.pop(i, None)
        result = ended_result(task, self.done)
        if result is None:
            return
        self.ended += 1
        if result.ok:
            self.results[i] = result.output
        elif self.break_on_error:
            output = {"iterations": self.ended, "results": self.results, "stopped_by": "error"}
            self.done.set_exception(_iteration_failed(i, result, output))
            return
        else:
            self.results[i] = _error_result(result)
        if self.ended == len(self.items):
            self.done.set_result(None)
        else:
            self.start()


async def _side_by_side(
    ctx: NodeContext,
    body: Body,
    items: list[Any],
    limit: int,
    max_iterations: int,
    break_on_error: bool,
    batched: bool,
) -> dict[str, Any]:
    """`concurrency` above 1: the iterations over `items` run up to `limit` at once."""
    stopped_by = "items"
    if len(items) > max_iterations:
        items = items[:max_iterations]
        _warn_max(ctx, max_iterations)
        stopped_by = "max_iterations"
    if not items:
        return {"iterations": 0, "results": [], "stopped_by": stopped_by}
    runs = _SideBySide(body, items, limit, break_on_error, batched)
    reason: str | None = "another iteration failed"
    try:
        runs.start()
        await runs.done
    except asyncio.CancelledError:
        reason = None  # the run itself is being stopped: its own reason applies
        raise
    finally:
        await stop_unfinished(list(runs.running.values()), reason, runs.done)
        if runs.last is not None:
            runs.last.publish()
    return {"iterations": len(items), "results": runs.results, "stopped_by": stopped_by}
