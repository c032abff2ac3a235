"""The engine's pooled async HTTP client (one per engine): fast under concurrency, honest errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx
import yarl

from flowdesk.domain.errors import FlowdeskError

from .body import BODY_EXTENSION, BODY_LIMIT_EXTENSION, BODY_SINK_EXTENSION, Body, BodyError, read_body
from .body_file import BodyFile, BodyFileError
from .cookies import RunCookies, response_cookies, set_cookie_values
from .errors import (
    HttpCallError,
    NonHttpRedirectError,
    RequestTimedOutError,
    aiohttp_error,
    classify_transport_error,
)
from .http1 import IDEMPOTENT_METHODS, MAX_HEADER_BYTES, MAX_HEADER_LINES, Http1Pool, check_header_cap
from .library import LibraryClients
from .multipart import new_boundary
from .redaction import Redactor
from .request import HttpRequest
from .response import DEFAULT_BODY_LIMIT, HttpResponse
from .settings import ProxyVariables, effective_proxy
from .tls import default_ssl_context, unverified_ssl_context
from .transport import AiohttpTransport, Http1Transport, aiohttp_header_cap
from .transport_rule import LIBRARY, Route, choose_route

if TYPE_CHECKING:
    import aiohttp  # imported where used: the default transport never loads it

logger = logging.getLogger(__name__)

TRANSPORTS = ("http1", "httpx", "aiohttp", "httpx-aiohttp", "httpcore")
_HTTPX_TRANSPORTS = frozenset({"httpx", "httpx-aiohttp", "httpcore"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate, br, zstd"}
DEFAULT_MAX_CONNECTIONS = 100
USER_AGENT = "flowdesk/0.1"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        logger.warning("%s must be a whole number, got %r: %d is used", name, value, default)
        return default


@dataclass(slots=True)
class Attempt:
    """One attempt at a request, as the four transports take it; built once in `_send_once`.

    The request, its time budget (`seconds`), the redactor its errors are worded with, what the auth
    added (`auth_headers`, `auth_query`), the run's cookie jar, the body limit and the file the body
    is saved to. Nothing assigns to it once built; it is not `frozen` because a frozen dataclass's
    `__init__` costs about four times as much (2 µs against 0.5 µs), on every request.
    """

    request: HttpRequest
    seconds: float
    redactor: Redactor
    auth_headers: dict[str, str] | None
    auth_query: dict[str, str] | None
    cookies: RunCookies | None
    limit: int | None
    sink: BodyFile | None

    @property
    def where_url(self) -> str:
        """The request's URL as errors show it (secrets redacted)."""
        return self.redactor.url(self.request.url)

    def prepare(self) -> tuple[str, dict[str, str], bytes | None]:
        """The URL (with the query), headers and body bytes, auth included (`_prepare`)."""
        return _prepare(self.request, self.auth_headers, self.auth_query)

    def prepared(self) -> tuple[str, dict[str, str], bytes | None, yarl.URL]:
        """`prepare()` and the parsed URL, or one sentence saying why the request cannot be sent."""
        try:
            url, headers, body = _prepare(self.request, self.auth_headers, self.auth_query)
            return url, headers, body, _parse_yarl(url)
        except (ValueError, TypeError) as exc:
            raise self.not_sendable(exc) from None

    def not_sendable(self, exc: Exception) -> HttpCallError:
        where = f"{self.request.method} {self.where_url}"
        return HttpCallError(f"{where} could not be sent: {self.redactor.scrub(str(exc))}")

    def timed_out(self) -> RequestTimedOutError:
        return _timed_out(self.request, self.seconds, self.redactor)

    def too_many_redirects(self) -> HttpCallError:
        return _too_many_redirects(self.request.method, self.where_url)

    def transport_error(self, exc: BaseException) -> HttpCallError:
        """What the transport raised, as one of the engine's connection errors (errors.py)."""
        return classify_transport_error(exc, self.request.method, self.where_url)


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
    `max_header_lines` / `max_header_bytes` cap an answer's headers (default 200 lines, 64 KB, or
    $FLOWDESK_MAX_HEADER_LINES / $FLOWDESK_MAX_HEADER_BYTES).
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
        max_header_lines: int | None = None,
        max_header_bytes: int | None = None,
    ) -> None:
        from ..auth import OAuth2TokenCache
        from ..authorization_code import UserTokens

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
        self.user_tokens = UserTokens()
        """Signed-in users' tokens (OAuth2 authorization code); its `store` is set by the executor."""
        self.max_header_lines = max_header_lines or _env_int("FLOWDESK_MAX_HEADER_LINES", MAX_HEADER_LINES)
        self.max_header_bytes = max_header_bytes or _env_int("FLOWDESK_MAX_HEADER_BYTES", MAX_HEADER_BYTES)
        self._session: aiohttp.ClientSession | None = None
        self._pool: Http1Pool | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self._httpx_client: httpx.AsyncClient | None = None
        self._library: LibraryClients | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.proxy_variables = ProxyVariables.read()
        """HTTP_PROXY / HTTPS_PROXY / NO_PROXY as they were when the client was made."""

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
            self._library = None
            self.tokens.new_loop()
            self.user_tokens.new_loop()
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
                max_header_lines=self.max_header_lines,
                max_header_bytes=self.max_header_bytes,
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
                auto_decompress=False,  # bodies are decoded by body.py, under the body limit
                max_headers=self.max_header_lines,
                max_field_size=self.max_header_bytes,
                max_line_size=self.max_header_bytes,
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
                self._transport = AiohttpTransport(
                    session=lambda: self.session,
                    max_header_lines=self.max_header_lines,
                    max_header_bytes=self.max_header_bytes,
                )
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

    @property
    def library(self) -> LibraryClients:
        """The httpx clients of the library path in the running loop (made on first use)."""
        self._check_loop()
        if self._library is None:
            self._library = LibraryClients(
                max_connections=self.max_connections,
                keepalive_expiry=self.keepalive_expiry,
                verify=self.verify,
            )
        return self._library

    def route(self, request: HttpRequest, *, cookies: RunCookies | None = None) -> Route:
        """The path `request` takes (the transport rule, transport_rule.choose_route)."""
        proxy = effective_proxy(request.settings, request.url, self.proxy_variables)
        return choose_route(
            request,
            proxy,
            client_verify=self.verify,
            pool_keeps_cookies=self.transport_name != "aiohttp" or self._given_transport is not None,
            cookies=cookies is not None and len(cookies) > 0,
        )

    async def aclose(self) -> None:
        """Close the pool (its connections); the client makes a new one if used again."""
        same_loop = self._loop is not None and self._loop is asyncio.get_running_loop()
        session, pool, transport = self._session, self._pool, self._transport
        library = self._library
        self._session = self._pool = self._transport = self._httpx_client = None
        self._library = None
        self._loop = None
        if not same_loop:
            return
        if library is not None:
            await library.aclose()
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
        cookies: RunCookies | None = None,
    ) -> HttpResponse:
        """One attempt: apply the request's auth, send, follow redirects, read the whole body.

        Raises HttpCallError (ConnectionFailedError, RequestTimedOutError, or a plain one for an
        unusable URL or a failed OAuth2 token request); any status is returned, not raised. With
        OAuth2, a 401 answered to a cached token refreshes the token and sends once more.
        `cookies` is the run's jar: its cookies go out, and what responses set (redirects too) is kept.
        """
        self._check_loop()  # before any token lock is taken: a new loop replaces them
        seconds = timeout if timeout is not None else request.timeout
        redactor = redactor or Redactor()
        if request.url_auth is not None and not request.auth:
            request.auth = request.url_auth
            redactor.add_values([request.url_auth.get("password")])
        if not request.auth:
            return await self._send_once(request, seconds, redactor, None, None, cookies)
        from ..auth import apply_auth, auth_type

        if auth_type(request.auth) == "none":
            return await self._send_once(request, seconds, redactor, None, None, cookies)
        deadline = time.monotonic() + seconds
        applied = await self._timed(
            apply_auth(request.auth, self, timeout=seconds, redactor=redactor, settings=request.settings),
            request,
            seconds,
            redactor,
        )
        remaining = max(deadline - time.monotonic(), 0.001)
        response = await self._send_once(
            request, remaining, redactor, applied.headers, applied.query, cookies
        )
        if (
            response.status == 401
            and applied.kind in ("oauth2_client_credentials", "oauth2_authorization_code")
            and applied.token_from_cache
        ):
            response.discard_file()
            token = applied.headers["Authorization"].split(" ", 1)[-1]
            self.tokens.invalidate(request.auth, token)
            remaining = max(deadline - time.monotonic(), 0.001)
            applied = await self._timed(
                apply_auth(
                    request.auth,
                    self,
                    timeout=remaining,
                    redactor=redactor,
                    settings=request.settings,
                    rejected=token,
                ),
                request,
                remaining,
                redactor,
            )
            remaining = max(deadline - time.monotonic(), 0.001)
            response = await self._send_once(
                request, remaining, redactor, applied.headers, applied.query, cookies
            )
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
        cookies: RunCookies | None = None,
    ) -> HttpResponse:
        route = self.route(request, cookies=cookies)
        limit = request.body_limit if request.body_limit is not None else self.body_limit
        sink = None
        if request.save_to is not None:
            try:
                sink = BodyFile(request.save_to)
            except BodyFileError as exc:
                where = f"{request.method} {redactor.url(request.url)}"
                raise HttpCallError(f"{where} was not sent: {redactor.scrub(str(exc))}") from None
        attempt = Attempt(request, seconds, redactor, auth_headers, auth_query, cookies, limit, sink)
        try:
            if route.path == LIBRARY:
                response = await self._send_library(attempt, route)
            elif self._given_transport is not None or self.transport_name in _HTTPX_TRANSPORTS:
                response = await self._send_httpx(attempt)
            elif self.transport_name == "aiohttp":
                response = await self._send_aiohttp(attempt)
            else:
                response = await self._send_http1(attempt)
        except BaseException:
            if sink is not None:
                sink.discard()
            raise
        response.body_file = sink
        return response

    async def _send_http1(self, attempt: Attempt) -> HttpResponse:
        pool = self.pool
        started = time.perf_counter()
        url, headers, body, target = attempt.prepared()
        request, cookies, limit, sink = attempt.request, attempt.cookies, attempt.limit, attempt.sink
        method = request.method
        redirected = False
        kept: dict[str, str] = {}
        try:
            async with asyncio.timeout(attempt.seconds):
                raw = await pool.request(
                    method, target, _with_cookies(headers, cookies, target), body, body_limit=limit, sink=sink
                )
                _keep_cookies(raw.headers, target, cookies, kept)
                redirects = 0
                while request.follow_redirects and raw.status in REDIRECT_STATUSES:
                    location = _header(raw.headers, "location")
                    if location is None:
                        break
                    if redirects >= MAX_REDIRECTS:
                        raise attempt.too_many_redirects()
                    method, target, headers, body = follow_redirect(
                        method, target, headers, body, raw.status, location
                    )
                    redirects += 1
                    redirected = True
                    raw = await pool.request(
                        method,
                        target,
                        _with_cookies(headers, cookies, target),
                        body,
                        body_limit=limit,
                        sink=sink,
                    )
                    _keep_cookies(raw.headers, target, cookies, kept)
        except TimeoutError:
            raise attempt.timed_out() from None
        except HttpCallError:
            raise
        except (OSError, ValueError) as exc:
            raise attempt.transport_error(exc) from None
        return HttpResponse(
            status=raw.status,
            reason=raw.reason,
            headers=_header_dict(raw.headers),
            body=raw.body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            url=attempt.redactor.url(str(target) if redirected else url),
            method=method,
            cookies=kept,
            truncated=raw.truncated,
            size=raw.size,
        )

    async def _send_aiohttp(self, attempt: Attempt) -> HttpResponse:
        """Through a pooled aiohttp session (transport="aiohttp"), which keeps its own cookies."""
        import aiohttp

        session = self.session
        started = time.perf_counter()
        _url, headers, body, target = attempt.prepared()
        request = attempt.request
        try:
            async with asyncio.timeout(attempt.seconds):
                async with session.request(
                    request.method,
                    target,
                    headers=headers,
                    data=body,
                    allow_redirects=request.follow_redirects,
                    max_redirects=MAX_REDIRECTS,
                ) as raw:
                    check_header_cap(raw.raw_headers, self.max_header_lines, self.max_header_bytes)
                    content, whole = await read_body(
                        raw.content.iter_any(),
                        raw.headers.items(),
                        limit=attempt.limit,
                        sink=attempt.sink,
                        expected=raw.content_length,
                    )
                    if not whole:
                        raw.close()  # cut at the limit with a long rest: the connection goes
        except TimeoutError:
            raise attempt.timed_out() from None
        except aiohttp.TooManyRedirects:
            raise attempt.too_many_redirects() from None
        except aiohttp.ClientResponseError as exc:
            error: Exception = aiohttp_header_cap(exc, self.max_header_lines, self.max_header_bytes) or exc
            raise attempt.transport_error(error) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise attempt.transport_error(exc) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        return HttpResponse(
            status=raw.status,
            reason=raw.reason or "",
            headers=_header_dict(raw.headers.items()),
            body=content.content,
            elapsed_ms=elapsed_ms,
            url=attempt.redactor.url(str(raw.url)),
            method=request.method,
            truncated=content.truncated,
            size=content.size,
        )

    async def _send_httpx(self, attempt: Attempt) -> HttpResponse:
        transport = self.transport
        started = time.perf_counter()
        request, seconds, cookies = attempt.request, attempt.seconds, attempt.cookies
        limit, sink = attempt.limit, attempt.sink
        kept: dict[str, str] = {}
        try:
            url, headers, body = attempt.prepare()
            if cookies is not None and len(cookies):
                headers = _with_cookies(headers, cookies, url)
            extensions: dict[str, Any] = {
                "timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds},
                BODY_LIMIT_EXTENSION: limit,
                BODY_SINK_EXTENSION: sink,
            }
            outgoing = httpx.Request(
                request.method, _parse_url(url), headers=headers, content=body, extensions=extensions
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
            raise attempt.not_sendable(exc) from None
        try:
            async with asyncio.timeout(seconds):
                raw = await transport.handle_async_request(outgoing)
                content = await self._read_httpx_body(raw, limit, sink)
                _keep_cookies(raw.headers.multi_items(), outgoing.url, cookies, kept)
                redirects = 0
                while (
                    request.follow_redirects
                    and raw.status_code in REDIRECT_STATUSES
                    and "location" in raw.headers
                ):
                    if redirects >= MAX_REDIRECTS:
                        raise attempt.too_many_redirects()
                    await raw.aclose()
                    outgoing = _redirect(outgoing, raw, cookies)
                    redirects += 1
                    raw = await transport.handle_async_request(outgoing)
                    content = await self._read_httpx_body(raw, limit, sink)
                    _keep_cookies(raw.headers.multi_items(), outgoing.url, cookies, kept)
                await raw.aclose()
        except TimeoutError:
            raise attempt.timed_out() from None
        except HttpCallError:
            raise
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            aiohttp_error("ClientError"),
            OSError,
            NonHttpRedirectError,
            BodyError,
        ) as exc:
            raise attempt.transport_error(exc) from None
        return _httpx_response(
            raw, content, started, attempt.redactor.url(str(outgoing.url)), request.method, kept
        )

    async def _send_library(self, attempt: Attempt, route: Route) -> HttpResponse:
        """Through httpx (library.py): proxies, HTTP/2, client certificates, CA bundles, Digest,
        multipart. Redirects and cookies follow the same rules as on the pool."""
        request, redactor, cookies = attempt.request, attempt.redactor, attempt.cookies
        limit, sink = attempt.limit, attempt.sink
        where_url = attempt.where_url
        if route.proxy is not None:
            redactor.add_values([_proxy_password(route.proxy)])
            where_url = f"{where_url} (through the proxy {redactor.url(route.proxy)})"
        try:
            client = self.library.client_for(request.settings, route.proxy)
        except FlowdeskError as exc:
            raise HttpCallError(f"{request.method} {where_url} was not sent: {exc.message}") from None
        started = time.perf_counter()
        _url, headers, body, target = attempt.prepared()
        method = request.method
        multipart = request.multipart
        digest = _digest_auth(request.auth)
        first_origin = _origin(target)
        kept: dict[str, str] = {}
        try:
            async with asyncio.timeout(attempt.seconds):
                redirects = 0
                while True:
                    hop_headers = _with_cookies(headers, cookies, target)
                    if multipart is not None:
                        boundary = new_boundary()
                        hop_headers = {
                            **hop_headers,
                            "Content-Type": multipart.content_type(boundary),
                            "Content-Length": str(multipart.length(boundary)),
                        }
                        outgoing = client.build_request(
                            method, str(target), headers=hop_headers, content=multipart.stream(boundary)
                        )
                    else:
                        outgoing = client.build_request(
                            method, str(target), headers=hop_headers, content=body
                        )
                    auth = digest if digest is not None and _origin(target) == first_origin else None
                    raw, content = await _library_exchange(
                        client,
                        outgoing,
                        auth,
                        multipart is None,
                        lambda r: self._read_httpx_body(r, limit, sink),
                    )
                    _keep_cookies(raw.headers.multi_items(), target, cookies, kept)
                    location = raw.headers.get("location")
                    if not (request.follow_redirects and raw.status_code in REDIRECT_STATUSES and location):
                        break
                    if redirects >= MAX_REDIRECTS:
                        raise _too_many_redirects(request.method, where_url)
                    previous = method
                    method, target, headers, body = follow_redirect(
                        method, target, headers, body, raw.status_code, location
                    )
                    if method != previous or method == "GET":
                        multipart = None
                    redirects += 1
        except TimeoutError:
            raise attempt.timed_out() from None
        except HttpCallError:
            raise
        except FlowdeskError as exc:  # a multipart file that vanished since the request was built
            raise HttpCallError(f"{request.method} {where_url} was not sent: {exc.message}") from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError, BodyError) as exc:
            raise classify_transport_error(exc, request.method, where_url) from None
        return _httpx_response(
            raw, content, started, redactor.url(str(target)), method, kept, http_version=raw.http_version
        )

    async def _read_httpx_body(self, raw: httpx.Response, limit: int | None, sink: BodyFile | None) -> Body:
        """The body of an httpx response: as a flowdesk transport read it, else read from its raw
        stream through body.py (decoded, bounded; a stream stopped early is closed). The header cap
        is checked here too, for transports that are not flowdesk's (httpcore, the library path)."""
        body = raw.extensions.get(BODY_EXTENSION)
        if isinstance(body, Body):
            return body
        try:
            check_header_cap(raw.headers.raw, self.max_header_lines, self.max_header_bytes)
            body, whole = await read_body(
                raw.aiter_raw(),
                raw.headers.multi_items(),
                limit=limit,
                sink=sink,
                expected=_length(raw.headers),
            )
        except BaseException:
            await raw.aclose()
            raise
        if not whole:
            await raw.aclose()
        return body


def _length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _httpx_response(
    raw: httpx.Response,
    content: Body,
    started: float,
    url: str,
    method: str,
    cookies: dict[str, str],
    *,
    http_version: str = "HTTP/1.1",
) -> HttpResponse:
    """The HttpResponse of an httpx exchange (the pool's httpx types and the library path)."""
    return HttpResponse(
        status=raw.status_code,
        reason=raw.reason_phrase,
        headers=dict(raw.headers.items()),
        body=content.content,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        url=url,
        method=method,
        cookies=cookies,
        http_version=http_version,
        truncated=content.truncated,
        size=content.size,
    )


def _too_many_redirects(method: str, where_url: str) -> HttpCallError:
    return HttpCallError(f"{method} {where_url} redirected more than {MAX_REDIRECTS} times")


def _timed_out(request: HttpRequest, seconds: float, redactor: Redactor) -> RequestTimedOutError:
    return RequestTimedOutError(f"{request.method} {redactor.url(request.url)} timed out after {seconds:g} s")


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
    if request.auth and str(request.auth.get("type") or "").lower().replace("-", "_") == "aws_sigv4":
        from ..aws_signing import sigv4_headers

        headers.update(sigv4_headers(request.auth, request.method, url, headers, body))
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
_ORIGIN_HEADERS = ("authorization", "cookie")
"""Headers never sent on to another origin by a redirect."""


def follow_redirect(
    method: str, url: yarl.URL, headers: dict[str, str], body: bytes | None, status: int, location: str
) -> tuple[str, yarl.URL, dict[str, str], bytes | None]:
    """The request that follows a redirect: like browsers and httpx, 303 (and 301/302 after a POST)
    become GET without a body; 307/308 keep method and body; the Authorization and Cookie headers
    are not sent to another origin (as curl, httpx and aiohttp do). A redirect to anything but
    http(s) raises NonHttpRedirectError."""
    target = url.join(yarl.URL(location))
    if target.scheme not in ("http", "https"):
        raise NonHttpRedirectError(target.scheme or location)
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        new_method = "GET"
    else:
        new_method = method
    kept: dict[str, str] = {}
    other_origin = (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port)
    keep_body = new_method == method and method != "GET"
    for name, value in headers.items():
        lower = name.lower()
        if lower == "host" or (other_origin and lower in _ORIGIN_HEADERS):
            continue
        if not keep_body and lower in _BODY_HEADERS:
            continue
        kept[name] = value
    return new_method, target, kept, body if keep_body else None


def _redirect(
    previous: httpx.Request, response: httpx.Response, cookies: RunCookies | None = None
) -> httpx.Request:
    """`follow_redirect` for httpx's types."""
    headers = dict(previous.headers.items())
    if cookies is not None and len(cookies):
        headers.pop("cookie", None)  # the jar's cookies are chosen again for the new URL
    method, url, headers, content = follow_redirect(
        previous.method,
        yarl.URL(str(previous.url), encoded=True),
        headers,
        previous.content,
        response.status_code,
        response.headers["location"],
    )
    headers = _with_cookies(headers, cookies, url)
    return httpx.Request(method, str(url), headers=headers, content=content, extensions=previous.extensions)


async def _library_exchange(
    client: httpx.AsyncClient,
    outgoing: httpx.Request,
    auth: httpx.Auth | None,
    replayable: bool,
    read: Callable[[httpx.Response], Awaitable[Body]],
) -> tuple[httpx.Response, Body]:
    """One request and its body (read by `read`: decoded, bounded) through httpx. Like the pool, a request whose kept-alive
    connection the server (or proxy) had closed meanwhile is sent once more when nothing of an
    answer came and the method is idempotent (a streamed upload is never sent twice)."""
    for attempt in (1, 2):
        try:
            raw = await client.send(outgoing, auth=auth, stream=True)  # type: ignore[arg-type]
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if attempt == 2 or not replayable or outgoing.method not in IDEMPOTENT_METHODS:
                raise
            continue
        try:
            return raw, await read(raw)
        finally:
            await raw.aclose()
    raise AssertionError("unreachable")  # pragma: no cover


def _origin(url: yarl.URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


def _with_cookies(headers: dict[str, str], cookies: RunCookies | None, url: Any) -> dict[str, str]:
    """The headers with the jar's cookies for `url` added (after any explicit Cookie header)."""
    if cookies is None or not len(cookies):
        return headers
    jar_header = cookies.header_for(str(url))
    if not jar_header:
        return headers
    merged = dict(headers)
    explicit = next((k for k in merged if k.lower() == "cookie"), None)
    if explicit is None:
        merged["Cookie"] = jar_header
    else:
        merged[explicit] = f"{merged[explicit]}; {jar_header}"
    return merged


def _keep_cookies(pairs: Any, url: Any, cookies: RunCookies | None, kept: dict[str, str]) -> None:
    """Cookies one response set: into the run's jar (its rules decide) and into `kept`."""
    values = set_cookie_values(pairs)
    if not values:
        return
    if cookies is not None:
        cookies.extract(str(url), values)
    kept.update(response_cookies(values))


def _proxy_password(proxy: str) -> str | None:
    parsed = httpx.URL(proxy)
    return parsed.password or None


def _digest_auth(auth: dict[str, Any] | None) -> httpx.DigestAuth | None:
    if not auth or str(auth.get("type") or "").lower() != "digest":
        return None
    return httpx.DigestAuth(str(auth.get("username") or ""), str(auth.get("password") or ""))
