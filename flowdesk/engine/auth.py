"""Auth of API calls: none, bearer, basic, API key (header or query), OAuth2 client credentials.

An auth config is a dict whose values have already been rendered (so `{{secrets.NAME}}` is the
secret's value here):

- ``{"type": "none"}``
- ``{"type": "bearer", "token": "..."}``
- ``{"type": "basic", "username": "...", "password": "..."}``
- ``{"type": "digest", "username": "...", "password": "..."}`` (answered by httpx.DigestAuth on the
  library path: the challenge needs a round trip the fast pool does not make)
- ``{"type": "api_key", "in": "header" | "query", "name": "X-API-Key", "value": "..."}``
- ``{"type": "oauth2_client_credentials", "token_url": "...", "client_id": "...",
  "client_secret": "...", "scopes": ["read"], "client_auth": "basic" | "body", "audience": "..."}``
- ``{"type": "oauth2_authorization_code", "authorization_url": "...", "token_url": "...",
  "client_id": "...", "scopes": [...], "flow": "code" | "implicit", ...}``: a user's sign-in made in the
  browser (engine/authorization_code.py); requests use its stored token, renewed when due
- ``{"type": "aws_sigv4", "access_key": "...", "secret_key": "...", "session_token": "...",
  "region": "eu-west-1", "service": "execute-api"}``: signed from the request's final bytes
  (aws_signing.py, called where HttpClient prepares them)

OAuth2 tokens are cached per (token_url, client_id, scopes) by `OAuth2TokenCache` (one per
HttpClient, so per engine) until `expires_in` minus a margin, fetched once even when many calls
need one at the same moment, and refreshed when the cached one is rejected with a 401.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.node_descriptors import AUTH_SECRET_FIELDS

from .http.errors import HttpCallError
from .http.request import HttpRequest

if TYPE_CHECKING:  # pragma: no cover
    from .http.client import HttpClient
    from .http.redaction import Redactor
    from .http.settings import ConnectionSettings

logger = logging.getLogger(__name__)

AUTH_TYPES = (
    "none",
    "bearer",
    "basic",
    "digest",
    "api_key",
    "oauth2_client_credentials",
    "oauth2_authorization_code",
    "aws_sigv4",
)
_ALIASES = {"": "none", "noauth": "none", "apikey": "api_key", "oauth2": "oauth2_client_credentials"}
SECRET_FIELDS = AUTH_SECRET_FIELDS  # the auth fields the API_CALL descriptor marks x-secret
DEFAULT_EXPIRES_IN = 3600.0


def auth_type(auth: Mapping[str, Any] | None) -> str:
    """The normalised type of an auth config ("none" when there is none)."""
    if not auth:
        return "none"
    kind = str(auth.get("type") or "none").strip().lower().replace("-", "_")
    kind = _ALIASES.get(kind, kind)
    if kind not in AUTH_TYPES:
        raise InvalidInputError(f"auth type '{auth.get('type')}' is not one of {', '.join(AUTH_TYPES)}")
    return kind


def _required(auth: Mapping[str, Any], key: str, kind: str) -> str:
    value = auth.get(key)
    if value is None or value == "":
        raise InvalidInputError(f"{kind} auth needs a non-empty '{key}'")
    return str(value)


def _scopes(auth: Mapping[str, Any]) -> tuple[str, ...]:
    scopes = auth.get("scopes", auth.get("scope"))
    if not scopes:
        return ()
    if isinstance(scopes, str):
        return tuple(s for s in scopes.replace(",", " ").split() if s)
    return tuple(str(s) for s in scopes)


def register_auth_secrets(auth: Mapping[str, Any] | None, redactor: Redactor) -> None:
    """Tell the redactor every value of this auth config that must never be recorded."""
    if not auth:
        return
    values = [auth.get(k) for k in SECRET_FIELDS]
    kind = auth_type(auth)
    if kind == "basic":
        pair = f"{auth.get('username') or ''}:{auth.get('password') or ''}"
        values.append(base64.b64encode(pair.encode()).decode())
    redactor.add_values(v for v in values if v)
    if kind == "api_key":
        name = str(auth.get("name") or auth.get("key") or "")
        if str(auth.get("in") or "header").lower() == "query":
            redactor.add_query(name)
        else:
            redactor.add_header(name)


def auth_placeholders(auth: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and query parameters this auth adds, with *** for values (what a log shows)."""
    try:
        kind = auth_type(auth)
    except InvalidInputError:
        return {}, {}
    if kind == "none" or auth is None:
        return {}, {}
    if kind == "api_key":
        name = str(auth.get("name") or auth.get("key") or "")
        if str(auth.get("in") or "header").lower() == "query":
            return {}, {name: "***"}
        return {name: "***"}, {}
    return {"Authorization": "***"}, {}


@dataclass
class AppliedAuth:
    """What auth adds to one request; `token_from_cache` says whether a 401 may mean a stale token."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    kind: str = "none"
    token_from_cache: bool = False


@dataclass
class _CachedToken:
    access_token: str
    token_type: str
    expires_at: float


class OAuth2TokenCache:
    """OAuth2 client-credentials tokens per (token_url, client_id, scopes), until expiry minus a margin."""

    def __init__(self, *, margin: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.margin = margin
        self.clock = clock
        self.fetches = 0
        self._tokens: dict[tuple[str, str, tuple[str, ...]], _CachedToken] = {}
        self._locks: dict[tuple[str, str, tuple[str, ...]], asyncio.Lock] = {}

    @staticmethod
    def key(auth: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]]:
        return (str(auth.get("token_url")), str(auth.get("client_id")), tuple(sorted(_scopes(auth))))

    def clear(self) -> None:
        self._tokens.clear()
        self._locks.clear()

    def new_loop(self) -> None:
        """Forget the fetch locks (they belong to an event loop); cached tokens stay valid."""
        self._locks.clear()

    def invalidate(self, auth: Mapping[str, Any], access_token: str | None = None) -> None:
        """Forget the cached token (only if it is still `access_token`, when given)."""
        key = self.key(auth)
        cached = self._tokens.get(key)
        if cached is not None and (access_token is None or cached.access_token == access_token):
            del self._tokens[key]

    def _live(self, key: tuple[str, str, tuple[str, ...]]) -> _CachedToken | None:
        cached = self._tokens.get(key)
        if cached is not None and cached.expires_at > self.clock():
            return cached
        return None

    async def token(
        self,
        auth: Mapping[str, Any],
        client: HttpClient,
        *,
        timeout: float,
        redactor: Redactor | None = None,
        settings: ConnectionSettings | None = None,
    ) -> tuple[_CachedToken, bool]:
        """A live token for this auth config and whether it came from the cache."""
        key = self.key(auth)
        cached = self._live(key)
        if cached is not None:
            return cached, True
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._live(key)  # another call fetched it while this one waited
            if cached is not None:
                return cached, True
            fresh = await self._fetch(auth, client, timeout=timeout, redactor=redactor, settings=settings)
            self._tokens[key] = fresh
            return fresh, False

    async def _fetch(
        self,
        auth: Mapping[str, Any],
        client: HttpClient,
        *,
        timeout: float,
        redactor: Redactor | None,
        settings: ConnectionSettings | None = None,
    ) -> _CachedToken:
        kind = "oauth2_client_credentials"
        token_url = _required(auth, "token_url", kind)
        client_id = _required(auth, "client_id", kind)
        secret = _required(auth, "client_secret", kind)
        form: dict[str, Any] = {"grant_type": "client_credentials"}
        scopes = _scopes(auth)
        if scopes:
            form["scope"] = " ".join(scopes)
        if auth.get("audience"):
            form["audience"] = str(auth["audience"])
        request = HttpRequest(method="POST", url=token_url, form=form, timeout=timeout)
        if settings is not None:  # the token endpoint is reached as the call is (its proxy, its TLS)
            request.settings = settings
        request.headers["Accept"] = "application/json"
        if str(auth.get("client_auth") or "basic").lower() == "body":
            form["client_id"] = client_id
            form["client_secret"] = secret
        else:
            request.headers["Authorization"] = basic_header(client_id, secret)
        self.fetches += 1
        started = self.clock()
        response = await client.send(request, timeout=timeout, redactor=redactor)
        where = f"the OAuth2 token request to {redactor.url(token_url) if redactor else token_url}"
        if not response.ok:
            detail = ""
            if isinstance(response.data, Mapping) and response.data.get("error"):
                detail = f" ({response.data['error']})"
            error_type = "http_5xx" if response.status >= 500 else "http_4xx"
            raise HttpCallError(
                f"{where} answered {response.status} {response.reason}{detail}",
                error_type=error_type,
                status=response.status,
            )
        data = response.data
        if not isinstance(data, Mapping) or not data.get("access_token"):
            raise HttpCallError(f"{where} answered without an access_token")
        try:
            expires_in = float(data.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        margin = min(self.margin, expires_in / 10)
        token = _CachedToken(
            access_token=str(data["access_token"]),
            token_type=str(data.get("token_type") or "Bearer"),
            expires_at=started + expires_in - margin,
        )
        if redactor is not None:
            redactor.add_values([token.access_token])
        logger.debug("fetched an OAuth2 token from %s (expires in %.0f s)", token_url, expires_in)
        return token


def basic_header(username: str, password: str) -> str:
    """The value of an `Authorization: Basic ...` header."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


async def apply_auth(
    auth: Mapping[str, Any] | None,
    client: HttpClient,
    *,
    timeout: float,
    redactor: Redactor | None = None,
    settings: ConnectionSettings | None = None,
    rejected: str | None = None,
) -> AppliedAuth:
    """The headers and query parameters `auth` adds to a request (fetching an OAuth2 token if needed);
    `rejected` is a signed-in user's access token a server just answered 401 to (it is renewed)."""
    kind = auth_type(auth)
    if kind == "none" or auth is None:
        return AppliedAuth()
    if kind == "bearer":
        return AppliedAuth(headers={"Authorization": f"Bearer {_required(auth, 'token', kind)}"}, kind=kind)
    if kind == "basic":
        username = _required(auth, "username", kind)
        password = str(auth.get("password") or "")
        return AppliedAuth(headers={"Authorization": basic_header(username, password)}, kind=kind)
    if kind == "digest":
        _required(auth, "username", kind)
        return AppliedAuth(kind=kind)  # the library path answers the server's challenge
    if kind == "api_key":
        name = str(auth.get("name") or auth.get("key") or "")
        if not name:
            raise InvalidInputError("api_key auth needs a non-empty 'name'")
        value = _required(auth, "value", kind)
        where = str(auth.get("in") or "header").lower()
        if where == "query":
            return AppliedAuth(query={name: value}, kind=kind)
        if where != "header":
            raise InvalidInputError(f"api_key auth 'in' must be 'header' or 'query', got '{where}'")
        return AppliedAuth(headers={name: value}, kind=kind)
    if kind == "aws_sigv4":
        return AppliedAuth(kind=kind)  # the signature needs the final bytes: HttpClient adds it
    if kind == "oauth2_authorization_code":
        signed_in = await client.user_tokens.token(
            auth, client, timeout=timeout, redactor=redactor, settings=settings, rejected=rejected
        )
        return AppliedAuth(headers={"Authorization": signed_in.header()}, kind=kind, token_from_cache=True)
    token, from_cache = await client.tokens.token(
        auth, client, timeout=timeout, redactor=redactor, settings=settings
    )
    scheme = "Bearer" if token.token_type.lower() == "bearer" else token.token_type
    return AppliedAuth(
        headers={"Authorization": f"{scheme} {token.access_token}"}, kind=kind, token_from_cache=from_cache
    )
