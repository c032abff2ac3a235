"""The local test HTTP server answers its documented endpoints (it is what every suite relies on)."""

from __future__ import annotations

import httpx


def test_anything_echoes_method_query_and_json(http_server):
    r = httpx.post(f"{http_server.url}/anything/x?a=1&a=2&b=3", json={"k": "v"}, headers={"X-T": "t"})
    body = r.json()
    assert r.status_code == 200
    assert body["method"] == "POST"
    assert body["path"] == "/anything/x"
    assert body["query"] == {"a": ["1", "2"], "b": "3"}
    assert body["json"] == {"k": "v"}
    assert body["headers"]["x-t"] == "t"


def test_status_users_and_text(http_server):
    assert httpx.get(f"{http_server.url}/status/418").status_code == 418
    assert httpx.get(f"{http_server.url}/users/3").json()["name"] == "User 3"
    assert httpx.get(f"{http_server.url}/users/999").status_code == 404
    r = httpx.get(f"{http_server.url}/text")
    assert r.headers["content-type"].startswith("text/plain")


def test_flaky_fails_then_succeeds_and_counts(http_server):
    url = f"{http_server.url}/flaky/srv-flaky?fail=2"
    assert [httpx.get(url).status_code for _ in range(3)] == [503, 503, 200]
    assert httpx.get(f"{http_server.url}/count/srv-flaky").json()["count"] == 3
    assert http_server.count("srv-flaky") == 3


def test_auth_endpoints(http_server):
    u = http_server.url
    assert httpx.get(f"{u}/bearer").status_code == 401
    assert httpx.get(f"{u}/bearer/abc", headers={"Authorization": "Bearer abc"}).status_code == 200
    assert httpx.get(f"{u}/basic-auth/ann/pw", auth=("ann", "pw")).status_code == 200
    assert httpx.get(f"{u}/basic-auth/ann/pw", auth=("ann", "no")).status_code == 401
    assert httpx.get(f"{u}/apikey/k1?api_key=k1").json()["via"] == "query"
    assert httpx.get(f"{u}/apikey/k1", headers={"X-API-Key": "k1"}).json()["via"] == "header"
    token = httpx.post(
        f"{u}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=("flowdesk-client", "flowdesk-secret"),
    ).json()["access_token"]
    ok = httpx.get(f"{u}/oauth/protected", headers={"Authorization": f"Bearer {token}"})
    assert ok.json()["scope"] == "read"
    bad = httpx.post(f"{u}/oauth/token", data={"grant_type": "client_credentials", "client_id": "x"})
    assert bad.status_code == 401


def test_retry_after_and_redirect(http_server):
    r = httpx.get(f"{http_server.url}/retry-after/7")
    assert (r.status_code, r.headers["retry-after"]) == (429, "7")
    r = httpx.get(f"{http_server.url}/redirect/2", follow_redirects=True)
    assert r.status_code == 200 and len(r.history) == 2
