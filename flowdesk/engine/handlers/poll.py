"""POLL: repeats an API call until a condition holds ("wait until the job is done").

Each attempt is the API_CALL of the node's request settings (the same fields: `api_id`, `method`,
`url`, `headers`, `query`, `body`, `auth`, `retry_count`, ...; `request_timeout` is one request's
`timeout`). After each answer `until` is evaluated with `response` = that answer and `poll.attempt`
/ `poll.elapsed`; when it holds, the node succeeds with that answer. Otherwise it waits `interval`
seconds (multiplied by `backoff` after each wait, at most `max_interval`) and asks again, giving up
(error type `timeout`) after `max_attempts` requests or when the next wait would pass `timeout`
seconds. A request that fails (after its own retries) fails the node. docs/semantics.md §2.10.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure
from . import api_call

POLL_KEYS = frozenset(
    {
        "until",
        "interval",
        "backoff",
        "max_interval",
        "timeout",
        "max_attempts",
        "request_timeout",
        "output_mapping",
    }
)
"""The POLL node's own settings; the rest of its config is the request each attempt sends."""

DEFAULTS = {"interval": 1.0, "backoff": 1.0, "max_interval": 60.0, "timeout": 300.0, "max_attempts": 100}


def _setting(ctx: NodeContext, key: str, low: float, high: float, *, whole: bool = False) -> Any:
    """A number from `low` to `high` (a template may give it), the default when unset; else one
    sentence naming the setting."""
    raw = ctx.config.get(key)
    value = ctx.render(raw) if isinstance(raw, str) else raw
    if value is None or value == "":
        return DEFAULTS[key]
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number) or (whole and not number.is_integer()):
            raise ValueError
    except (TypeError, ValueError):
        kind = "a whole number" if whole else "a number"
        raise NodeFailure(f"POLL {key} must be {kind}, got {value!r}", error_type="expression") from None
    if not low <= number <= high:
        raise NodeFailure(
            f"POLL {key} must be from {low:g} to {high:g}, got {value!r}", error_type="expression"
        )
    return int(number) if whole else number


def _holds(ctx: NodeContext, until: str, response: Any, attempt: int, elapsed: float) -> bool:
    scope = ctx.runtime.make_scope(ctx, response=response).child(
        poll={"attempt": attempt, "elapsed": round(elapsed, 3)}
    )
    from flowdesk.domain.expressions import evaluate_condition

    try:
        held = bool(evaluate_condition(until, scope))
    except Exception as exc:  # a syntax error or a limit: one sentence, no traceback
        message = getattr(exc, "message", None) or str(exc)
        raise NodeFailure(f"POLL until could not be evaluated: {message}", error_type="expression") from exc
    for warning in getattr(scope, "warnings", ()):
        if warning not in ctx.warnings:
            ctx.warn(warning)
    return held


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Poll; output the last answer as `response` plus `attempts` and `elapsed_s`."""
    config = ctx.config
    until = config.get("until")
    if not isinstance(until, str) or not until.strip():
        raise NodeFailure("POLL needs an until expression (when to stop asking)", error_type="expression")
    interval = _setting(ctx, "interval", 0, 86_400)
    backoff = _setting(ctx, "backoff", 1, 10)
    max_interval = _setting(ctx, "max_interval", 0, 86_400)
    timeout = _setting(ctx, "timeout", 0, 604_800)
    max_attempts = _setting(ctx, "max_attempts", 1, 1_000_000, whole=True)
    call_config = {k: v for k, v in config.items() if k not in POLL_KEYS}
    if config.get("request_timeout") not in (None, ""):
        call_config["timeout"] = config["request_timeout"]
    clock = asyncio.get_running_loop().time
    started = clock()
    wait = min(interval, max_interval) if max_interval else interval
    attempt = 0
    waits: list[float] = []  # the step's metrics show each wait (poll_waits)
    ctx.config = call_config  # the attempt is an API_CALL of these settings
    try:
        while True:
            attempt += 1
            try:
                output = await api_call.call(ctx, cacheable=False)  # a poll asks anew: no cache
            except NodeFailure as failure:
                raise NodeFailure(
                    f"attempt {attempt}: {failure.message}",
                    error_type=failure.error_type,
                    attempts=len(ctx.attempts) or attempt,
                    output=failure.output,
                ) from None
            elapsed = clock() - started
            response = output.get("response")
            if _holds(ctx, until, response, attempt, elapsed):
                return {**output, "attempts": attempt, "elapsed_s": round(elapsed, 3)}
            if attempt >= max_attempts:
                why = f"after max_attempts ({max_attempts}) requests"
            elif elapsed + wait > timeout:
                why = f"after {attempt} request(s): the next one would pass the timeout ({timeout:g} s)"
            else:
                waits.append(wait)
                ctx.record_metric("poll_waits", waits)
                await asyncio.sleep(wait)
                wait = min(wait * backoff, max_interval) if max_interval else wait * backoff
                continue
            raise NodeFailure(
                f"POLL gave up {why}; until never held: {until}",
                error_type="timeout",
                attempts=len(ctx.attempts) or attempt,
                output={**output, "attempts": attempt, "elapsed_s": round(elapsed, 3)},
            )
    finally:
        ctx.config = config
