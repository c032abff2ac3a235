"""The demo API every example workflow and template calls: users, their orders and points, exam
results, summaries, slow and flaky endpoints, a login that returns a token and an endpoint that needs
it, plus httpbin-like endpoints for trying requests, auth schemes and retries. A plain ASGI app (no
framework): `flowdesk demo-server` serves it with the standard library (flowdesk/demo/server.py);
the tests serve the same app under uvicorn (tests/support/http_server.py).

Endpoints (all answer JSON unless said otherwise):

- ``/users``: five users; ``/users/{id}``: a user for ids 1..100, else 404; ``POST /users`` creates
  (201), PUT/PATCH update, DELETE answers 204. ``/users/{id}/orders?limit=N``: the user's latest
  orders; ``/users/{id}/points``: the user's loyalty points.
- ``POST /results/{user_id}`` stores an exam result (``{"result", "score"}``; 201 with ``"ok": true``);
  ``GET /results/{user_id}`` reads it back (404 before one is stored).
- ``POST /summaries`` stores any JSON document (201 with its ``id``); ``GET /summaries`` lists them.
- ``POST /login`` with ``{"username": "demo", "password": "demo"}`` (or analyst / analyst-pass) (JSON or form): ``{"token": ...}``;
  ``/me`` needs ``Authorization: Bearer <that token>`` (401 without it).
- ``/slow/{seconds}`` and ``/delay/{seconds}``: answer after an async sleep (at most 30 s); with
  ``?key=K`` a ``/delay`` request is counted for key K when it arrives.
- ``/flaky/{key}?fail=N&status=503``: the first N requests of that key fail with ``status``, then 200.
- ``/anything[/...]`` any method: echoes method, path, query, headers, json body, raw body, form.
- ``/status/{code}``: answers that status (``?retry_after=S`` adds a Retry-After header).
- ``/json``: a sample JSON document. ``/text``: plain text. ``/large/{bytes}``: a body of that size.
- ``/retry-after/{seconds}``: 429 with ``Retry-After`` (``?date=1`` sends an HTTP date instead);
  with ``?key=K&fail=N`` only the first N requests of key K get 429, then 200.
- ``/count/{key}``: how many requests a key got (flaky, retry-after and ``/hit/{key}`` count).
- ``/hold/{key}?times=N&seconds=S``: counts the request; the first N (default 1) hang for S seconds
  (default 30, at most 600: a call kept in flight), later ones answer at once with the request's headers.
- ``/hit/{key}``: counts one request for the key (``?cache_control=no-store`` answers with that
  Cache-Control header). ``/reset``: clears every counter, token and record.
- ``/bearer`` (any token) and ``/bearer/{token}`` (that token): ``Authorization: Bearer ...``.
- ``/basic-auth/{user}/{password}``: HTTP basic auth.
- ``/apikey`` (any key) and ``/apikey/{key}`` (that key): header ``X-API-Key`` or query ``api_key``.
- ``/oauth/token``: OAuth2 client-credentials grant (clients in ``OAUTH_CLIENTS``; client auth by
  basic header or form fields); ``?expires_in=N`` sets the lifetime. ``/oauth/protected`` needs a
  live token from it; ``/oauth/revoke`` revokes every token (the next call answers 401).
  ``/count/oauth_token`` is the number of token requests.
- ``/redirect/{n}``: n redirects (302), then ``/anything``; ``/redirect-to?url=U&status=302``: one
  redirect to U.
- ``/cookies/set?name=value``: one Set-Cookie line per pair (``Path=/``); ``/cookies``: the
  cookies it was sent. ``/cookies/secure?name=value``: the same with ``Secure``;
  ``/cookies/redirect?name=value&to=URL``: sets them and redirects (302) to URL.
- ``/digest-auth/{user}/{password}``: HTTP Digest auth (MD5, qop=auth), as httpbin's.
- The template library's services (``/items``, ``/jobs``, ``/backup``, ``/api/v1|v2``, ``/notes``,
  ``/health``, ``/alerts``, ``/products``): see template_routes.py.
- ``/multipart``: the parts of a multipart/form-data body: text fields, and of each file its
  filename, content type, size and SHA-256 (``?stream=1``: also how many body chunks arrived).
"""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import secrets
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
SAMPLE_TEXT = "Hello from the flowdesk demo server.\n"
MAX_DELAY = 30.0
MAX_HOLD = 600.0
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
        cookies: list[str] | None = None,
    ) -> None:
        self.status = status
        self.headers = dict(headers or {})
        self.cookies = list(cookies or [])  # Set-Cookie lines, each its own header
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
        self.chunks = 1

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


def json_log(state: ServerState, records: list[dict[str, Any]], key: str, req: Request) -> Response:
    """A list of posted JSON documents: POST appends `{"id": n, key: body}` (201), any other method lists."""
    if req.method == "POST":
        with state.lock:
            record = {"id": len(records) + 1, key: req.json()}
            records.append(record)
        return Response(record, status=201)
    return Response(list(records))


DEMO_USERS = {"demo": "demo", "analyst": "analyst-pass"}  # POST /login accepts these (username: password)


class ServerState:
    """Counters, issued tokens and stored records, shared by every request (and readable by the
    tests directly)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.results: dict[int, dict[str, Any]] = {}
        self.summaries: list[dict[str, Any]] = []
        # the template library's services (template_routes.py)
        self.jobs: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, dict[str, Any]] = {}
        self.note_ids = itertools.count(1)
        self.down: set[str] = set()
        self.alerts: list[dict[str, Any]] = []
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
            self.results.clear()
            self.summaries.clear()
            self.jobs.clear()
            self.notes.clear()
            self.down.clear()
            self.alerts.clear()

    def issue_token(self, client_id: str, scope: str, expires_in: float) -> str:
        token = (
            f"tok-{next(self._serial)}-{secrets.token_hex(8)}"  # no user name in it: it may be a password too
        )
        with self.lock:
            self.tokens[token] = {
                "client_id": client_id,
                "scope": scope,
                "expires_at": time.time() + expires_in,
            }
        return token


class DemoApp:
    """The ASGI application; one instance keeps its own counters and records (`state`)."""

    def __init__(self) -> None:
        from .template_routes import TemplateRoutes  # it imports this module's Request and Response

        self.state = ServerState()
        self.templates = TemplateRoutes(self.state)

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
        request.chunks = len(chunks)
        try:
            response = await self.route(request)
        except ValueError as exc:
            response = Response({"error": str(exc)}, status=400)
        headers = [
            (k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()
        ]
        headers.extend((b"set-cookie", c.encode("latin-1")) for c in response.cookies)
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        head = parts[0] if parts else ""
        rest = parts[1:]
        name = f"r_{head.replace('-', '_')}"
        handler = getattr(self, name, None) or getattr(self.templates, name, None)
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
        if rest[1:] == ["orders"]:
            limit = max(int(req.query.get("limit", "3")), 0)
            return Response([self.order(user_id, n) for n in range(1, min(limit, 3) + 1)])
        if rest[1:] == ["points"]:
            return Response({"user_id": user_id, "points": 100 * user_id + 42})
        if rest[1:]:
            return Response({"error": f"no route for {req.path}"}, status=404)
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

    @staticmethod
    def order(user_id: int, n: int) -> dict[str, Any]:
        return {"id": user_id * 1000 + n, "user_id": user_id, "item": f"Widget {n}", "amount": 9.5 * n}

    async def r_results(self, req: Request, rest: list[str]) -> Response:
        try:
            user_id = int(rest[0]) if len(rest) == 1 else None
        except ValueError:
            user_id = None
        if user_id is None:
            return Response({"error": "use /results/{user_id}"}, status=404)
        if req.method in ("POST", "PUT"):
            data = req.json()
            if not isinstance(data, dict):
                return Response({"error": 'send a JSON object such as {"result": "pass"}'}, status=400)
            record = {"user_id": user_id, **data}
            with self.state.lock:
                self.state.results[user_id] = record
            return Response({"ok": True, **record}, status=201)
        stored = self.state.results.get(user_id)
        if stored is None:
            return Response({"error": "no result stored for this user", "user_id": user_id}, status=404)
        return Response(stored)

    async def r_summaries(self, req: Request, rest: list[str]) -> Response:
        return json_log(self.state, self.state.summaries, "summary", req)

    async def r_login(self, req: Request, rest: list[str]) -> Response:
        if req.method != "POST":
            return Response({"error": 'POST {"username": ..., "password": ...}'}, status=405)
        data = req.json() if isinstance(req.json(), dict) else req.form()
        username, password = str(data.get("username", "")), str(data.get("password", ""))
        if not password or DEMO_USERS.get(username) != password:
            return self.unauthorized("Bearer", "wrong username or password")
        token = self.state.issue_token(username, "demo", 3600)
        return Response({"token": token, "token_type": "Bearer", "expires_in": 3600})

    async def r_me(self, req: Request, rest: list[str]) -> Response:
        info = self.state.tokens.get(req.bearer_token() or "")
        if info is None or info["expires_at"] <= time.time():
            return self.unauthorized("Bearer", "log in first (POST /login) and send the token")
        return Response({"username": info["client_id"], "authenticated": True})

    # -- timing and failures ----------------------------------------------------------------

    async def r_slow(self, req: Request, rest: list[str]) -> Response:
        return await self.r_delay(req, rest)

    async def r_delay(self, req: Request, rest: list[str]) -> Response:
        seconds = min(max(float(rest[0]) if rest else 1.0, 0.0), MAX_DELAY)
        if "key" in req.query:  # counted on arrival: a test waits for this to know a call is in flight
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

    async def r_hold(self, req: Request, rest: list[str]) -> Response:
        # The first `times` requests of the key hang (`seconds`, default MAX_DELAY, or until the client goes):
        # a call that is "in flight" for as long as a test needs; later requests answer at once.
        key = rest[0] if rest else "default"
        n = self.state.hit(key)
        if n <= int(req.query.get("times", "1")):
            await asyncio.sleep(min(max(float(req.query.get("seconds", MAX_DELAY)), 0.0), MAX_HOLD))
        return Response({"key": key, "count": n, "headers": dict(req.headers)})

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
        control = req.query.get("cache_control")  # the response cache's tests: no-store, max-age=N
        headers = {"Cache-Control": control} if control else None
        return Response({"key": key, "count": self.state.hit(key)}, headers=headers)

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
        action = rest[0] if rest else ""
        pairs = {k: v for k, v in req.query.items() if k != "to"}
        if action in ("set", "secure", "redirect"):
            flags = "; Path=/; Secure" if action == "secure" else "; Path=/"
            cookies = [f"{k}={v}{flags}" for k, v in pairs.items()]
            if action == "redirect":
                target = req.query.get("to", "/cookies")
                return Response(
                    {"redirect": target}, status=302, headers={"Location": target}, cookies=cookies
                )
            return Response({"set": pairs}, cookies=cookies)
        sent = dict(p.strip().split("=", 1) for p in req.headers.get("cookie", "").split(";") if "=" in p)
        return Response({"cookies": sent})

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

    async def r_digest_auth(self, req: Request, rest: list[str]) -> Response:
        user, password = (rest + ["", ""])[:2]
        realm = "flowdesk"
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("digest "):
            nonce = hashlib.md5(str(time.time()).encode()).hexdigest()
            challenge = f'Digest realm="{realm}", qop="auth", nonce="{nonce}", opaque="0", algorithm=MD5'
            return self.unauthorized(challenge, "missing digest credentials")
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{user}:{realm}:{password}")
        ha2 = md5(f"{req.method}:{fields.get('uri', '')}")
        expected = md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
        if fields.get("username") != user or fields.get("response") != expected:
            return self.unauthorized(f'Digest realm="{realm}"', "wrong digest credentials")
        return Response({"authenticated": True, "user": user})

    async def r_multipart(self, req: Request, rest: list[str]) -> Response:
        ctype = req.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data") or "boundary=" not in ctype:
            return Response({"error": f"not a multipart body with a boundary: {ctype!r}"}, status=400)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode("latin-1") + req.body
        )
        fields: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                return Response(
                    {"error": "a multipart part has no name in its Content-Disposition"}, status=400
                )
            filename = part.get_filename()
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            if filename is None:
                fields[name] = payload.decode("utf-8")
            else:
                files[name] = {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                    "sha256": hashlib.sha256(payload).hexdigest(),
                }
        return Response({"fields": fields, "files": files, "chunks": req.chunks})

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
