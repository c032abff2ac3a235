"""LOOP: runs its body (the targets of its LOOP connections) once per iteration.

Before each iteration the next item of `items` is taken as `loop.item` (the loop ends when there is
none left) and `condition` is evaluated with `loop.index` (the loop ends when it is false). Reaching
`max_iterations` (default 1000) ends it with a warning. `break_on_error` (default true): a failed
iteration fails the LOOP node; false: the iteration's result is `{"error": ...}` and the loop goes on.
Each iteration runs with fresh state (nested loops start again from index 0).
"""

from __future__ import annotations

from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure

REUSABLE = False  # its body steps are what resume reuses, iteration by iteration
DEFAULT_MAX_ITERATIONS = 1000


def _option(ctx: NodeContext, key: str, default: Any) -> Any:
    raw = ctx.config.get(key, default)
    return ctx.render(raw) if isinstance(raw, str) else raw


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


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Iterate; output `{"iterations", "results", "stopped_by"}`."""
    bodies = ctx.runtime.bodies(ctx)
    items = _items(ctx)
    condition = ctx.config.get("condition")
    if isinstance(condition, str) and not condition.strip():
        condition = None
    try:
        max_iterations = int(_option(ctx, "max_iterations", DEFAULT_MAX_ITERATIONS))
    except (TypeError, ValueError):
        raise NodeFailure("LOOP max_iterations must be a whole number", error_type="expression") from None
    break_on_error = _option(ctx, "break_on_error", True)
    if isinstance(break_on_error, str):
        break_on_error = break_on_error.strip().lower() not in ("false", "0", "no", "")
    body = bodies[0] if bodies else None

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
            if condition is not None and not isinstance(condition, bool):
                scope = body.condition_scope(index, item) if body is not None else ctx.runtime.make_scope(ctx)
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
                stopped_by = "max_iterations"
                message = f"LOOP '{ctx.node.name}' stopped at max_iterations ({max_iterations})"
                ctx.warn(message)
                ctx.log("warning", message)
                break
            if body is None:
                results.append(None)
            else:
                result = await body.run_iteration(index, item)
                if result.ok:
                    results.append(result.output)
                else:
                    failure = result.failure
                    assert failure is not None
                    if break_on_error:
                        raise NodeFailure(
                            f"iteration {index} failed at '{result.failed_step}': {failure.message}",
                            error_type=failure.error_type,
                            output={"iterations": index + 1, "results": results, "stopped_by": "error"},
                        )
                    results.append({"error": failure.message, "error_type": failure.error_type})
            index += 1
    finally:
        if body is not None:
            body.publish()
    return {"iterations": index, "results": results, "stopped_by": stopped_by}
