"""Retries of one API call: which failures are retried, how long to wait, and the attempt loop."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from flowdesk.domain.errors import InvalidInputError

from .errors import ConnectionFailedError, HttpCallError, HttpStatusError, RequestTimedOutError
from .redaction import Redactor

if TYPE_CHECKING:  # pragma: no cover
    from .client import HttpClient
    from .cookies import RunCookies
    from .request import HttpRequest
    from .response import HttpResponse

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
DEFAULT_RETRY_DELAY = 1.0
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 300.0
"""A Retry-After longer than this (5 minutes) is not waited for: the node fails at once."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _number(value: Any, what: str, *, minimum: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a number, got {value!r}") from None
    if number < minimum:
        raise InvalidInputError(f"{what} must be at least {minimum:g}, got {value!r}")
    return number


def _statuses(value: Any) -> frozenset[int]:
    if value is None or value == "":
        return frozenset()
    items: Iterable[Any] = [value] if isinstance(value, int | str) else value
    result: set[int] = set()
    for item in items:
        for part in str(item).replace(",", " ").split():
            if "-" in part:  # a range such as 400-404
                low, _, high = part.partition("-")
                result.update(
                    range(int(_number(low, "accept_status")), int(_number(high, "accept_status")) + 1)
                )
            else:
                result.add(int(_number(part, "accept_status")))
    return frozenset(result)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry (`retries`), the first backoff (`delay`), its cap, accepted statuses."""

    retries: int = 0
    delay: float = DEFAULT_RETRY_DELAY
    max_delay: float = MAX_BACKOFF
    accept_status: frozenset[int] = field(default_factory=frozenset)
    max_retry_after: float = MAX_RETRY_AFTER

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], workflow_config: Mapping[str, Any] | None = None
    ) -> RetryPolicy:
        """From a node's config (`retry_count`, `retry_delay`, `accept_status`), the workflow's as default."""
        if not workflow_config and _RETRY_KEYS.isdisjoint(config):
            return NO_RETRIES  # the usual call: nothing to read, one shared policy
        workflow_config = workflow_config or {}
        count = config.get("retry_count")
        if count is None or count == "":
            count = workflow_config.get("retry_count", 0)
        delay = config.get("retry_delay")
        if delay is None or delay == "":
            delay = workflow_config.get("retry_delay", DEFAULT_RETRY_DELAY)
        return cls(
            retries=int(_number(count or 0, "retry_count")),
            delay=_number(delay, "retry_delay"),
            accept_status=_statuses(config.get("accept_status")),
        )

    def accepts(self, status: int) -> bool:
        return 200 <= status < 300 or status in self.accept_status

    def ceiling(self, retry: int) -> float:
        """The most the wait before retry number `retry` (1-based) may be: delay·2^(retry-1), capped."""
        return min(self.max_delay, self.delay * (2 ** max(retry - 1, 0)))

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: a uniform wait between 0 and the ceiling."""
        return rng.uniform(0.0, self.ceiling(retry))


NO_RETRIES = RetryPolicy()
"""The policy of a call that sets none of `retry_count`, `retry_delay`, `accept_status`."""
_RETRY_KEYS = frozenset({"retry_count", "retry_delay", "accept_status"})


def is_retryable(error: HttpCallError) -> bool:
    """Connection errors, timeouts and statuses 408, 425, 429, 500, 502, 503, 504."""
    if isinstance(error, ConnectionFailedError | RequestTimedOutError):
        return True
    return error.status in RETRY_STATUSES


OnAttempt = Callable[[dict[str, Any]], None]


async def send_with_retries(
    client: HttpClient,
    request: HttpRequest,
    policy: RetryPolicy,
    *,
    redactor: Redactor | None = None,
    deadline: float | None = None,
    on_attempt: OnAttempt | None = None,
    cookies: RunCookies | None = None,
) -> tuple[HttpResponse, int]:
    """Send until accepted or out of retries; returns (response, attempts) or raises HttpCallError.

    `deadline` is a `loop.time()` beyond which no attempt runs or waits: it shortens each attempt's
    timeout and stops retrying when the next wait would pass it. Each attempt is reported to
    `on_attempt` as {"attempt", "status", "reason", "error", "error_type", "elapsed_ms", "delay",
    "retry_after"} with secret values masked.
    """
    redactor = redactor or Redactor()
    loop = asyncio.get_running_loop()
    url = redactor.url(request.url)
    attempt = 0
    while True:
        attempt += 1
        timeout = request.timeout
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0:
                raise RequestTimedOutError(
                    f"{request.method} {url} was not sent: the execution's time ran out", attempts=attempt - 1
                )
            timeout = min(timeout, left)
        started = time.perf_counter()
        response: HttpResponse | None = None
        error: HttpCallError | None = None
        try:
            response = await client.send(request, timeout=timeout, redactor=redactor, cookies=cookies)
        except HttpCallError as exc:
            error = exc
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        info: dict[str, Any] = {
            "attempt": attempt,
            "status": None,
            "reason": None,
            "error": None,
            "error_type": None,
            "elapsed_ms": elapsed_ms,
            "delay": None,
            "retry_after": None,
        }
        if response is not None:
            info["status"], info["reason"] = response.status, response.reason
            if response.token_refreshed:
                info["token_refreshed"] = True
            if policy.accepts(response.status):
                _report(on_attempt, info, redactor)
                return response, attempt
            error = HttpStatusError(
                f"{request.method} {url} answered {response.status} {response.reason}".rstrip(),
                response=response,
            )
        assert error is not None
        info["error"], info["error_type"] = error.message, error.error_type
        if error.status is not None:
            info["status"] = error.status

        if not is_retryable(error) or attempt > policy.retries:
            _report(on_attempt, info, redactor)
            raise _final(error, attempt)

        retry_after = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
        if retry_after is not None:
            info["retry_after"] = round(retry_after, 3)
            if retry_after > policy.max_retry_after:
                _report(on_attempt, info, redactor)
                error.message += f"; it asked to retry after {retry_after:g} s, longer than flowdesk waits"
                raise _final(error, attempt)
            wait = retry_after
        else:
            wait = policy.backoff(attempt, client.random)
        if deadline is not None and loop.time() + wait >= deadline:
            _report(on_attempt, info, redactor)
            error.message += "; no time was left for another attempt before the execution's deadline"
            raise _final(error, attempt)
        info["delay"] = round(wait, 6)
        _report(on_attempt, info, redactor)
        if response is not None:
            response.discard_file()  # save_to: this answer's body is not the one kept
        await client.sleep(wait)


def _final(error: HttpCallError, attempts: int) -> HttpCallError:
    error.attempts = attempts
    if attempts > 1:
        error.message += f" (after {attempts} attempts)"
    error.args = (error.message,)
    return error


def _report(on_attempt: OnAttempt | None, info: dict[str, Any], redactor: Redactor) -> None:
    if on_attempt is None:
        return
    if info.get("error"):
        info["error"] = redactor.scrub(info["error"])
    on_attempt(info)
