"""A small OAuth2 authorization server on 127.0.0.1 for the sign-in tests, and the stand-in browser.

Endpoints: `/authorize` redirects to the client's loopback `redirect_uri` with a code and the state (or, for
`response_type=token`, with the token in the fragment); `/token` exchanges a code only with the PKCE
verifier whose S256 digest is the challenge it was issued for, and answers the refresh grant; `/resource`
answers 200 only to a live bearer token; `/userinfo` says who a token belongs to. Tokens expire as
`expires_in` says, and `expire_access_tokens()` makes every issued access token stale at once.

`FollowingBrowser` is what the tests pass where the app opens the system browser: it follows the
redirects from the authorization URL to the loopback page (in a thread, as a browser is another
program), and for the implicit flow does what the page's script does: posts the fragment back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT (the client only reads its claims for display)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


@dataclass
class AuthorizationState:
    """What the server issued and saw (tests read it)."""

    client_id: str = "desk-client"
    client_secret: str | None = None
    user: str = "alice@example.test"
    expires_in: int = 3600
    give_id_token: bool = True
    wrong_state: bool = False  # answer /authorize with another state (a forged redirect)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: dict[str, bool] = field(default_factory=dict)  # token -> live
    refresh_tokens: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)  # grant types seen at /token, in order
    resource_tokens: list[str] = field(default_factory=list)  # bearer tokens /resource was sent
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> dict[str, Any]:
        access, refresh = "at-" + secrets.token_urlsafe(16), "rt-" + secrets.token_urlsafe(16)
        self.access_tokens[access] = True
        self.refresh_tokens.add(refresh)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
        }
        if self.give_id_token:
            answer["id_token"] = _jwt({"sub": "u-1", "email": self.user})
        return answer

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/authorize":
            if query.get("client_id") != state.client_id:
                self._send(400, {"error": "invalid_client"})
                return
            sent_state = "forged-" + query.get("state", "") if state.wrong_state else query.get("state", "")
            if query.get("response_type") == "token":
                with state.lock:
                    answer = state.issue()
                answer.pop("refresh_token")
                fragment = urlencode({**answer, "state": sent_state})
                self._send(302, headers={"Location": f"{query['redirect_uri']}#{fragment}"})
                return
            code = "code-" + secrets.token_urlsafe(8)
            with state.lock:
                state.codes[code] = query
            location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': sent_state})}"
            self._send(302, headers={"Location": location})
            return
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if parts.path in ("/resource", "/userinfo"):
            with state.lock:
                state.resource_tokens.append(token) if parts.path == "/resource" else None
                live = state.access_tokens.get(token, False)
            if not live:
                self._send(
                    401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
                return
            self._send(200, {"user": state.user, "email": state.user, "ok": True})
            return
        self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        if urlsplit(self.path).path != "/token":
            self._send(404, {"error": "not found"})
            return
        basic = self.headers.get("Authorization") or ""
        if basic.startswith("Basic "):
            form["client_id"], _, form["client_secret"] = base64.b64decode(basic[6:]).decode().partition(":")
        with state.lock:
            state.token_requests.append(dict(form))
            state.grants.append(form.get("grant_type", ""))
            if form.get("client_id") != state.client_id or (
                state.client_secret is not None and form.get("client_secret") != state.client_secret
            ):
                self._send(401, {"error": "invalid_client"})
                return
            if form.get("grant_type") == "authorization_code":
                issued = state.codes.pop(form.get("code", ""), None)
                if issued is None or issued.get("redirect_uri") != form.get("redirect_uri"):
                    self._send(400, {"error": "invalid_grant", "error_description": "unknown code"})
                    return
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if issued.get("code_challenge_method") != "S256" or challenge != issued.get("code_challenge"):
                    self._send(
                        400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
                    )
                    return
                self._send(200, state.issue())
                return
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in state.refresh_tokens:
                    self._send(400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
                    return
                state.refresh_tokens.discard(form["refresh_token"])  # rotated
                answer = state.issue()
                answer.pop("id_token", None)
                self._send(200, answer)
                return
            self._send(400, {"error": "unsupported_grant_type"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: AuthorizationState


class AuthorizationServer:
    """The authorization server in a background thread on 127.0.0.1; `.url` once started."""

    def __init__(self, **state: Any) -> None:
        self.state = AuthorizationState(**state)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> AuthorizationServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def auth(self, **extra: Any) -> dict[str, Any]:
        """An `oauth2_authorization_code` auth config for this server."""
        return {
            "type": "oauth2_authorization_code",
            "authorization_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "client_id": self.state.client_id,
            "scopes": ["read", "write"],
            **extra,
        }


class FollowingBrowser:
    """Stands in for the system browser: follows the authorization URL's redirects to the loopback page
    in its own thread; for the implicit flow it posts the fragment back as the page's script does."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.pages: list[str] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _visit(self, url: str) -> None:
        try:
            with httpx.Client(follow_redirects=True, timeout=30, trust_env=False) as client:
                page = client.get(url)
                form = re.search(r'<form id="fragment" method="post" action="([^"]+)"', page.text)
                if form is not None:
                    target = page.url.copy_with(path=form.group(1), query=None, fragment=None)
                    page = client.post(str(target), data={"fragment": page.url.fragment})
                self.pages.append(page.text)
        except BaseException as err:  # noqa: BLE001 - the test reads it
            self.errors.append(err)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.support.oauth_server URL`: the stand-in browser as a program ($BROWSER)."""
    browser = FollowingBrowser()
    browser._visit((argv if argv is not None else sys.argv[1:])[0])
    return 1 if browser.errors else 0


if __name__ == "__main__":
    sys.exit(main())
