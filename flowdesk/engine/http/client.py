"""The engine's pooled async HTTP client (one per engine): fast under concurrency, honest errors."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx
import yarl

from .errors import HttpCallError, RequestTimedOutError, aiohttp_error, classify_transport_error
from .http1 import Http1Pool
from .redaction import Redactor
from .request import HttpRequest
from .response import DEFAULT_BODY_LIMIT, HttpResponse
from .tls import default_ssl_context, unverified_ssl_context
from .transport import AiohttpTransport, Http1Transport

if TYPE_CHECKING:
    import aiohttp  # imported where used: the default transport never loads it

logger = logging.getLogger(__name__)

TRANSPORTS = ("http1", "httpx", "aiohttp", "httpx-aiohttp", "httpcore")
_HTTPX_TRANSPORTS = frozenset({"httpx", "httpx-aiohttp", "httpcore"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
DEFAULT_MAX_CONNECTIONS = 100
USER_AGENT = "flowdesk/0.1"


class HttpClient:
    """The engine's HTTP client: one connection pool per engine, made lazily in the running loop.

    `transport` chooses how requests travel (docs/http.md has the measurements):

    - "http1" (default): straight through flowdesk's own keep-alive HTTP/1.1 pool (http1.py), the
      cheapest per call by far;
    - "httpx": as httpx.Request / httpx.Response through flowdesk's httpx Http1Transport on that
      same kind of pool;
    - "aiohttp": straight through one pooled aiohttp.ClientSession;
    - "httpx-aiohttp": as httpx.Request / httpx.Response through flowdesk's httpx AiohttpTransport
      (on the same kind of aiohttp pool);
    - "httpcore": through httpx's own transport;
    - or any httpx.AsyncBaseTransport instance (a proxy transport, httpx.MockTransport...).

    Whatever the transport, `httpx_client` is an httpx.AsyncClient on the same pool, for code that
    wants the whole httpx API. `max_connections` should match the engine's concurrency. `sleep` and
    `random` are what retries wait and jitter with (tests replace them). `tokens` caches OAuth2
    tokens for every call made through this client. Cookies are never kept between calls.
    """

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: str | httpx.AsyncBaseTransport = "http1",
        body_limit: int | None = DEFAULT_BODY_LIMIT,
        keepalive_expiry: float = 30.0,
        verify: bool = True,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        rng: random.Random | None = None,
        token_margin: float = 30.0,
    ) -> None:
        from ..auth import OAuth2TokenCache

        if isinstance(transport, str) and transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
        self.max_connections = max(1, int(max_connections))
        self.transport_name = transport if isinstance(transport, str) else type(transport).__name__
        self._given_transport = None if isinstance(transport, str) else transport
        self.body_limit = body_limit
        self.keepalive_expiry = keepalive_expiry
        self.verify = verify
        self.sleep: Callable[[float], Awaitable[Any]] = sleep or asyncio.sleep
        self.random = rng or random.Random()
        self.tokens = OAuth2TokenCache(margin=token_margin)
        self._session: aiohttp.ClientSession | None = None
        self._pool: Http1Pool | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self._httpx_client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the pool ---------------------------------------------------------------------------

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                logger.debug("the event loop changed: a new HTTP connection pool is made")
            self._session = None
            self._pool = None
            self._transport = None
            self._httpx_client = None
            self.tokens.new_loop()
            self._loop = loop

    @property
    def pool(self) -> Http1Pool:
        """The HTTP/1.1 connection pool of the running loop (made on first use)."""
        self._check_loop()
        if self._pool is None:
            self._pool = Http1Pool(
                max_connections=self.max_connections,
                keepalive_expiry=self.keepalive_expiry,
                # None: the verifying context, made at the first https connection (loading the
                # CAs takes a tenth of a second: no plain-http workflow should wait for it)
                ssl_context=None if self.verify else unverified_ssl_context(),
            )
        return self._pool

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled aiohttp session of the running loop (made on first use)."""
        import aiohttp

        self._check_loop()
        if self._session is None or self._session.closed:
            ssl_arg: Any = default_ssl_context() if self.verify else False
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections,
                    limit_per_host=0,
                    keepalive_timeout=self.keepalive_expiry,
                    ssl=ssl_arg,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The httpx transport of the running loop: the given one, httpcore's, or an AiohttpTransport
        on this client's aiohttp pool."""
        self._check_loop()
        if self._transport is None:
            if self._given_transport is not None:
                self._transport = self._given_transport
            elif self.transport_name == "httpcore":
                limits = httpx.Limits(
                    max_connections=self.max_connections,
                    max_keepalive_connections=self.max_connections,
                    keepalive_expiry=self.keepalive_expiry,
                )
                verify = default_ssl_context() if self.verify is True else self.verify
                self._transport = httpx.AsyncHTTPTransport(limits=limits, verify=verify)
            elif self.transport_name in ("aiohttp", "httpx-aiohttp"):
                self._transport = AiohttpTransport(session=lambda: self.session)
            else:
                self._transport = Http1Transport(pool=lambda: self.pool)
        return self._transport

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """An httpx.AsyncClient sharing this client's pool (for callers wanting the full httpx API)."""
        transport = self.transport
        if self._httpx_client is None:
            self._httpx_client = httpx.AsyncClient(
                transport=transport, headers={"User-Agent": USER_AGENT}, follow_redirects=True
            )
        return self._httpx_client

    async def aclose(self) -> None:
        """Close the pool (its connections); the client makes a new one if used again."""
        same_loop = self._loop is not None and self._loop is asyncio.get_running_loop()
        session, pool, transport = self._session, self._pool, self._transport
        self._session = self._pool = self._transport = self._httpx_client = None
        self._loop = None
        if not same_loop:
            return
        if transport is not None and not isinstance(transport, AiohttpTransport | Http1Transport):
            await transport.aclose()
        if pool is not None:
            await pool.aclose()
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sending ----------------------------------------------------------------------------

    async def send(
        self,
        request: HttpRequest,
        *,
        timeout: float | None = None,
        redactor: Redactor | None = None,
    ) -> HttpResponse:
        """One attempt: apply the request's auth, send, follow redirects, read the whole body.

        Raises HttpCallError (ConnectionFailedError, RequestTimedOutError, or a plain one for an
        unusable URL or a failed OAuth2 token request); any status is returned, not raised. With
        OAuth2, a 401 answered to a cached token refreshes the token and sends once more.
        """
        self._check_loop()  # before any token lock is taken: a new loop replaces them
        seconds = timeout if timeout is not None else request.timeout
        redactor = redactor or Redactor()
        if not request.auth:
            return await self._send_once(request, seconds, redactor, None, None)
        from ..auth import apply_auth, auth_type

        if auth_type(request.auth) == "none":
            return await self._send_once(request, seconds, redactor, None, None)
        deadline = time.monotonic() + seconds
        applied = await self._timed(
            apply_auth(request.auth, self, timeout=seconds, redactor=redactor), request, seconds, redactor
        )
        remaining = max(deadline - time.monotonic(), 0.001)
        response = await self._send_once(request, remaining, redactor, applied.headers, applied.query)
        if (
            response.status == 401
            and applied.kind == "oauth2_client_credentials"
            and applied.token_from_cache
        ):
            token = applied.headers["Authorization"].split(" ", 1)[-1]
            self.tokens.invalidate(request.auth, token)
            remaining = max(deadline - time.monotonic(), 0.001)
            applied = await self._timed(
                apply_auth(request.auth, self, timeout=remaining, redactor=redactor),
                request,
                remaining,
                redactor,
            )
            remaining = max(deadline - time.monotonic(), 0.001)
            response = await self._send_once(request, remaining, redactor, applied.headers, applied.query)
            response.token_refreshed = True
        return response

    async def _timed(
        self, awaitable: Awaitable[Any], request: HttpRequest, seconds: float, redactor: Redactor
    ) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await awaitable
        except TimeoutError:
            raise _timed_out(request, seconds, redactor) from None

    async def _send_once(
        self,
        request: HttpRequest,
        seconds: float,
        redactor: Redactor,
        auth_headers: dict[str, str] | None,
        auth_query: dict[str, str] | None,
    ) -> HttpResponse:
        if self._given_transport is not None or self.transport_name in _HTTPX_TRANSPORTS:
            return await self._send_httpx(request, seconds, redactor, auth_headers, auth_query)
        if self.transport_name == "aiohttp":
            return await self._send_aiohttp(request, seconds, redactor, auth_headers, auth_query)
        pool = self.pool
        started = time.perf_counter()
        url, headers, body, target = _prepared(request, auth_headers, auth_query, redactor)
        method = request.method
        redirected = False
        try:
            async with asyncio.timeout(seconds):
                raw = await pool.request(method, target, headers, body)
                redirects = 0
                while request.follow_redirects and raw.status in REDIRECT_STATUSES:
                    location = _header(raw.headers, "location")
                    if location is None:
                        break
                    if redirects >= MAX_REDIRECTS:
                        where = f"{request.method} {redactor.url(request.url)}"
                        raise HttpCallError(f"{where} redirected more than {MAX_REDIRECTS} times")
                    method, target, headers, body = follow_redirect(
                        method, target, headers, body, raw.status, location
                    )
                    redirects += 1
                    redirected = True
                    raw = await pool.request(method, target, headers, body)
        except TimeoutError:
            raise _timed_out(request, seconds, redactor) from None
        except HttpCallError:
            raise
        except (OSError, ValueError) as exc:
            raise classify_transport_error(exc, request.method, redactor.url(request.url)) from None
        return HttpResponse(
            status=raw.status,
            reason=raw.reason,
            headers=_header_dict(raw.headers),
            body=raw.body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            url=redactor.url(str(target) if redirected else url),
            method=method,
        )

    async def _send_aiohttp(
        self,
        request: HttpRequest,
        seconds: float,
        redactor: Redactor,
        auth_headers: dict[str, str] | None,
        auth_query: dict[str, str] | None,
    ) -> HttpResponse:
        import aiohttp

        session = self.session
        started = time.perf_counter()
        url, headers, body, target = _prepared(request, auth_headers, auth_query, redactor)
        try:
            async with asyncio.timeout(seconds):
                async with session.request(
                    request.method,
                    target,
                    headers=headers,
                    data=body,
                    allow_redirects=request.follow_redirects,
                    max_redirects=MAX_REDIRECTS,
                ) as raw:
                    content = await raw.read()
        except TimeoutError:
            raise _timed_out(request, seconds, redactor) from None
        except aiohttp.TooManyRedirects:
            where = f"{request.method} {redactor.url(request.url)}"
            raise HttpCallError(f"{where} redirected more than {MAX_REDIRECTS} times") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise classify_transport_error(exc, request.method, redactor.url(request.url)) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        return HttpResponse(
            status=raw.status,
            reason=raw.reason or "",
            headers=_header_dict(raw.headers.items()),
            body=content,
            elapsed_ms=elapsed_ms,
            url=redactor.url(str(raw.url)),
            method=request.method,
        )

    async def _send_httpx(
        self,
        request: HttpRequest,
        seconds: float,
        redactor: Redactor,
        auth_headers: dict[str, str] | None,
        auth_query: dict[str, str] | None,
    ) -> HttpResponse:
        transport = self.transport
        started = time.perf_counter()
        try:
            url, headers, body = _prepare(request, auth_headers, auth_query)
            extensions = {"timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}}
            outgoing = httpx.Request(
                request.method, _parse_url(url), headers=headers, content=body, extensions=extensions
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
            where = f"{request.method} {redactor.url(request.url)}"
            raise HttpCallError(f"{where} could not be sent: {redactor.scrub(str(exc))}") from None
        try:
            async with asyncio.timeout(seconds):
                raw = await transport.handle_async_request(outgoing)
                await raw.aread()
                redirects = 0
                while (
                    request.follow_redirects
                    and raw.status_code in REDIRECT_STATUSES
                    and "location" in raw.headers
                ):
                    if redirects >= MAX_REDIRECTS:
                        raise HttpCallError(
                            f"{request.method} {redactor.url(request.url)} redirected more than {MAX_REDIRECTS} times"
                        )
                    await raw.aclose()
                    outgoing = _redirect(outgoing, raw)
                    redirects += 1
                    raw = await transport.handle_async_request(outgoing)
                    await raw.aread()
                await raw.aclose()
        except TimeoutError:
            raise _timed_out(request, seconds, redactor) from None
        except HttpCallError:
            raise
        except (httpx.HTTPError, httpx.InvalidURL, aiohttp_error("ClientError"), OSError) as exc:
            raise classify_transport_error(exc, request.method, redactor.url(request.url)) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        return HttpResponse(
            status=raw.status_code,
            reason=raw.reason_phrase,
            headers=dict(raw.headers.items()),
            body=raw.content,
            elapsed_ms=elapsed_ms,
            url=redactor.url(str(outgoing.url)),
            method=request.method,
        )


def _timed_out(request: HttpRequest, seconds: float, redactor: Redactor) -> RequestTimedOutError:
    return RequestTimedOutError(f"{request.method} {redactor.url(request.url)} timed out after {seconds:g} s")


def _prepared(
    request: HttpRequest,
    auth_headers: dict[str, str] | None,
    auth_query: dict[str, str] | None,
    redactor: Redactor,
) -> tuple[str, dict[str, str], bytes | None, yarl.URL]:
    """`_prepare` and the parsed URL, or one sentence saying why the request cannot be sent."""
    try:
        url, headers, body = _prepare(request, auth_headers, auth_query)
        return url, headers, body, _parse_yarl(url)
    except (ValueError, TypeError) as exc:
        where = f"{request.method} {redactor.url(request.url)}"
        raise HttpCallError(f"{where} could not be sent: {redactor.scrub(str(exc))}") from None


def _prepare(
    request: HttpRequest, auth_headers: dict[str, str] | None, auth_query: dict[str, str] | None
) -> tuple[str, dict[str, str], bytes | None]:
    """The URL (with the query), headers and body bytes of one request, auth included."""
    query = {**request.query, **auth_query} if auth_query else request.query
    url = _with_query(request.url, query) if query else request.url
    headers = {"User-Agent": USER_AGENT, **DEFAULT_HEADERS}
    for name, value in request.headers.items():
        _set_header(headers, name, value)
    if auth_headers:
        for name, value in auth_headers.items():
            _set_header(headers, name, value)
    body: bytes | None = None
    content_type: str | None = None
    if request.form is not None:
        body = urlencode(_pairs(request.form)).encode()
        content_type = "application/x-www-form-urlencoded"
    elif request.content is not None:
        body = request.content
    elif request.json is not None:
        body = json.dumps(request.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        content_type = "application/json"
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    return url, headers, body


def _pairs(values: dict[str, Any]) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, list | tuple):
            pairs.extend((name, v) for v in value)
        else:
            pairs.append((name, value))
    return pairs


@lru_cache(maxsize=512)
def _parse_yarl(url: str) -> yarl.URL:
    """Parsed URLs are cached: a workflow calls the same few URLs many times."""
    target = yarl.URL(url)
    if target.scheme not in ("http", "https") or not target.host:
        raise ValueError("the URL is not an absolute http(s) URL")
    return target


@lru_cache(maxsize=512)
def _parse_url(url: str) -> httpx.URL:
    """Parsed URLs are cached: a workflow calls the same few URLs many times."""
    return httpx.URL(url)


def _with_query(url: str, query: dict[str, Any]) -> str:
    """The url with the query parameters appended (lists repeat the key); its own query is kept."""
    encoded = urlencode(_pairs(query), quote_via=quote)
    base, _, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{encoded}" if not base.endswith("?") else base + encoded
    return f"{joined}#{fragment}" if fragment else joined


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set a header replacing any spelling of the same name (header names ignore case)."""
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid header name")
    if "\r" in value or "\n" in value:
        raise ValueError(f"the value of header {name!r} has a line break")
    lower = name.lower()
    for existing in [k for k in headers if k.lower() == lower]:
        del headers[existing]
    headers[name] = value


def _header(pairs: list[tuple[str, str]], name: str) -> str | None:
    """The last value of header `name` (lower case) among (name, value) pairs, or None."""
    found = None
    for key, value in pairs:
        if key.lower() == name:
            found = value
    return found


def _header_dict(pairs: Any) -> dict[str, str]:
    """Headers as the engine keeps them: lower-case names, repeated ones joined with ", "."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")


def follow_redirect(
    method: str, url: yarl.URL, headers: dict[str, str], body: bytes | None, status: int, location: str
) -> tuple[str, yarl.URL, dict[str, str], bytes | None]:
    """The request that follows a redirect: like browsers and httpx, 303 (and 301/302 after a POST)
    become GET without a body; 307/308 keep method and body; the Authorization header is not sent
    to another origin."""
    target = url.join(yarl.URL(location))
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        new_method = "GET"
    else:
        new_method = method
    kept: dict[str, str] = {}
    other_origin = (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port)
    keep_body = new_method == method and method != "GET"
    for name, value in headers.items():
        lower = name.lower()
        if lower == "host" or (lower == "authorization" and other_origin):
            continue
        if not keep_body and lower in _BODY_HEADERS:
            continue
        kept[name] = value
    return new_method, target, kept, body if keep_body else None


def _redirect(previous: httpx.Request, response: httpx.Response) -> httpx.Request:
    """`follow_redirect` for httpx's types."""
    method, url, headers, content = follow_redirect(
        previous.method,
        yarl.URL(str(previous.url), encoded=True),
        dict(previous.headers.items()),
        previous.content,
        response.status_code,
        response.headers["location"],
    )
    return httpx.Request(method, str(url), headers=headers, content=content, extensions=previous.extensions)
