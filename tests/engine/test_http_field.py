"""API calls as real networks need them (issue 11, the request side), against real servers on 127.0.0.1.

The project's test server (tests/support/http_server.py), tinyproxy as a forward proxy with and
without Basic auth (tests/support/proxy.py), and the test server over TLS with a CA, a server and a
client certificate made at test time (tests/support/certificates.py). Runs go through the
WorkflowExecutor in memory; tests/engine/test_http_field_cli.py runs `flowdesk run` end to end.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

from flowdesk.domain.models import ApiDefinition, Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.http import HttpClient, HttpRequest
from flowdesk.engine.http.errors import HttpCallError
from flowdesk.engine.http.settings import ConnectionSettings, ProxyVariables

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def chain(*configs: dict[str, Any], name: str = "field") -> WorkflowGraph:
    """START -> call1 -> call2 ... -> END, each call an API_CALL with the given config."""
    nodes = [Node(name="start", node_type="START")]
    names = ["start"]
    for i, config in enumerate(configs, 1):
        call = config.pop("name", f"call{i}")
        nodes.append(Node(name=call, node_type="API_CALL", config=config))
        names.append(call)
    nodes.append(Node(name="end", node_type="END"))
    names.append("end")
    connections = [Connection(from_node=a, to_node=b) for a, b in zip(names, names[1:], strict=False)]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=connections)


def run(graph_or_graphs, *, apis=(), environment=None, secrets=None, client: HttpClient | None = None):
    """Run one graph (or several, one after another on one executor); the handles."""
    graphs = graph_or_graphs if isinstance(graph_or_graphs, list) else [graph_or_graphs]

    async def main():
        async with WorkflowExecutor(load_plugins=False, http=client or HttpClient()) as executor:
            return [
                await executor.execute_graph(
                    g, {}, apis=list(apis), environment=environment or {}, secrets=secrets or {}
                )
                for g in graphs
            ]

    handles = asyncio.run(main())
    return handles if isinstance(graph_or_graphs, list) else handles[0]


def step(handle, name: str) -> dict[str, Any]:
    return next(s for s in handle.steps if s["step_name"] == name)


def send(request: HttpRequest, client: HttpClient | None = None):
    async def main():
        async with client or HttpClient() as c:
            return await c.send(request)

    return asyncio.run(main())


# -- 1. the transport rule, case by case ------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_fields", "proxy", "path", "reason"),
    [
        ({}, None, "pool", "a plain direct request"),
        ({}, "http://127.0.0.1:3128", "library", "a proxy"),
        ({"settings": ConnectionSettings(http2=True)}, None, "library", "HTTP/2"),
        ({"settings": ConnectionSettings(verify=False)}, None, "library", "verification off"),
        (
            {"settings": ConnectionSettings(verify="/etc/ssl/certs/ca-certificates.crt")},
            None,
            "library",
            "a CA bundle",
        ),
        ({"settings": ConnectionSettings(client_cert="c.pem")}, None, "library", "a client certificate"),
        ({"auth": {"type": "digest", "username": "u", "password": "p"}}, None, "library", "Digest auth"),
        (
            {"auth": {"type": "basic", "username": "u", "password": "p"}},
            None,
            "pool",
            "a plain direct request",
        ),
        ({"settings": ConnectionSettings(cookies=False)}, None, "pool", "a plain direct request"),
    ],
)
def test_the_transport_rule_picks_the_pool_only_for_plain_direct_requests(
    request_fields, proxy, path, reason
):
    from flowdesk.engine.http.transport_rule import choose_route

    request = HttpRequest(method="GET", url="https://api.example/x", **request_fields)
    route = choose_route(request, proxy)
    assert (route.path, route.reason, route.proxy) == (path, reason, proxy)


def test_the_transport_rule_sends_multipart_and_unverified_calls_to_the_library(tmp_path):
    from flowdesk.engine.http.multipart import multipart_body
    from flowdesk.engine.http.transport_rule import choose_route

    (tmp_path / "a.txt").write_text("x")
    request = HttpRequest(
        method="POST", url="http://h/x", multipart=multipart_body({"f": {"path": str(tmp_path / "a.txt")}})
    )
    assert choose_route(request, None).reason == "a multipart body"
    # a client made with verify=False does unverified calls on its own pool
    unverified = HttpRequest(method="GET", url="https://h/x", settings=ConnectionSettings(verify=False))
    assert choose_route(unverified, None, client_verify=False).path == "pool"
    # the aiohttp transport follows redirects itself: a run with cookies goes to the library
    assert (
        choose_route(HttpRequest("GET", "http://h/"), None, pool_keeps_cookies=False, cookies=True).path
        == "library"
    )


# -- 2. proxies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_proxy_variables_are_read_in_either_case_and_no_proxy_bypasses(monkeypatch, case):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    spell = str.upper if case == "upper" else str.lower
    monkeypatch.setenv(spell("HTTP_PROXY"), "http://proxy.internal:3128")
    monkeypatch.setenv(spell("HTTPS_PROXY"), "proxy.internal:3129")
    monkeypatch.setenv(spell("NO_PROXY"), "localhost,.corp.example,10.1.2.3")
    variables = ProxyVariables.read()
    assert variables.proxy_for("http://api.example/x") == "http://proxy.internal:3128"
    assert variables.proxy_for("https://api.example/x") == "http://proxy.internal:3129"
    assert variables.proxy_for("http://localhost:8080/x") is None
    assert variables.proxy_for("https://svc.corp.example/x") is None
    assert variables.proxy_for("http://10.1.2.3/x") is None


def test_plain_http_goes_through_the_proxy_from_http_proxy(monkeypatch, tinyproxy, http_server):
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    response = send(HttpRequest("GET", f"{http_server.url}/anything/via-variable"))
    assert response.status == 200
    assert f"GET {http_server.url}/anything/via-variable HTTP/1.1" in tinyproxy.requests()


def test_a_proxy_from_the_variables_is_shown_in_the_step_row_masked(monkeypatch, tinyproxy_auth, http_server):
    monkeypatch.setenv("HTTP_PROXY", tinyproxy_auth.url_with_credentials)
    handle = run(chain({"url": f"{http_server.url}/anything/shown"}))
    assert handle.status == "completed", handle.error_message
    row = step(handle, "call1")
    assert row["input_data"]["connection"] == {"proxy": f"http://***@127.0.0.1:{tinyproxy_auth.port}"}
    assert tinyproxy_auth.auth[1] not in json.dumps(handle.steps, default=str)


def test_no_proxy_sends_directly(monkeypatch, tinyproxy, http_server):
    monkeypatch.setenv("http_proxy", tinyproxy.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    response = send(HttpRequest("GET", f"{http_server.url}/anything/bypassed"))
    assert response.status == 200
    assert not any("/anything/bypassed" in line for line in tinyproxy.requests())


def test_https_goes_through_a_connect_tunnel(monkeypatch, tinyproxy, tls_server_open, certificates):
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    port = tls_server_open.url.rsplit(":", 1)[1]
    request = HttpRequest(
        "GET",
        f"{tls_server_open.url}/anything/tunnel",
        settings=ConnectionSettings(verify=str(certificates.ca)),
    )
    response = send(request)
    assert response.status == 200 and response.data["path"] == "/anything/tunnel"
    assert f"CONNECT 127.0.0.1:{port} HTTP/1.1" in tinyproxy.requests()


def test_the_environment_proxy_setting_wins_and_its_password_is_masked(
    monkeypatch, tinyproxy_auth, tinyproxy, http_server
):
    # the variables name one proxy; the environment's setting (with credentials) another, and wins
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    password = tinyproxy_auth.auth[1]
    environment = {
        "http.proxy": f"http://proxyuser:{{{{secrets.proxy_password}}}}@127.0.0.1:{tinyproxy_auth.port}"
    }
    graph = chain({"url": f"{http_server.url}/anything/with-setting"})
    handle = run(graph, environment=environment, secrets={"proxy_password": password})
    assert handle.status == "completed", handle.error_message
    assert f"GET {http_server.url}/anything/with-setting HTTP/1.1" in tinyproxy_auth.requests()
    assert not any("with-setting" in line for line in tinyproxy.requests())
    row = step(handle, "call1")
    assert row["input_data"]["connection"]["proxy"] == f"http://***@127.0.0.1:{tinyproxy_auth.port}"
    # the proxy saw its credentials, the server did not
    assert "proxy-authorization" not in {k.lower() for k in row["output_data"]["response"]["data"]["headers"]}
    assert password not in json.dumps(handle.steps, default=str)


def test_a_wrong_proxy_password_is_one_sentence_without_the_password(
    tinyproxy_auth, tls_server_open, certificates
):
    graph = chain(
        {
            "url": f"{tls_server_open.url}/anything",
            "proxy": f"http://proxyuser:wrong-password-77@127.0.0.1:{tinyproxy_auth.port}",
            "verify": str(certificates.ca),
        }
    )
    handle = run(graph)
    row = step(handle, "call1")
    assert row["status"] == "failed"
    assert row["error_message"].startswith(
        f"GET {tls_server_open.url}/anything (through the proxy http://***@127.0.0.1:"
    )
    assert "failed: the proxy refused the request (" in row["error_message"]
    assert "wrong-password-77" not in json.dumps(handle.steps, default=str) + (handle.error_message or "")


def test_proxy_none_sends_directly_whatever_the_variables_say(monkeypatch, http_server):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    handle = run(chain({"url": f"{http_server.url}/anything", "proxy": "none"}))
    assert handle.status == "completed", handle.error_message


# -- 3. cookies -------------------------------------------------------------------------------------


def test_a_logins_cookies_ride_along_in_the_same_run_and_never_into_another(http_server):
    login = {"name": "login", "url": f"{http_server.url}/cookies/set?sid=sess-4411&theme=dark"}
    later = {"name": "later", "url": f"{http_server.url}/cookies"}
    read = {
        "name": "read",
        "url": f"{http_server.url}/hit/{{{{login.response.cookies.sid}}}}",
        "cookies": False,
    }
    echo = {"name": "echo", "url": f"{http_server.url}/anything", "cookies": False}
    first, second = run(
        [chain(login, later, read, echo), chain({"name": "later", "url": f"{http_server.url}/cookies"})]
    )
    assert first.status == "completed", first.error_message
    # the jar's values are masked in everything the run records, as secrets are
    assert first.output_data["later"]["response"]["data"] == {"cookies": {"sid": "***", "theme": "***"}}
    assert first.output_data["login"]["response"]["cookies"] == {"sid": "***", "theme": "***"}
    assert http_server.count("sess-4411") == 1  # {{login.response.cookies.sid}} read the real value
    # the opted-out node sent no cookie
    assert "cookie" not in first.output_data["echo"]["response"]["data"]["headers"]
    # another run of the same executor starts with an empty jar
    assert second.output_data["later"]["response"]["data"] == {"cookies": {}}
    assert "sess-4411" not in json.dumps(first.steps, default=str)
    assert step(first, "later")["input_data"]["cookies"] == {"sid": "***", "theme": "***"}


def test_a_quoted_cookie_value_is_masked_in_the_step_rows_too(http_server):
    # JSON writes the value's quotes escaped: the row is searched for it as JSON writes it
    handle = run(chain({"url": f"{http_server.url}/cookies/set?sid=%22q-7731%22"}))
    assert handle.status == "completed", handle.error_message
    assert step(handle, "call1")["output_data"]["response"]["cookies"] == {"sid": "***"}
    assert "q-7731" not in json.dumps(handle.steps, default=str)


def test_cookies_set_inside_a_redirect_chain_are_kept(http_server):
    graph = chain({"url": f"{http_server.url}/cookies/redirect?chained=yes-1&to=/cookies"})
    handle = run(graph)
    assert handle.output_data["call1"]["response"]["data"] == {"cookies": {"chained": "***"}}
    assert step(handle, "call1")["output_data"]["response"]["cookies"] == {"chained": "***"}


def test_a_secure_cookie_is_not_sent_over_plain_http(http_server):
    handle = run(
        chain(
            {"url": f"{http_server.url}/cookies/secure?token=abc-secure"},
            {"url": f"{http_server.url}/cookies"},
        )
    )
    assert handle.output_data["call2"]["response"]["data"] == {"cookies": {}}


def test_an_explicit_cookie_header_is_dropped_on_a_cross_origin_redirect(http_server):
    other = http_server.url.replace("127.0.0.1", "localhost")
    same = run(chain({"url": f"{http_server.url}/redirect-to?url=/cookies", "headers": {"Cookie": "mine=1"}}))
    assert same.output_data["call1"]["response"]["data"] == {"cookies": {"mine": "1"}}
    cross = run(
        chain({"url": f"{http_server.url}/redirect-to?url={other}/cookies", "headers": {"Cookie": "mine=1"}})
    )
    assert cross.output_data["call1"]["response"]["data"] == {"cookies": {}}


# -- 4. TLS -----------------------------------------------------------------------------------------


def test_mutual_tls_with_a_private_ca(tls_server, certificates):
    api = ApiDefinition(
        id=7,
        name="internal",
        url=f"{tls_server.url}/anything/mtls",
        connection={
            "verify": str(certificates.ca),
            "client_cert": str(certificates.client_cert),
            "client_key": str(certificates.client_key),
        },
    )
    handle = run(chain({"api_id": 7}), apis=[api])
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["call1"]["response"]["data"]["path"] == "/anything/mtls"


def test_without_the_client_certificate_the_handshake_fails_in_one_sentence(tls_server, certificates):
    handle = run(chain({"url": f"{tls_server.url}/anything", "verify": str(certificates.ca)}))
    row = step(handle, "call1")
    assert row["status"] == "failed" and row["error_type"] == "connection"
    assert row["error_message"].startswith(f"GET {tls_server.url}/anything failed:")
    assert "Traceback" not in row["error_message"]


def test_the_wrong_ca_fails_and_verify_false_passes_saying_so_once(tls_server_open, certificates):
    wrong = run(chain({"url": f"{tls_server_open.url}/anything", "verify": str(certificates.other_ca)}))
    assert "the TLS handshake failed" in step(wrong, "call1")["error_message"]
    # verification off from the environment: two calls, one warning line in the run's log
    lines: list[str] = []

    async def main():
        async with WorkflowExecutor(load_plugins=False, http=HttpClient()) as executor:
            executor.events.subscribe(lambda event: lines.append(getattr(event, "message", "")))
            return await executor.execute_graph(
                chain({"url": f"{tls_server_open.url}/anything"}, {"url": f"{tls_server_open.url}/json"}),
                {},
                environment={"http.verify": "false"},
            )

    handle = asyncio.run(main())
    assert handle.status == "completed", handle.error_message
    assert sum("verification is off" in line for line in lines) == 1


def test_a_missing_ca_bundle_is_one_sentence(http_server, tmp_path):
    handle = run(chain({"url": f"{http_server.url}/anything", "verify": str(tmp_path / "nope.pem")}))
    row = step(handle, "call1")
    assert (
        row["error_message"]
        == f"the node's 'verify' names a CA bundle that does not exist: {tmp_path / 'nope.pem'}"
    )


# -- 5. credentials in the URL ---------------------------------------------------------------------


def test_credentials_in_the_url_are_sent_as_basic_auth_and_masked(http_server):
    url = http_server.url.replace("http://", "http://alice:pw-in-url-55@") + "/basic-auth/alice/pw-in-url-55"
    handle = run(chain({"url": url}))
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["call1"]["response"]["data"] == {"authenticated": True, "user": "alice"}
    row = step(handle, "call1")
    assert row["input_data"]["url"] == f"{http_server.url}/basic-auth/alice/pw-in-url-55".replace(
        "pw-in-url-55", "***"
    )
    assert row["input_data"]["headers"]["Authorization"] == "***"
    assert "pw-in-url-55" not in json.dumps(handle.steps, default=str)


# -- 6. redirects to other schemes ------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["http1", "httpx", "aiohttp"])
@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/x", "ftp://127.0.0.1/x"])
def test_a_redirect_to_a_non_http_url_is_refused_in_one_sentence(http_server, target, transport):
    handle = run(
        chain({"url": f"{http_server.url}/redirect-to?url={target}"}), client=HttpClient(transport=transport)
    )
    row = step(handle, "call1")
    scheme = target.split(":", 1)[0]
    assert row["error_message"] == (
        f"GET {http_server.url}/redirect-to?url={target} failed: redirect to a non-HTTP URL ({scheme}:) refused"
    )


# -- 7. Digest auth ---------------------------------------------------------------------------------


def test_digest_auth(http_server):
    auth = {"type": "digest", "username": "dave", "password": "{{secrets.digest_pw}}"}
    handle = run(
        chain({"url": f"{http_server.url}/digest-auth/dave/d1gest-pw", "auth": auth}),
        secrets={"digest_pw": "d1gest-pw"},
    )
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["call1"]["response"]["data"] == {"authenticated": True, "user": "dave"}
    wrong = run(
        chain({"url": f"{http_server.url}/digest-auth/dave/d1gest-pw", "auth": {**auth, "password": "nope"}})
    )
    assert step(wrong, "call1")["error_message"].endswith("answered 401 Unauthorized")


# -- 8. multipart ------------------------------------------------------------------------------------


def test_multipart_fields_and_files_streamed_from_disk(http_server, tmp_path):
    report = tmp_path / "report.csv"
    content = b"id,name\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(60_000))
    report.write_bytes(content)
    image = tmp_path / "pic.bin"
    image.write_bytes(bytes(range(256)) * 10)
    config = {
        "method": "POST",
        "url": f"{http_server.url}/multipart",
        "body_type": "multipart",
        "content_type": "multipart/form-data",
        "body": {
            "title": "Q3 {{input.kind}}",
            "report": {"path": "{{input.report}}", "filename": "r.csv", "content_type": "text/csv"},
            "image": {"path": str(image)},
        },
    }

    async def main():
        async with WorkflowExecutor(load_plugins=False, http=HttpClient()) as executor:
            return await executor.execute_graph(chain(config), {"kind": "sales", "report": str(report)})

    handle = asyncio.run(main())
    assert handle.status == "completed", handle.error_message
    data = handle.output_data["call1"]["response"]["data"]
    assert data["fields"] == {"title": "Q3 sales"}
    assert data["files"]["report"] == {
        "filename": "r.csv",
        "content_type": "text/csv",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    assert data["files"]["image"]["filename"] == "pic.bin" and data["files"]["image"]["size"] == 2560
    assert data["chunks"] > 1  # the body arrived in pieces, as read from disk
    row = step(handle, "call1")
    assert row["input_data"]["body"] == {
        "title": "Q3 sales",
        "report": {"filename": "r.csv", "size": len(content), "content_type": "text/csv"},
        "image": {"filename": "pic.bin", "size": 2560, "content_type": "application/octet-stream"},
    }
    assert "row 59999" not in json.dumps(handle.steps, default=str)


def test_a_missing_multipart_file_is_one_step_error(http_server, tmp_path):
    config = {
        "method": "POST",
        "url": f"{http_server.url}/multipart",
        "body_type": "multipart",
        "body": {"report": {"path": str(tmp_path / "gone.csv")}},
    }
    handle = run(chain(config))
    row = step(handle, "call1")
    assert handle.status == "failed"
    assert (
        row["error_message"] == f"the file of multipart part 'report' does not exist: {tmp_path / 'gone.csv'}"
    )


def test_multipart_from_an_api_definitions_content_type(http_server):
    api = ApiDefinition(
        id=3,
        name="upload",
        method="POST",
        url=f"{http_server.url}/multipart",
        content_type="multipart/form-data",
        body={"note": "{{params.note}}"},
    )
    handle = run(chain({"api_id": 3, "parameters": {"note": "hello"}}), apis=[api])
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["call1"]["response"]["data"]["fields"] == {"note": "hello"}


# -- 7b. HTTP/2 --------------------------------------------------------------------------------------


def test_http2_when_the_definition_says_so(h2_server, certificates):
    api = ApiDefinition(
        id=5,
        name="h2",
        url=f"{h2_server.url}/v2/items",
        connection={"http2": True, "verify": str(certificates.ca)},
    )
    handle = run(chain({"api_id": 5}), apis=[api])
    assert handle.status == "completed", handle.error_message
    response = handle.output_data["call1"]["response"]
    assert response["data"]["http_version"] == "HTTP/2" and response["data"]["path"] == "/v2/items"
    assert response["http_version"] == "HTTP/2"


@pytest.mark.parametrize("path", ["library", "pool"])
def test_an_http2_only_server_without_the_setting_fails_in_one_sentence(h2_server, certificates, path):
    if path == "library":  # a CA bundle: through httpx
        handle = run(chain({"url": f"{h2_server.url}/v2/items", "verify": str(certificates.ca)}))
    else:  # a client that verifies nothing: the fast pool
        handle = run(chain({"url": f"{h2_server.url}/v2/items"}), client=HttpClient(verify=False))
    row = step(handle, "call1")
    assert row["status"] == "failed" and row["error_type"] == "connection"
    assert row["error_message"].startswith(f"GET {h2_server.url}/v2/items failed: ")
    assert "Traceback" not in row["error_message"] and "\n" not in row["error_message"]


def test_the_jar_follows_domain_path_and_expiry_rules(monkeypatch):
    import time as time_module

    from flowdesk.engine.http.cookies import RunCookies

    now = [1_800_000_000.0]
    monkeypatch.setattr(time_module, "time", lambda: now[0])
    jar = RunCookies()
    jar.extract(
        "https://api.example.com/login",
        [
            "sid=s1; Path=/; Max-Age=60",
            "scoped=s2; Path=/admin",
            "wide=s3; Domain=example.com; Path=/",
            "other=s4; Domain=elsewhere.org",  # another site's domain: refused
        ],
    )
    assert jar.header_for("https://api.example.com/x") == "sid=s1; wide=s3"
    assert jar.header_for("https://api.example.com/admin/users") == "scoped=s2; sid=s1; wide=s3"
    assert jar.header_for("https://www.example.com/") == "wide=s3"
    assert jar.header_for("https://elsewhere.org/") is None
    now[0] += 61  # sid's Max-Age passed: the cached header is not used any more
    assert jar.header_for("https://api.example.com/x") == "wide=s3"
    jar.extract("https://api.example.com/", ["wide=; Domain=example.com; Path=/; Max-Age=0"])  # deleted
    assert jar.header_for("https://api.example.com/x") is None


# -- the library path's stale connections ------------------------------------------------------------


@pytest.mark.parametrize(("method", "sent"), [("GET", 2), ("POST", 1)])
def test_the_library_path_resends_an_idempotent_request_its_kept_alive_connection_dropped(method, sent):
    from tests.support.raw_http1 import RawServer, answer_once_then, answering, ok, per_connection

    async def main():
        handler = per_connection(lambda conn: answer_once_then(conn, "drop"), answering(ok(b"fresh")))
        async with RawServer(handler) as server, HttpClient() as client:
            # http2 on an http:// URL: the library path, speaking HTTP/1.1 (h2 needs TLS's ALPN)
            request = HttpRequest(method, server.url("/x"), settings=ConnectionSettings(http2=True))
            first = await client.send(request)
            try:
                second = await client.send(request)
            except Exception as exc:  # noqa: BLE001 - the POST's one sentence
                second = exc
            return first, second, [s[1] for s in server.seen()]

    first, second, seen = asyncio.run(main())
    assert first.body == b"first"
    if method == "GET":
        assert second.body == b"fresh"
    else:  # a POST is never sent twice
        assert "the server closed the connection without answering" in str(second)
    assert seen == [method] * (1 + sent)


def test_the_oauth2_token_request_goes_through_the_calls_proxy(tinyproxy, http_server):
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{http_server.url}/oauth/token",
        "client_id": "flowdesk-client",
        "client_secret": "flowdesk-secret",
    }
    handle = run(chain({"url": f"{http_server.url}/oauth/protected", "auth": auth, "proxy": tinyproxy.url}))
    assert handle.status == "completed", handle.error_message
    seen = tinyproxy.requests()
    assert f"POST {http_server.url}/oauth/token HTTP/1.1" in seen
    assert f"GET {http_server.url}/oauth/protected HTTP/1.1" in seen


def test_a_multipart_body_is_written_in_pieces_and_its_length_is_exact(tmp_path):
    from flowdesk.engine.http.multipart import CHUNK_SIZE, multipart_body

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (5 * CHUNK_SIZE + 17))
    body = multipart_body({"name": 'ünïcode "quoted"', "file": {"path": str(big), "filename": 'a"b.bin'}})

    async def collect():
        return [piece async for piece in body.stream("BOUNDARY")]

    pieces = asyncio.run(collect())
    assert max(len(p) for p in pieces) <= CHUNK_SIZE  # never more than one piece of the file at once
    whole = b"".join(pieces)
    assert len(whole) == body.length("BOUNDARY")
    assert b'name="file"; filename="a%22b.bin"' in whole and whole.endswith(b"--BOUNDARY--\r\n")


# -- the library path reads bodies as every other path does (body.py: bounded, save_to) ------------


def test_a_proxied_answer_is_cut_at_the_body_limit(monkeypatch, tinyproxy, http_server):
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    request = HttpRequest("GET", f"{http_server.url}/large/3000000")
    request.body_limit = 1000
    response = send(request)
    assert response.status == 200
    assert response.truncated and len(response.body) <= 1000
    assert response.to_dict(1000)["truncated"] is True


def test_save_to_streams_a_proxied_answer_to_its_file(monkeypatch, tinyproxy, http_server, tmp_path):
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    target = tmp_path / "big.bin"
    request = HttpRequest("GET", f"{http_server.url}/large/3000000")
    request.save_to = str(target)
    response = send(request)
    assert response.status == 200
    assert response.body_file is not None and response.body_file.commit() == (str(target), 3000000)
    assert target.stat().st_size == 3000000


def test_an_unsendable_url_is_one_sentence_whatever_proxy_variables_say(monkeypatch):
    # Found in CI, whose environment has proxy variables: the port was read while choosing a proxy.
    monkeypatch.setenv("FTP_PROXY", "http://127.0.0.1:9")
    with pytest.raises(HttpCallError) as info:
        send(HttpRequest("GET", "http://exa mple.com:99999/"))
    assert "could not be sent" in str(info.value) or "not a valid" in str(info.value)
