"""HttpClient against the local test server: bodies, errors, redirects, transports, body cap."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.engine.http import (
    ConnectionFailedError,
    HttpCallError,
    HttpClient,
    HttpRequest,
    RequestTimedOutError,
)


def run(coro):
    return asyncio.run(coro)


async def send(request: HttpRequest, **client_options) -> tuple:
    async with HttpClient(**client_options) as client:
        response = await client.send(request)
        return response, response.to_dict()


def test_json_body_is_parsed_and_the_response_has_every_field(http_server):
    response, out = run(send(HttpRequest("GET", f"{http_server.url}/users/7")))
    assert set(out) == {"status", "reason", "headers", "data", "elapsed_ms", "url", "method"}
    assert (out["status"], out["reason"], out["method"]) == (200, "OK", "GET")
    assert out["data"]["name"] == "User 7"
    assert out["headers"]["content-type"] == "application/json"
    assert out["url"] == f"{http_server.url}/users/7"
    assert out["elapsed_ms"] > 0


def test_text_body_stays_text(http_server):
    _, out = run(send(HttpRequest("GET", f"{http_server.url}/text")))
    assert out["data"] == "Hello from the flowdesk demo server.\n"


def test_empty_body_is_null(http_server):
    _, out = run(send(HttpRequest("DELETE", f"{http_server.url}/users/3")))
    assert (out["status"], out["data"]) == (204, None)


def test_query_json_body_and_headers_reach_the_server(http_server):
    request = HttpRequest(
        "POST",
        f"{http_server.url}/anything?fixed=1",
        headers={"X-Trace": "abc"},
        query={"tag": ["a", "b"], "n": 3},
        json={"name": "ann"},
    )
    _, out = run(send(request))
    echoed = out["data"]
    assert echoed["query"] == {"fixed": "1", "tag": ["a", "b"], "n": "3"}
    assert echoed["json"] == {"name": "ann"}
    assert echoed["headers"]["x-trace"] == "abc"
    assert echoed["headers"]["content-type"] == "application/json"


def test_form_and_raw_bodies(http_server):
    _, form = run(send(HttpRequest("POST", f"{http_server.url}/anything", form={"a": "1", "b": "x y"})))
    assert form["data"]["form"] == {"a": "1", "b": "x y"}
    raw = HttpRequest(
        "PUT", f"{http_server.url}/anything", content=b"<x/>", headers={"Content-Type": "text/xml"}
    )
    _, out = run(send(raw))
    assert out["data"]["body"] == "<x/>"
    assert out["data"]["headers"]["content-type"] == "text/xml"


def test_non_2xx_statuses_are_returned_not_raised(http_server):
    response, out = run(send(HttpRequest("GET", f"{http_server.url}/status/503")))
    assert (response.status, out["reason"]) == (503, "Service Unavailable")


def test_redirects_are_followed_and_post_becomes_get_after_302(http_server):
    _, out = run(send(HttpRequest("POST", f"{http_server.url}/redirect/3", json={"a": 1})))
    assert out["status"] == 200
    assert out["url"] == f"{http_server.url}/anything"
    assert out["data"]["method"] == "GET"


def test_redirects_can_be_left_alone(http_server):
    request = HttpRequest("GET", f"{http_server.url}/redirect/1", follow_redirects=False)
    _, out = run(send(request))
    assert (out["status"], out["headers"]["location"]) == (302, "/anything")


def test_connection_refused_is_a_connection_error_naming_the_url():
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}/users/1"
        with pytest.raises(ConnectionFailedError) as info:
            run(send(HttpRequest("GET", url)))
    assert info.value.error_type == "connection"
    assert str(info.value) == f"GET {url} failed: the connection was refused (is the server running?)"
    assert "Traceback" not in str(info.value)


def test_an_attempt_longer_than_its_timeout_times_out(http_server):
    url = f"{http_server.url}/delay/5"
    with pytest.raises(RequestTimedOutError) as info:
        run(send(HttpRequest("GET", url, timeout=0.2)))
    assert info.value.error_type == "timeout"
    assert str(info.value) == f"GET {url} timed out after 0.2 s"


def test_an_invalid_url_is_one_sentence():
    with pytest.raises(HttpCallError) as info:
        run(send(HttpRequest("GET", "http://exa mple.com:99999/")))
    assert "could not be sent" in str(info.value) or "not a valid" in str(info.value)


TRANSPORTS = ["http1", "httpx", "aiohttp", "httpx-aiohttp", "httpcore"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-N": "a\r\nX-Injected: 1"}, "the value of header 'X-N' has a line break"),
        ({"Bad Name": "x"}, "'Bad Name' is not a valid header name"),
    ],
)
def test_bad_headers_are_refused_before_sending(http_server, headers, message):
    url = f"{http_server.url}/hit/bad-headers"
    with pytest.raises(HttpCallError) as info:
        run(send(HttpRequest("GET", url, headers=headers)))
    assert str(info.value) == f"GET {url} could not be sent: {message}"
    assert http_server.count("bad-headers") == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_gives_the_same_response(http_server, transport):
    request = HttpRequest(
        "POST", f"{http_server.url}/anything?a=1", query={"b": ["x y", "z"]}, json={"k": "v"}
    )
    response, out = run(send(request, transport=transport))
    assert (out["status"], out["reason"]) == (200, "OK")
    assert out["data"]["query"] == {"a": "1", "b": ["x y", "z"]}
    assert out["data"]["json"] == {"k": "v"}
    assert out["data"]["headers"]["user-agent"] == "flowdesk/0.1"
    assert out["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_follows_redirects(http_server, transport):
    _, out = run(send(HttpRequest("POST", f"{http_server.url}/redirect/2", json={}), transport=transport))
    assert (out["status"], out["url"], out["data"]["method"]) == (200, f"{http_server.url}/anything", "GET")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_authorization_is_not_carried_to_another_origin(http_server, transport):
    port = http_server.url.rsplit(":", 1)[1]
    same = f"{http_server.url}/redirect-to?url=/anything"
    other = f"{http_server.url}/redirect-to?url=http://localhost:{port}/anything"
    auth = {"type": "bearer", "token": "tok-redirect"}
    _, kept = run(send(HttpRequest("GET", same, auth=auth), transport=transport))
    _, dropped = run(send(HttpRequest("GET", other, auth=auth), transport=transport))
    assert kept["data"]["headers"]["authorization"] == "Bearer tok-redirect"
    assert dropped["data"]["headers"]["host"] == f"localhost:{port}"
    assert "authorization" not in dropped["data"]["headers"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_307_keeps_the_method_and_body(http_server, transport):
    url = f"{http_server.url}/redirect-to?url=/anything/kept&status=307"
    _, out = run(send(HttpRequest("PUT", url, json={"a": 1}), transport=transport))
    assert (out["data"]["method"], out["data"]["path"], out["data"]["json"]) == (
        "PUT",
        "/anything/kept",
        {"a": 1},
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_reports_refused_connections_and_timeouts(http_server, transport):
    with socket_closed_port() as port:
        with pytest.raises(ConnectionFailedError, match="the connection was refused"):
            run(send(HttpRequest("GET", f"http://127.0.0.1:{port}/"), transport=transport))
    with pytest.raises(RequestTimedOutError):
        run(send(HttpRequest("GET", f"{http_server.url}/delay/3", timeout=0.1), transport=transport))


def test_an_unknown_transport_is_refused():
    with pytest.raises(ValueError, match="transport must be one of"):
        HttpClient(transport="curl")


def test_body_over_the_cap_is_cut_and_marked_truncated(http_server):
    response, _ = run(send(HttpRequest("GET", f"{http_server.url}/large/3000")))
    out = response.to_dict(body_limit=1000)
    assert out["truncated"] is True
    assert out["size"] == 3000
    assert out["data"] == "x" * 1000
    whole = response.to_dict(body_limit=5000)
    assert "truncated" not in whole and len(whole["data"]) == 3000


def test_default_cap_is_one_megabyte(http_server):
    response, out = run(send(HttpRequest("GET", f"{http_server.url}/large/{1024 * 1024 + 10}?json=1")))
    assert out["truncated"] is True and len(out["data"]) == 1024 * 1024
    # The client read no more than the limit (the 10 bytes past it were drained, not kept).
    assert response.truncated is True and len(response.body) == 1024 * 1024
    assert out["size"] == 1024 * 1024 + 10 and response.to_dict(body_limit=None)["truncated"] is True


def test_one_pool_serves_many_concurrent_requests_with_keep_alive(http_server):
    async def main():
        async with HttpClient(max_connections=5) as client:
            requests = [HttpRequest("GET", f"{http_server.url}/hit/pool-test") for _ in range(40)]
            responses = await asyncio.gather(*(client.send(r) for r in requests))
            return sorted(r.data["count"] for r in responses)

    assert run(main()) == list(range(1, 41))


def test_the_client_survives_a_new_event_loop(http_server):
    client = HttpClient()
    request = HttpRequest("GET", f"{http_server.url}/json")
    assert asyncio.run(client.send(request)).status == 200
    assert asyncio.run(client.send(request)).status == 200  # a fresh pool for the new loop
    asyncio.run(client.aclose())


def test_httpx_client_shares_the_pool(http_server):
    async def main():
        async with HttpClient() as client:
            response = await client.httpx_client.get(f"{http_server.url}/json")
            return response.status_code, client.httpx_client._transport is client.transport

    assert run(main()) == (200, True)


class socket_closed_port:
    """A port on 127.0.0.1 with nothing listening (bound then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None
