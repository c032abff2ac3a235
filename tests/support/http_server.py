"""A small httpbin-like HTTP server for the tests and benchmarks: plain ASGI served by uvicorn.

Runs on 127.0.0.1 on an ephemeral port, in a background thread (`LocalHttpServer`), or as a script:

    python -m tests.support.http_server --port 8765

Endpoints (all answer JSON unless said otherwise):

- ``/anything[/...]`` any method: echoes method, path, query, headers, json body, raw body, form.
- ``/status/{code}``: answers that status (``?retry_after=S`` adds a Retry-After header).
- ``/json``: a sample JSON document. ``/text``: plain text. ``/large/{bytes}``: a body of that size.
- ``/users/{id}``: a user for ids 1..100, else 404; ``POST /users`` creates (201), PUT/PATCH update,
  DELETE answers 204.
- ``/delay/{seconds}``: answers after an async sleep (at most 30 s); with ``?key=K`` the request is
  counted for key K when it arrives (a test waits for that to know the call is in flight).
- ``/retry-after/{seconds}``: 429 with ``Retry-After`` (``?date=1`` sends an HTTP date instead);
  with ``?key=K&fail=N`` only the first N requests of key K get 429, then 200.
- ``/flaky/{key}?fail=N&status=503``: the first N requests of that key fail with ``status``, then 200.
- ``/count/{key}``: how many requests a key got (flaky, retry-after and ``/hit/{key}`` count).
- ``/hit/{key}``: counts one request for the key. ``/reset``: clears every counter and token.
- ``/bearer`` (any token) and ``/bearer/{token}`` (that token): ``Authorization: Bearer ...``.
- ``/basic-auth/{user}/{password}``: HTTP basic auth.
- ``/apikey`` (any key) and ``/apikey/{key}`` (that key): header ``X-API-Key`` or query ``api_key``.
- ``/oauth/token``: OAuth2 client-credentials grant (clients in ``OAUTH_CLIENTS``; client auth by
  basic header or form fields); ``?expires_in=N`` sets the lifetime. ``/oauth/protected`` needs a
  live token from it; ``/oauth/revoke`` revokes every token (the next call answers 401).
  ``/count/oauth_token`` is the number of token requests.
- ``/redirect/{n}``: n redirects (302), then ``/anything``; ``/redirect-to?url=U&status=302``: one
  redirect to U.
- ``/cookies/set?name=value``: answers with that Set-Cookie; ``/cookies``: the cookies it was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import socket
import threading
import time
from collections import Counter
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, parse_qsl

OAUTH_CLIENTS = {"flowdesk-client": "flowdesk-secret", "other-client": "other-secret"}
SAMPLE_JSON = {
    "slideshow": {
        "author": "Yours Truly",
        "date": "date of publication",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {"items": ["Why WonderWidgets are great", "Who buys WonderWidgets"], "title": "Overview"},
        ],
        "title": "Sample Slide Show",
    }
}
SAMPLE_TEXT = "Hello from the flowdesk test server.\n"
MAX_DELAY = 30.0
MAX_LARGE = 50 * 1024 * 1024


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Response:
    """What a route answers: status, headers and body bytes."""

    def __init__(
        self,
        body: Any = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = status
        self.headers = dict(headers or {})
        if isinstance(body, bytes):
            self.body = body
            ctype = content_type or "application/octet-stream"
        elif isinstance(body, str):
            self.body = body.encode()
            ctype = content_type or "text/plain; charset=utf-8"
        else:
            self.body = json.dumps(body, ensure_ascii=False).encode()
            ctype = content_type or "application/json"
        if status not in (204, 304) and "content-type" not in {k.lower() for k in self.headers}:
            self.headers["content-type"] = ctype
        if status in (204, 304):
            self.body = b""


class Request:
    """The parts of one ASGI HTTP request a route reads."""

    def __init__(self, scope: dict, body: bytes) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.raw_query: str = scope.get("query_string", b"").decode("latin-1")
        self.query: dict[str, str] = dict(parse_qsl(self.raw_query, keep_blank_values=True))
        self.multi_query: dict[str, list[str]] = parse_qs(self.raw_query, keep_blank_values=True)
        self.headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            key = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            self.headers[key] = f"{self.headers[key]}, {value}" if key in self.headers else value
        self.body = body

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def bearer_token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def basic_credentials(self) -> tuple[str, str] | None:
        auth = self.headers.get("authorization", "")
        scheme, _, encoded = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


class ServerState:
    """Counters and issued tokens, shared by every request (and readable by the tests directly)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.tokens: dict[str, dict[str, Any]] = {}
        self._serial = itertools.count(1)
        self.lock = threading.Lock()

    def hit(self, key: str) -> int:
        with self.lock:
            self.counts[key] += 1
            return self.counts[key]

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.tokens.clear()

    def issue_token(self, client_id: str, scope: str, expires_in: float) -> str:
        token = f"tok-{next(self._serial)}-{client_id}"
        with self.lock:
            self.tokens[token] = {
                "client_id": client_id,
                "scope": scope,
                "expires_at": time.time() + expires_in,
            }
        return token


class TestServerApp:
    """The ASGI application; one instance keeps its own counters (`state`)."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.state = ServerState()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = Request(scope, b"".join(chunks))
        try:
            response = await self.route(request)
        except ValueError as exc:
            response = Response({"error": str(exc)}, status=400)
        headers = [
            (k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()
        ]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        head = parts[0] if parts else ""
        rest = parts[1:]
        handler = getattr(self, f"r_{head.replace('-', '_')}", None)
        if handler is None:
            return Response({"error": f"no route for {req.path}"}, status=404)
        return await handler(req, rest)

    # -- echo and fixed content -------------------------------------------------------------

    async def r_anything(self, req: Request, rest: list[str]) -> Response:
        return Response(self.echo(req))

    async def r_headers(self, req: Request, rest: list[str]) -> Response:
        return Response({"headers": req.headers})

    @staticmethod
    def echo(req: Request) -> dict[str, Any]:
        query = {k: (v[0] if len(v) == 1 else v) for k, v in req.multi_query.items()}
        return {
            "method": req.method,
            "path": req.path,
            "query": query,
            "headers": req.headers,
            "json": req.json(),
            "form": req.form(),
            "body": req.body.decode("utf-8", "replace"),
        }

    async def r_status(self, req: Request, rest: list[str]) -> Response:
        code = int(rest[0]) if rest else 200
        if not 100 <= code <= 599:
            raise ValueError(f"status {code} is out of range")
        headers = {}
        if "retry_after" in req.query:
            headers["Retry-After"] = req.query["retry_after"]
        return Response({"status": code, "reason": _reason(code)}, status=code, headers=headers)

    async def r_json(self, req: Request, rest: list[str]) -> Response:
        return Response(SAMPLE_JSON)

    async def r_text(self, req: Request, rest: list[str]) -> Response:
        return Response(SAMPLE_TEXT)

    async def r_large(self, req: Request, rest: list[str]) -> Response:
        size = min(int(rest[0]) if rest else 1024, MAX_LARGE)
        if req.query.get("json"):
            # A JSON string of exactly `size` bytes: quotes plus size - 2 letters.
            return Response(b'"' + b"x" * max(size - 2, 0) + b'"', content_type="application/json")
        return Response(b"x" * size, content_type="text/plain")

    async def r_users(self, req: Request, rest: list[str]) -> Response:
        if not rest:
            if req.method == "POST":
                data = req.json() or {}
                return Response({"id": 101, **data}, status=201)
            return Response([self.user(i) for i in range(1, 6)])
        try:
            user_id = int(rest[0])
        except ValueError:
            return Response({"error": f"user id {rest[0]!r} is not a number"}, status=400)
        if not 1 <= user_id <= 100:
            return Response({"error": "user not found", "id": user_id}, status=404)
        if req.method == "DELETE":
            return Response(status=204)
        user = self.user(user_id)
        if req.method in ("PUT", "PATCH"):
            user.update(req.json() or {})
        return Response(user)

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "name": f"User {user_id}",
            "email": f"user{user_id}@example.com",
            "age": 18 + user_id % 50,
            "active": user_id % 2 == 1,
            "tags": ["premium"] if user_id % 3 == 0 else [],
        }

    # -- timing and failures ----------------------------------------------------------------

    async def r_delay(self, req: Request, rest: list[str]) -> Response:
        seconds = min(max(float(rest[0]) if rest else 1.0, 0.0), MAX_DELAY)
        if "key" in req.query:
            self.state.hit(req.query["key"])
        await asyncio.sleep(seconds)
        return Response({"delay": seconds})

    async def r_retry_after(self, req: Request, rest: list[str]) -> Response:
        seconds = rest[0] if rest else "1"
        key = req.query.get("key")
        if key is not None:
            n = self.state.hit(key)
            if n > int(req.query.get("fail", "1")):
                return Response({"key": key, "attempt": n})
        value = formatdate(time.time() + float(seconds), usegmt=True) if req.query.get("date") else seconds
        return Response({"error": "slow down"}, status=429, headers={"Retry-After": value})

    async def r_flaky(self, req: Request, rest: list[str]) -> Response:
        key = rest[0] if rest else "default"
        n = self.state.hit(key)
        fail = int(req.query.get("fail", "1"))
        status = int(req.query.get("status", "503"))
        if n <= fail:
            return Response({"key": key, "attempt": n, "error": "failing on purpose"}, status=status)
        return Response({"key": key, "attempt": n, "ok": True})

    async def r_hit(self, req: Request, rest: list[str]) -> Response:
        key = rest[0] if rest else "default"
        return Response({"key": key, "count": self.state.hit(key)})

    async def r_count(self, req: Request, rest: list[str]) -> Response:
        key = rest[0] if rest else "default"
        return Response({"key": key, "count": self.state.counts[key]})

    async def r_reset(self, req: Request, rest: list[str]) -> Response:
        self.state.reset()
        return Response({"reset": True})

    async def r_redirect_to(self, req: Request, rest: list[str]) -> Response:
        target = req.query.get("url", "/anything")
        status = int(req.query.get("status", "302"))
        return Response({"redirect": target}, status=status, headers={"Location": target})

    async def r_cookies(self, req: Request, rest: list[str]) -> Response:
        if rest and rest[0] == "set":
            headers = {"Set-Cookie": "; ".join(f"{k}={v}" for k, v in req.query.items()) + "; Path=/"}
            return Response({"set": req.query}, headers=headers)
        cookies = dict(p.strip().split("=", 1) for p in req.headers.get("cookie", "").split(";") if "=" in p)
        return Response({"cookies": cookies})

    async def r_redirect(self, req: Request, rest: list[str]) -> Response:
        n = int(rest[0]) if rest else 1
        target = f"/redirect/{n - 1}" if n > 1 else "/anything"
        return Response({"redirect": target}, status=302, headers={"Location": target})

    # -- auth -------------------------------------------------------------------------------

    @staticmethod
    def unauthorized(scheme: str, why: str) -> Response:
        return Response(
            {"authenticated": False, "error": why}, status=401, headers={"WWW-Authenticate": scheme}
        )

    async def r_bearer(self, req: Request, rest: list[str]) -> Response:
        token = req.bearer_token()
        if token is None:
            return self.unauthorized("Bearer", "missing bearer token")
        if rest and token != rest[0]:
            return self.unauthorized("Bearer", "wrong bearer token")
        return Response({"authenticated": True})

    async def r_basic_auth(self, req: Request, rest: list[str]) -> Response:
        user, password = (rest + ["", ""])[:2]
        if req.basic_credentials() != (user, password):
            return self.unauthorized('Basic realm="flowdesk"', "wrong or missing credentials")
        return Response({"authenticated": True, "user": user})

    async def r_apikey(self, req: Request, rest: list[str]) -> Response:
        via, key = ("header", req.headers.get("x-api-key"))
        if not key:
            via, key = ("query", req.query.get("api_key"))
        if not key:
            return self.unauthorized("ApiKey", "missing API key")
        if rest and key != rest[0]:
            return self.unauthorized("ApiKey", "wrong API key")
        return Response({"authenticated": True, "via": via})

    async def r_oauth(self, req: Request, rest: list[str]) -> Response:
        action = rest[0] if rest else ""
        if action == "token":
            return self.oauth_token(req)
        if action == "protected":
            token = req.bearer_token()
            info = self.state.tokens.get(token or "")
            if info is None:
                return self.unauthorized("Bearer", "unknown or revoked token")
            if info["expires_at"] <= time.time():
                return self.unauthorized("Bearer", "token expired")
            return Response({"authenticated": True, "client_id": info["client_id"], "scope": info["scope"]})
        if action == "revoke":
            with self.state.lock:
                self.state.tokens.clear()
            return Response({"revoked": True})
        return Response({"error": f"no route for {req.path}"}, status=404)

    def oauth_token(self, req: Request) -> Response:
        self.state.hit("oauth_token")
        if req.method != "POST":
            return Response({"error": "invalid_request"}, status=405)
        form = req.form()
        if form.get("grant_type") != "client_credentials":
            return Response({"error": "unsupported_grant_type"}, status=400)
        creds = req.basic_credentials() or (form.get("client_id", ""), form.get("client_secret", ""))
        client_id, secret = creds
        if OAUTH_CLIENTS.get(client_id) != secret or not secret:
            return Response({"error": "invalid_client"}, status=401)
        expires_in = float(req.query.get("expires_in") or form.get("expires_in") or 3600)
        scope = form.get("scope", "")
        token = self.state.issue_token(client_id, scope, expires_in)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}
        return Response(body, headers={"Cache-Control": "no-store"})


class LocalHttpServer:
    """The test app served by uvicorn on 127.0.0.1 in a background thread; `.url` once started."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = TestServerApp()
        self.host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def state(self) -> ServerState:
        return self.app.state

    def count(self, key: str) -> int:
        """How many requests the key got (see the module docstring)."""
        return self.state.counts[key]

    def reset(self) -> None:
        """Clear counters and issued tokens."""
        self.state.reset()

    def start(self, timeout: float = 60.0) -> LocalHttpServer:  # generous: a busy machine starts slowly
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it every answer after the first on a kept-alive
        # connection waited some 40 ms for the client's delayed ACK (Nagle's algorithm).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,  # a /delay request still sleeping must not hold up the end
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="flowdesk-test-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local test HTTP server did not start")
            time.sleep(0.01)
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the test app in the foreground (for benchmarks and screenshots)."""
    import uvicorn

    parser = argparse.ArgumentParser(description="flowdesk's local test HTTP server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--http", default="auto", help="uvicorn HTTP implementation: auto, h11 or httptools")
    args = parser.parse_args(argv)
    uvicorn.run(
        TestServerApp(),
        host=args.host,
        port=args.port,
        http=args.http,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
