"""OAuth2 for a user: the authorization code flow with PKCE (RFC 7636) and the implicit flow, as a
desktop app does it (RFC 8252).

Signing in opens the system browser on the authorization URL (`open_browser`, the one seam: the app
passes Qt's QDesktopServices, the CLI Python's webbrowser, tests a client that follows the redirect) and
waits on a loopback redirect, `http://127.0.0.1:{ephemeral port}/callback`, whose `state` must be the one
sent. The code is exchanged with the PKCE S256 verifier; in the implicit flow the token comes in the URL
fragment, which the browser never sends, so the loopback page posts it back. The tokens are kept as
encrypted secrets (services/sign_ins.py) and `UserTokens` hands them to requests at run time: refreshed
with the refresh token a little before they expire, and once more when a request is answered 401.
A run never opens a browser: without a usable sign-in it fails with one sentence saying how to sign in.

The auth config (engine/auth.py): ``{"type": "oauth2_authorization_code", "authorization_url": "...",
"token_url": "...", "client_id": "...", "client_secret": "..." (optional), "scopes": [...],
"flow": "code" | "implicit", "userinfo_url": "..." (optional), "redirect_port": 0 (optional),
"audience": "..." (optional)}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import json
import logging
import secrets as random_secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from flowdesk.domain.errors import FlowdeskError, InvalidInputError

from .http.errors import HttpCallError
from .http.request import HttpRequest

if TYPE_CHECKING:  # pragma: no cover
    from .http.client import HttpClient
    from .http.redaction import Redactor
    from .http.settings import ConnectionSettings

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
SIGN_IN_TIMEOUT = 300.0
_USER_CLAIMS = ("name", "preferred_username", "email", "login", "username", "sub")


class SignInError(FlowdeskError):
    """The sign-in did not give tokens; the message is one sentence for the user."""


class SignInNeeded(HttpCallError):
    """A request needs a sign-in that is missing or can no longer be renewed (a run cannot open a browser)."""

    error_type = "http_4xx"


class SignInStorage(Protocol):
    """Where sign-ins are kept (services.sign_ins.SignInStore)."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, signed_in: dict[str, Any]) -> None: ...

    def forget(self, key: str) -> bool: ...


@dataclass
class SignedIn:
    """The tokens of one sign-in; `expires_at` is a Unix time (None: the server did not say)."""

    access_token: str
    refresh_token: str | None = None
    token_type: str = "Bearer"
    expires_at: float | None = None
    user: str = ""
    scopes: list[str] | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> SignedIn:
        expires = stored.get("expires_at")
        return cls(
            access_token=str(stored["access_token"]),
            refresh_token=stored.get("refresh_token") or None,
            token_type=str(stored.get("token_type") or "Bearer"),
            expires_at=float(expires) if isinstance(expires, int | float) else None,
            user=str(stored.get("user") or ""),
            scopes=list(stored.get("scopes") or []) or None,
        )

    def stored(self) -> dict[str, Any]:
        return asdict(self)

    def header(self) -> str:
        scheme = "Bearer" if self.token_type.lower() == "bearer" else self.token_type
        return f"{scheme} {self.access_token}"


def _text(auth: Mapping[str, Any], key: str) -> str:
    value = auth.get(key)
    if value is None or value == "":
        raise InvalidInputError(f"OAuth2 authorization code auth needs a non-empty '{key}'")
    return str(value)


def scopes_of(auth: Mapping[str, Any]) -> list[str]:
    scopes = auth.get("scopes", auth.get("scope"))
    if not scopes:
        return []
    if isinstance(scopes, str):
        return [s for s in scopes.replace(",", " ").split() if s]
    return [str(s) for s in scopes]


def is_implicit(auth: Mapping[str, Any]) -> bool:
    return str(auth.get("flow") or "code").strip().lower() == "implicit"


def sign_in_key(auth: Mapping[str, Any]) -> str:
    """Which stored sign-in a (rendered) auth config uses: a digest of where tokens come from, the
    client id and the scopes, so definitions sharing them share one sign-in."""
    where = str(auth.get("authorization_url" if is_implicit(auth) else "token_url") or "")
    parts = [where, str(auth.get("client_id") or ""), " ".join(sorted(scopes_of(auth)))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (43 characters of 32 random bytes) and its S256 challenge."""
    verifier = base64.urlsafe_b64encode(random_secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def sign_in_hint(auth: Mapping[str, Any]) -> str:
    where = _host(str(auth.get("authorization_url") or auth.get("token_url") or "the authorization server"))
    return (
        f"sign in to {where} from the API library in the app, or run `flowdesk api signin NAME` "
        "with the API's name"
    )


def describe_sign_in(signed_in: SignedIn | None, *, now: float | None = None) -> str:
    """ "Signed in as alice, expires in 59 min" (what the API library shows), or "Not signed in"."""
    if signed_in is None:
        return "Not signed in"
    text = f"Signed in as {signed_in.user or 'an unnamed user'}"
    if signed_in.expires_at is None:
        return text
    left = signed_in.expires_at - (time.time() if now is None else now)
    if left <= 0:
        renew = "; renewed on the next call" if signed_in.refresh_token else "; sign in again"
        return f"{text}, expired{renew}"
    if left < 120:
        return f"{text}, expires in {int(left)} s"
    if left < 2 * 3600:
        return f"{text}, expires in {int(left // 60)} min"
    return f"{text}, expires in {left / 3600:.0f} h"


# -- the loopback redirect --------------------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>flowdesk sign-in</title></head>
<body style="font-family: sans-serif"><p>{text}</p>{extra}</body></html>"""

# The implicit flow's token is in the fragment, which browsers never send: this page posts it back.
_FRAGMENT_FORM = """<form id="fragment" method="post" action="{path}">
<input type="hidden" name="fragment" value=""></form>
<script>var f = document.getElementById("fragment"); f.fragment.value = location.hash.slice(1); f.submit();</script>"""


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 (RFC 8252 section 7.3) that takes the authorization answer."""

    def __init__(self, port: int = 0, *, implicit: bool = False) -> None:
        self.port = port
        self.implicit = implicit
        self._server: asyncio.base_events.Server | None = None
        self._answer: asyncio.Future[dict[str, str]] | None = None

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError as err:
            sock.close()
            raise SignInError(
                f"The sign-in cannot listen on 127.0.0.1 port {self.port} ({err.strerror or err}); "
                "set another 'redirect_port' or 0 for any free port."
            ) from None
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock)

    async def answer(self, timeout: float) -> dict[str, str]:
        assert self._answer is not None
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(self._answer)
        except TimeoutError:
            raise SignInError(
                f"No answer came back from the browser within {timeout:.0f} s; the sign-in was abandoned."
            ) from None

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(30):
                status, page = await self._handle(reader)
        except (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError):
            status, page = "400 Bad Request", _PAGE.format(text="This is not a sign-in answer.", extra="")
        body = page.encode("utf-8")
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n".encode("ascii")
            + body
        )
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[str, str]:
        request_line = (await reader.readline()).decode("latin-1").split()
        if len(request_line) != 3:
            raise ValueError("not HTTP")
        method, target, _version = request_line
        length = 0
        for _ in range(100):
            line = (await reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = min(int(value.strip()), 65536)
        path, _, query = target.partition("?")
        if path != CALLBACK_PATH:
            return "404 Not Found", _PAGE.format(text="Not found.", extra="")
        params = dict(parse_qsl(query, keep_blank_values=True))
        if method == "POST":  # the implicit flow's page posting the fragment back
            form = dict(parse_qsl((await reader.readexactly(length)).decode("utf-8"), keep_blank_values=True))
            params = dict(parse_qsl(form.get("fragment", ""), keep_blank_values=True))
        elif self.implicit and not params:
            return "200 OK", _PAGE.format(
                text="Finishing the sign-in…", extra=_FRAGMENT_FORM.format(path=CALLBACK_PATH)
            )
        if "state" not in params and "error" not in params:  # a prefetch, a stray visit: keep waiting
            return "400 Bad Request", _PAGE.format(text="This is not a sign-in answer.", extra="")
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(params)
        if "error" in params:
            return "200 OK", _PAGE.format(text="The sign-in was refused. You can close this tab.", extra="")
        return "200 OK", _PAGE.format(
            text="flowdesk has the answer and finishes the sign-in: you can close this tab.", extra=""
        )


# -- signing in ---------------------------------------------------------------------------------------


def authorization_url(auth: Mapping[str, Any], redirect_uri: str, state: str, challenge: str | None) -> str:
    """The URL the browser opens: response type, client id, redirect URI, scopes, state, PKCE challenge."""
    base = _text(auth, "authorization_url")
    query = {
        "response_type": "token" if is_implicit(auth) else "code",
        "client_id": _text(auth, "client_id"),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    scopes = scopes_of(auth)
    if scopes:
        query["scope"] = " ".join(scopes)
    if challenge is not None:
        query["code_challenge"] = challenge
        query["code_challenge_method"] = "S256"
    if auth.get("audience"):
        query["audience"] = str(auth["audience"])
    return base + ("&" if "?" in base else "?") + urlencode(query)


BrowserOpener = Callable[[str], Any]


async def sign_in(
    auth: Mapping[str, Any],
    client: HttpClient,
    store: SignInStorage,
    *,
    open_browser: BrowserOpener,
    timeout: float = SIGN_IN_TIMEOUT,
    redactor: Redactor | None = None,
) -> SignedIn:
    """Sign in through the browser and keep the tokens in `store`; raises SignInError with one sentence."""
    implicit = is_implicit(auth)
    if not implicit:
        _text(auth, "token_url")
    _text(auth, "client_id")
    _text(auth, "authorization_url")
    receiver = LoopbackReceiver(int(auth.get("redirect_port") or 0), implicit=implicit)
    await receiver.start()
    try:
        state = random_secrets.token_urlsafe(24)
        verifier, challenge = (None, None) if implicit else pkce_pair()
        url = authorization_url(auth, receiver.redirect_uri, state, challenge)
        opened = open_browser(url)
        if inspect.isawaitable(opened):
            await opened
        answer = await receiver.answer(timeout)
    finally:
        await receiver.close()
    if answer.get("state") != state:
        raise SignInError(
            "The answer to the sign-in did not carry the state flowdesk sent, so it was refused "
            "(it may not come from this sign-in)."
        )
    if "error" in answer:
        raise SignInError(_refusal("The authorization server refused the sign-in", answer))
    if implicit:
        token = _from_token_answer(answer, time.time())
    else:
        if not answer.get("code"):
            raise SignInError("The authorization server answered without a code; the sign-in failed.")
        assert verifier is not None
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": receiver.redirect_uri,
            "code_verifier": verifier,
        }
        token = await _token_request(auth, client, form, timeout=30.0, redactor=redactor, action="sign-in")
    token.user = await _user_of(auth, client, token, answer, redactor)
    if not token.scopes:
        token.scopes = scopes_of(auth) or None
    await asyncio.to_thread(store.save, sign_in_key(auth), token.stored())
    logger.info("signed in to %s as %s", _host(str(auth.get("authorization_url"))), token.user)
    return token


def _refusal(what: str, answer: Mapping[str, Any]) -> str:
    detail = str(answer.get("error") or "")
    description = str(answer.get("error_description") or "").strip().rstrip(".")
    if description:
        detail += f": {description}"
    return f"{what} ({detail})." if detail else f"{what}."


def _from_token_answer(data: Mapping[str, Any], started: float, old_refresh: str | None = None) -> SignedIn:
    if not data.get("access_token"):
        raise SignInError("The authorization server answered without an access token; the sign-in failed.")
    try:
        expires_in: float | None = float(data["expires_in"]) if data.get("expires_in") else None
    except (TypeError, ValueError):
        expires_in = None
    scope = data.get("scope")
    return SignedIn(
        access_token=str(data["access_token"]),
        refresh_token=str(data.get("refresh_token") or old_refresh or "") or None,
        token_type=str(data.get("token_type") or "Bearer"),
        expires_at=started + expires_in if expires_in is not None else None,
        scopes=scope.split() if isinstance(scope, str) and scope else None,
    )


async def _token_request(
    auth: Mapping[str, Any],
    client: HttpClient,
    form: dict[str, Any],
    *,
    timeout: float,
    redactor: Redactor | None,
    settings: ConnectionSettings | None = None,
    action: str,
    old_refresh: str | None = None,
) -> SignedIn:
    """POST to the token endpoint (code exchange or refresh) and read the tokens it gives."""
    token_url = _text(auth, "token_url")
    client_id = _text(auth, "client_id")
    request = HttpRequest(method="POST", url=token_url, form=form, timeout=timeout)
    if settings is not None:
        request.settings = settings
    request.headers["Accept"] = "application/json"
    secret = auth.get("client_secret")
    if secret and str(auth.get("client_auth") or "basic").lower() != "body":
        from .auth import basic_header

        request.headers["Authorization"] = basic_header(client_id, str(secret))
    else:
        form["client_id"] = client_id
        if secret:
            form["client_secret"] = str(secret)
    started = time.time()
    response = await client.send(request, timeout=timeout, redactor=redactor)
    data = response.data if isinstance(response.data, Mapping) else {}
    if not response.ok:
        what = (
            "The token endpoint refused the sign-in code"
            if action == "sign-in"
            else ("The token endpoint refused to renew the sign-in")
        )
        message = (
            _refusal(what, data) if data.get("error") else f"{what} ({response.status} {response.reason})."
        )
        if action == "sign-in":
            raise SignInError(message)
        raise SignInNeeded(f"{message[:-1]}; {sign_in_hint(auth)}.", status=response.status)
    token = _from_token_answer(data, started, old_refresh)
    if redactor is not None:
        redactor.add_values([token.access_token, token.refresh_token])
    if isinstance(data.get("id_token"), str):
        token.user = _claims_user(_jwt_claims(data["id_token"]))
    return token


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, for display only (the app got it straight from the token endpoint over the
    TLS connection it opened, which is what OpenID Connect allows instead of checking the signature)."""
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _claims_user(claims: Mapping[str, Any]) -> str:
    return next((str(claims[c]) for c in _USER_CLAIMS if claims.get(c)), "")


async def _user_of(
    auth: Mapping[str, Any],
    client: HttpClient,
    token: SignedIn,
    answer: Mapping[str, Any],
    redactor: Redactor | None,
) -> str:
    """Who signed in: the id_token's claims, else the userinfo URL's answer, else the client id."""
    if token.user:
        return token.user
    if isinstance(answer.get("id_token"), str):
        user = _claims_user(_jwt_claims(answer["id_token"]))
        if user:
            return user
    userinfo = auth.get("userinfo_url")
    if userinfo:
        request = HttpRequest(method="GET", url=str(userinfo), timeout=30.0)
        request.headers.update({"Authorization": token.header(), "Accept": "application/json"})
        try:
            response = await client.send(request, redactor=redactor)
        except HttpCallError as err:
            logger.warning("the userinfo URL could not be read: %s", err.message)
        else:
            if response.ok and isinstance(response.data, Mapping):
                user = _claims_user(response.data)
                if user:
                    return user
    return str(auth.get("client_id") or "")


# -- tokens at run time -------------------------------------------------------------------------------


class UserTokens:
    """The stored sign-ins a client's requests use: read once, renewed `margin` seconds before expiry
    (or when a request was answered 401), kept back in the store when renewed."""

    def __init__(
        self,
        store: SignInStorage | None = None,
        *,
        margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.margin = margin
        self.clock = clock
        self.refreshes = 0
        self._tokens: dict[str, SignedIn] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def new_loop(self) -> None:
        self._locks.clear()

    def forget(self, auth: Mapping[str, Any]) -> None:
        """Drop the in-memory copy (after signing in or out elsewhere)."""
        self._tokens.pop(sign_in_key(auth), None)

    def _due(self, token: SignedIn) -> bool:
        return token.expires_at is not None and token.expires_at - self.margin <= self.clock()

    async def token(
        self,
        auth: Mapping[str, Any],
        client: HttpClient,
        *,
        timeout: float,
        redactor: Redactor | None = None,
        settings: ConnectionSettings | None = None,
        rejected: str | None = None,
    ) -> SignedIn:
        """A usable token for this auth; `rejected` is an access token a server just answered 401 to."""
        key = sign_in_key(auth)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self._tokens.get(key)
            if token is None or self._unusable(token, rejected):
                # Read again: the app or `flowdesk api signin` may have signed in (or renewed) meanwhile.
                stored = await asyncio.to_thread(self.store.load, key) if self.store is not None else None
                if stored is None:
                    self._tokens.pop(key, None)
                    raise SignInNeeded(f"This API call needs an OAuth2 sign-in: {sign_in_hint(auth)}.")
                token = SignedIn.from_stored(stored)
                self._tokens[key] = token
            if redactor is not None:
                redactor.add_values([token.access_token, token.refresh_token])
            if self._unusable(token, rejected):
                token = await self._refresh(auth, key, token, client, timeout, redactor, settings)
            return token

    def _unusable(self, token: SignedIn, rejected: str | None) -> bool:
        return self._due(token) or (rejected is not None and rejected == token.access_token)

    async def _refresh(
        self,
        auth: Mapping[str, Any],
        key: str,
        token: SignedIn,
        client: HttpClient,
        timeout: float,
        redactor: Redactor | None,
        settings: ConnectionSettings | None,
    ) -> SignedIn:
        if not token.refresh_token:
            self._tokens.pop(key, None)
            raise SignInNeeded(f"The OAuth2 sign-in has expired and cannot be renewed: {sign_in_hint(auth)}.")
        form: dict[str, Any] = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        self.refreshes += 1
        try:
            fresh = await _token_request(
                auth,
                client,
                form,
                timeout=timeout,
                redactor=redactor,
                settings=settings,
                action="refresh",
                old_refresh=token.refresh_token,
            )
        except SignInNeeded:
            self._tokens.pop(key, None)
            raise
        fresh.user = fresh.user or token.user
        fresh.scopes = fresh.scopes or token.scopes
        self._tokens[key] = fresh
        if self.store is not None:
            await asyncio.to_thread(self.store.save, key, fresh.stored())
        logger.debug("renewed an OAuth2 sign-in for %s", _host(str(auth.get("token_url"))))
        return fresh
