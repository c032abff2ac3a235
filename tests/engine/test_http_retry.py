"""Retries: which failures are retried, backoff with full jitter, Retry-After, deadlines."""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import formatdate

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine.http import (
    RETRY_STATUSES,
    HttpCallError,
    HttpClient,
    HttpRequest,
    RetryPolicy,
    parse_retry_after,
    send_with_retries,
)
from tests.support.api_call_runs import FakeSleep


def call(request: HttpRequest, policy: RetryPolicy, *, deadline_in: float | None = None, seed: int = 7):
    """Send with retries; returns (response or error, attempt records, waits)."""
    sleep = FakeSleep()
    attempts: list[dict] = []

    async def main():
        async with HttpClient(sleep=sleep, rng=random.Random(seed)) as client:
            deadline = None if deadline_in is None else asyncio.get_running_loop().time() + deadline_in
            try:
                response, _ = await send_with_retries(
                    client, request, policy, deadline=deadline, on_attempt=attempts.append
                )
                return response
            except HttpCallError as exc:
                return exc

    return asyncio.run(main()), attempts, sleep.waits


# -- the policy -------------------------------------------------------------------------------


def test_backoff_ceiling_doubles_from_retry_delay_up_to_30_seconds():
    policy = RetryPolicy(retries=10, delay=1.0)
    assert [policy.ceiling(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_full_jitter_stays_between_zero_and_the_ceiling_and_spreads():
    policy = RetryPolicy(retries=5, delay=0.5)
    rng = random.Random(1)
    for retry in range(1, 6):
        waits = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0 <= w <= policy.ceiling(retry) for w in waits)
        assert max(waits) > 0.8 * policy.ceiling(retry) and min(waits) < 0.2 * policy.ceiling(retry)


def test_policy_from_node_config_falls_back_to_the_workflow_config():
    assert RetryPolicy.from_config({}, {}).retries == 0
    assert RetryPolicy.from_config({}, {"retry_count": 2}).retries == 2
    assert RetryPolicy.from_config({"retry_count": 4}, {"retry_count": 2}).retries == 4
    assert RetryPolicy.from_config({"retry_count": 0}, {"retry_count": 2}).retries == 0
    policy = RetryPolicy.from_config({"retry_delay": 0.25, "accept_status": [404, "409", "500-502"]})
    assert policy.delay == 0.25 and policy.accept_status == {404, 409, 500, 501, 502}
    assert RetryPolicy.from_config({}).delay == 1.0


@pytest.mark.parametrize("config", [{"retry_count": "many"}, {"retry_count": -1}, {"retry_delay": "soon"}])
def test_bad_retry_settings_are_one_sentence(config):
    with pytest.raises(InvalidInputError, match="must be"):
        RetryPolicy.from_config(config)


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    now = time.time()
    assert parse_retry_after(formatdate(now + 20, usegmt=True), now=now) == pytest.approx(20, abs=1)
    assert parse_retry_after(formatdate(now - 20, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_the_retried_statuses():
    assert RETRY_STATUSES == {408, 425, 429, 500, 502, 503, 504}


# -- against the server -----------------------------------------------------------------------


def test_503_twice_then_success_retries_with_jittered_backoff(http_server):
    url = f"{http_server.url}/flaky/retry-503?fail=2"
    response, attempts, waits = call(HttpRequest("GET", url), RetryPolicy(retries=3, delay=0.5))
    assert response.status == 200 and response.data["attempt"] == 3
    assert [a["status"] for a in attempts] == [503, 503, 200]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert attempts[0]["error_type"] == "http_5xx" and attempts[2]["error"] is None
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0
    assert [a["delay"] for a in attempts[:2]] == pytest.approx(waits, abs=1e-6)
    assert attempts[2]["delay"] is None
    assert http_server.count("retry-503") == 3


def test_waits_are_those_of_the_seeded_jitter(http_server):
    url = f"{http_server.url}/flaky/retry-seeded?fail=3"
    _, _, waits = call(HttpRequest("GET", url), RetryPolicy(retries=3, delay=1.0), seed=42)
    rng = random.Random(42)
    assert waits == pytest.approx([rng.uniform(0, 1), rng.uniform(0, 2), rng.uniform(0, 4)])


def test_retries_run_out_and_the_error_says_how_many_attempts(http_server):
    url = f"{http_server.url}/flaky/retry-out?fail=10"
    error, attempts, waits = call(HttpRequest("GET", url), RetryPolicy(retries=2, delay=0.01))
    assert isinstance(error, HttpCallError)
    assert error.error_type == "http_5xx" and error.attempts == 3
    assert str(error) == f"GET {url} answered 503 Service Unavailable (after 3 attempts)"
    assert error.response is not None and error.response.status == 503
    assert len(attempts) == 3 and len(waits) == 2


def test_404_is_never_retried(http_server):
    url = f"{http_server.url}/flaky/retry-404?fail=5&status=404"
    error, attempts, waits = call(HttpRequest("GET", url), RetryPolicy(retries=5, delay=0.01))
    assert error.error_type == "http_4xx" and error.attempts == 1
    assert str(error) == f"GET {url} answered 404 Not Found"
    assert waits == [] and http_server.count("retry-404") == 1


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 504])
def test_each_retryable_status_is_retried(http_server, status):
    key = f"retry-status-{status}"
    url = f"{http_server.url}/flaky/{key}?fail=1&status={status}"
    response, attempts, _ = call(HttpRequest("GET", url), RetryPolicy(retries=1, delay=0.01))
    assert response.status == 200 and [a["status"] for a in attempts] == [status, 200]


def test_accepted_status_is_not_retried_and_succeeds(http_server):
    url = f"{http_server.url}/flaky/retry-accepted?fail=5"
    policy = RetryPolicy(retries=3, delay=0.01, accept_status=frozenset({503}))
    response, attempts, _ = call(HttpRequest("GET", url), policy)
    assert response.status == 503 and len(attempts) == 1


def test_retry_after_seconds_is_honoured_instead_of_the_backoff(http_server):
    url = f"{http_server.url}/retry-after/7?key=retry-after-s&fail=1"
    response, attempts, waits = call(HttpRequest("GET", url), RetryPolicy(retries=2, delay=0.01))
    assert response.status == 200
    assert waits == [7.0]
    assert attempts[0]["status"] == 429 and attempts[0]["retry_after"] == 7.0 and attempts[0]["delay"] == 7.0


def test_retry_after_as_a_date_is_honoured(http_server):
    url = f"{http_server.url}/retry-after/30?key=retry-after-date&fail=1&date=1"
    response, _, waits = call(HttpRequest("GET", url), RetryPolicy(retries=1, delay=0.01))
    assert response.status == 200
    assert 27 <= waits[0] <= 30.5


def test_retry_after_past_the_deadline_fails_at_once(http_server):
    url = f"{http_server.url}/retry-after/60?key=retry-after-deadline&fail=1"
    error, attempts, waits = call(HttpRequest("GET", url), RetryPolicy(retries=3), deadline_in=10)
    assert waits == []
    assert error.error_type == "http_4xx" and error.attempts == 1
    assert "no time was left for another attempt before the execution's deadline" in str(error)
    assert attempts[0]["retry_after"] == 60.0


def test_a_very_long_retry_after_is_not_waited_for(http_server):
    url = f"{http_server.url}/retry-after/3600?key=retry-after-long&fail=1"
    error, _, waits = call(HttpRequest("GET", url), RetryPolicy(retries=3))
    assert waits == [] and "asked to retry after 3600 s" in str(error)


def test_connection_errors_are_retried():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error, attempts, waits = call(
        HttpRequest("GET", f"http://127.0.0.1:{port}/"), RetryPolicy(retries=2, delay=0.01)
    )
    assert error.error_type == "connection" and error.attempts == 3
    assert [a["error_type"] for a in attempts] == ["connection"] * 3 and len(waits) == 2


def test_each_attempt_is_bounded_by_the_timeout_and_timeouts_are_retried(http_server):
    # The server answers after 3 s: an attempt that was not cut at 0.15 s would end in a 200.
    request = HttpRequest("GET", f"{http_server.url}/delay/3", timeout=0.15)
    error, attempts, _ = call(request, RetryPolicy(retries=1, delay=0.01))
    assert error.error_type == "timeout" and error.attempts == 2
    assert [a["error_type"] for a in attempts] == ["timeout", "timeout"]


def test_the_execution_deadline_shortens_an_attempt(http_server):
    # The server answers after 3 s, well inside the attempt's own 30 s: only the deadline ends it.
    request = HttpRequest("GET", f"{http_server.url}/delay/3", timeout=30)
    error, _, _ = call(request, RetryPolicy(retries=0), deadline_in=0.2)
    assert error.error_type == "timeout"


def test_nothing_is_sent_after_the_deadline(http_server):
    request = HttpRequest("GET", f"{http_server.url}/hit/after-deadline")
    error, attempts, _ = call(request, RetryPolicy(), deadline_in=-1)
    assert error.error_type == "timeout" and attempts == []
    assert http_server.count("after-deadline") == 0
