"""Auth of API calls against the local server: bearer, basic, API key, OAuth2 client credentials."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.domain.errors import InvalidInputError
from flowdesk.engine.auth import OAuth2TokenCache, apply_auth, register_auth_secrets
from flowdesk.engine.http import (
    HttpCallError,
    HttpClient,
    HttpRequest,
    Redactor,
    RetryPolicy,
    send_with_retries,
)

CLIENT = {"client_id": "flowdesk-client", "client_secret": "flowdesk-secret"}


def run(coro):
    return asyncio.run(coro)


async def send(request: HttpRequest, client: HttpClient | None = None, redactor: Redactor | None = None):
    own = client is None
    client = client or HttpClient()
    try:
        return await client.send(request, redactor=redactor)
    finally:
        if own:
            await client.aclose()


def oauth(server, **extra) -> dict:
    return {"type": "oauth2_client_credentials", "token_url": f"{server.url}/oauth/token", **CLIENT, **extra}


def test_bearer(http_server):
    ok = run(
        send(HttpRequest("GET", f"{http_server.url}/bearer/tok-1", auth={"type": "bearer", "token": "tok-1"}))
    )
    bad = run(
        send(HttpRequest("GET", f"{http_server.url}/bearer/tok-1", auth={"type": "bearer", "token": "nope"}))
    )
    assert (ok.status, bad.status) == (200, 401)


def test_basic(http_server):
    url = f"{http_server.url}/basic-auth/ann/päss"
    auth = {"type": "basic", "username": "ann", "password": "päss"}
    assert run(send(HttpRequest("GET", url, auth=auth))).status == 200
    assert run(send(HttpRequest("GET", url, auth={**auth, "password": "pass"}))).status == 401


def test_api_key_in_a_header(http_server):
    auth = {"type": "api_key", "in": "header", "name": "X-API-Key", "value": "k-123"}
    response = run(send(HttpRequest("GET", f"{http_server.url}/apikey/k-123", auth=auth)))
    assert response.status == 200 and response.data["via"] == "header"


def test_api_key_in_the_query_is_masked_in_the_recorded_url(http_server):
    auth = {"type": "api_key", "in": "query", "name": "api_key", "value": "k-456"}
    redactor = Redactor()
    register_auth_secrets(auth, redactor)
    response = run(send(HttpRequest("GET", f"{http_server.url}/apikey/k-456", auth=auth), redactor=redactor))
    assert response.status == 200 and response.data["via"] == "query"
    assert "k-456" not in response.url and response.url.endswith("?api_key=***")


def test_auth_headers_are_masked_in_the_request_description():
    auth = {"type": "api_key", "in": "header", "name": "X-Custom-Key", "value": "k-789"}
    redactor = Redactor(["sekrit-value"])
    register_auth_secrets(auth, redactor)
    request = HttpRequest(
        "POST",
        "http://127.0.0.1:9/x?q=sekrit-value",
        headers={"Authorization": "Bearer zzz", "X-Custom-Key": "k-789", "X-Other": "fine"},
        json={"note": "has sekrit-value inside"},
        auth=auth,
    )
    described = request.describe(redactor)
    assert described["headers"] == {"Authorization": "***", "X-Custom-Key": "***", "X-Other": "fine"}
    assert described["url"] == "http://127.0.0.1:9/x?q=***"
    assert described["body"] == {"note": "has *** inside"}
    assert described["auth"] == "api_key"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"type": "kerberos"}, "auth type 'kerberos' is not one of"),
        ({"type": "bearer"}, "bearer auth needs a non-empty 'token'"),
        ({"type": "basic", "password": "x"}, "basic auth needs a non-empty 'username'"),
        ({"type": "api_key", "in": "cookie", "name": "k", "value": "v"}, "must be 'header' or 'query'"),
        ({"type": "oauth2_client_credentials", "client_id": "a"}, "needs a non-empty 'token_url'"),
    ],
)
def test_incomplete_auth_is_one_sentence(auth, message):
    async def main():
        async with HttpClient() as client:
            await apply_auth(auth, client, timeout=1)

    with pytest.raises(InvalidInputError, match=message):
        run(main())


def test_oauth2_token_is_fetched_once_and_reused(http_server):
    auth = oauth(http_server, scopes=["read", "write"])

    async def main():
        async with HttpClient() as client:
            first = await send(HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth), client)
            more = await asyncio.gather(
                *(
                    send(HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth), client)
                    for _ in range(20)
                )
            )
            return first, more, client.tokens.fetches

    before = http_server.count("oauth_token")
    first, more, fetches = run(main())
    assert first.status == 200 and first.data["scope"] == "read write"
    assert all(r.status == 200 for r in more)
    assert fetches == 1 and http_server.count("oauth_token") - before == 1


def test_oauth2_tokens_are_cached_per_client_and_scopes(http_server):
    async def main():
        async with HttpClient() as client:
            for auth in (
                oauth(http_server, scopes=["a"]),
                oauth(http_server, scopes=["b"]),
                oauth(http_server, scopes="a"),  # same scopes as the first, as a string
                oauth(http_server, client_id="other-client", client_secret="other-secret", scopes=["a"]),
            ):
                response = await send(
                    HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth), client
                )
                assert response.status == 200
            return client.tokens.fetches

    assert run(main()) == 3


def test_oauth2_token_is_refreshed_when_it_expires(http_server):
    now = [1000.0]

    async def main():
        async with HttpClient() as client:
            client.tokens = OAuth2TokenCache(margin=30, clock=lambda: now[0])
            auth = oauth(http_server, token_url=f"{http_server.url}/oauth/token?expires_in=600")
            request = HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth)
            await send(request, client)
            now[0] += 500  # still inside 600 s minus the margin
            await send(request, client)
            fetched_before_expiry = client.tokens.fetches
            now[0] += 80  # 580 s: inside the 30 s margin before expiry
            await send(request, client)
            return fetched_before_expiry, client.tokens.fetches

    assert run(main()) == (1, 2)


def test_a_401_with_a_cached_token_refreshes_it_once(http_server):
    auth = oauth(http_server, scopes=["revoked"])

    async def main():
        async with HttpClient() as client:
            request = HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth)
            assert (await send(request, client)).status == 200
            await send(HttpRequest("POST", f"{http_server.url}/oauth/revoke"), client)
            response = await send(request, client)
            return response.status, response.token_refreshed, client.tokens.fetches

    assert run(main()) == (200, True, 2)


def test_client_secret_can_travel_in_the_form_body(http_server):
    auth = oauth(http_server, client_auth="body")
    response = run(send(HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth)))
    assert response.status == 200


def test_a_refused_client_fails_without_revealing_the_secret(http_server):
    auth = oauth(http_server, client_secret="wrong-secret-value")
    redactor = Redactor()
    register_auth_secrets(auth, redactor)
    attempts: list[dict] = []

    async def main():
        async with HttpClient() as client:
            request = HttpRequest("GET", f"{http_server.url}/oauth/protected", auth=auth)
            await send_with_retries(
                client, request, RetryPolicy(retries=2), redactor=redactor, on_attempt=attempts.append
            )

    with pytest.raises(HttpCallError) as info:
        run(main())
    error = info.value
    assert (
        error.error_type == "http_4xx" and error.attempts == 1
    )  # a 401 from the token endpoint is not retried
    assert (
        str(error)
        == f"the OAuth2 token request to {http_server.url}/oauth/token answered 401 Unauthorized (invalid_client)"
    )
    assert "wrong-secret-value" not in repr(attempts) and "wrong-secret-value" not in str(error)


def test_fetched_tokens_are_registered_as_secrets(http_server):
    auth = oauth(http_server, scopes=["echo"])
    redactor = Redactor()

    async def main():
        async with HttpClient() as client:
            return await send(HttpRequest("GET", f"{http_server.url}/anything", auth=auth), client, redactor)

    response = run(main())
    token = response.data["headers"]["authorization"].split(" ", 1)[1]
    assert redactor.scrub(f"x {token} y") == "x *** y"


def test_the_token_cache_survives_a_new_event_loop(http_server):
    client = HttpClient()
    request = HttpRequest(
        "GET", f"{http_server.url}/oauth/protected", auth=oauth(http_server, scopes=["loops"])
    )

    async def twice():
        responses = await asyncio.gather(client.send(request), client.send(request))
        await client.aclose()  # the pool closes with its loop; the token cache stays
        return [r.status for r in responses]

    assert asyncio.run(twice()) == [200, 200]
    assert asyncio.run(twice()) == [200, 200]  # a new loop: new pool and locks, same cached token
    assert client.tokens.fetches == 1
