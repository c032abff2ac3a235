"""The engine's pooled async HTTP client: one httpx.AsyncClient on a transport fast under concurrency."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import httpx

from .errors import HttpCallError, RequestTimedOutError, classify_transport_error
from .redaction import Redactor
from .request import HttpRequest
from .response import DEFAULT_BODY_LIMIT, HttpResponse

logger = logging.getLogger(__name__)

TRANSPORTS = ("aiohttp", "httpcore")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 20
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
DEFAULT_MAX_CONNECTIONS = 100
USER_AGENT = "flowdesk/0.1"


class HttpClient:
    """The engine's HTTP client: one pooled transport per engine, made lazily in the running loop.

    Requests and responses are httpx's (`httpx.Request` / `httpx.Response` through an
    `httpx.AsyncBaseTransport`). `transport` is "aiohttp" (flowdesk's AiohttpTransport, the default:
    it keeps its speed under concurrency) or "httpcore" (httpx's own). Each request goes straight
    to the transport, and redirects are followed here: httpx.AsyncClient's per-request machinery
    (auth flows, cookie jar, event hooks) costs as much as the transport itself at this speed and
    the engine needs none of it (see docs/http.md). `httpx_client` is an httpx.AsyncClient on the
    same pool for code that wants the whole httpx API. `max_connections` should match the engine's
    concurrency. `sleep` and `random` are what retries wait and jitter with (tests replace them).
    `tokens` caches OAuth2 tokens for every call made through this client.
    """

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: str = "aiohttp",
        body_limit: int | None = DEFAULT_BODY_LIMIT,
        keepalive_expiry: float = 30.0,
        verify: bool = True,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        rng: random.Random | None = None,
        token_margin: float = 30.0,
    ) -> None:
        from ..auth import OAuth2TokenCache

        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}")
        self.max_connections = max(1, int(max_connections))
        self.transport_name = transport
        self.body_limit = body_limit
        self.keepalive_expiry = keepalive_expiry
        self.verify = verify
        self.sleep: Callable[[float], Awaitable[Any]] = sleep or asyncio.sleep
        self.random = rng or random.Random()
        self.tokens = OAuth2TokenCache(margin=token_margin)
        self._transport: httpx.AsyncBaseTransport | None = None
        self._httpx_client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the pool ---------------------------------------------------------------------------

    def _make_transport(self) -> httpx.AsyncBaseTransport:
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=self.keepalive_expiry,
        )
        if self.transport_name == "aiohttp":
            from .transport import AiohttpTransport

            return AiohttpTransport(limits=limits, verify=self.verify)
        from .transport import default_ssl_context

        verify = default_ssl_context() if self.verify is True else self.verify
        return httpx.AsyncHTTPTransport(limits=limits, verify=verify)

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The pooled transport of the running loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._transport is None or self._loop is not loop:
            if self._transport is not None:
                logger.debug("the event loop changed: a new HTTP connection pool is made")
            self._transport = self._make_transport()
            self._httpx_client = None
            self._loop = loop
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
        transport, self._transport = self._transport, None
        self._httpx_client = None
        if transport is not None and self._loop is asyncio.get_running_loop():
            await transport.aclose()
        self._loop = None

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
        from ..auth import apply_auth, auth_type

        seconds = timeout if timeout is not None else request.timeout
        redactor = redactor or Redactor()
        if not request.auth or auth_type(request.auth) == "none":
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
            url = redactor.url(request.url)
            raise RequestTimedOutError(f"{request.method} {url} timed out after {seconds:g} s") from None

    def _build(
        self,
        request: HttpRequest,
        seconds: float,
        auth_headers: dict[str, str] | None,
        auth_query: dict[str, str] | None,
    ) -> httpx.Request:
        url = _parse_url(request.url)
        query = {**request.query, **auth_query} if auth_query else request.query
        if query:
            url = url.copy_merge_params(query)
        headers = {"User-Agent": USER_AGENT, **DEFAULT_HEADERS}
        for name, value in request.headers.items():
            _set_header(headers, name, value)
        if auth_headers:
            for name, value in auth_headers.items():
                _set_header(headers, name, value)
        kwargs: dict[str, Any] = {}
        if request.form is not None:
            kwargs["data"] = request.form
        elif request.content is not None:
            kwargs["content"] = request.content
        elif request.json is not None:
            kwargs["json"] = request.json
        extensions = {"timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}}
        return httpx.Request(request.method, url, headers=headers, extensions=extensions, **kwargs)

    async def _send_once(
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
            outgoing = self._build(request, seconds, auth_headers, auth_query)
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
            url = redactor.url(request.url)
            raise RequestTimedOutError(f"{request.method} {url} timed out after {seconds:g} s") from None
        except HttpCallError:
            raise
        except Exception as exc:
            import aiohttp

            if isinstance(exc, httpx.HTTPError | httpx.InvalidURL | aiohttp.ClientError | OSError):
                raise classify_transport_error(exc, request.method, redactor.url(request.url)) from None
            raise
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


@lru_cache(maxsize=512)
def _parse_url(url: str) -> httpx.URL:
    """Parsed URLs are cached: a workflow calls the same few URLs many times."""
    return httpx.URL(url)


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set a header replacing any spelling of the same name (header names ignore case)."""
    lower = name.lower()
    for existing in [k for k in headers if k.lower() == lower]:
        del headers[existing]
    headers[name] = value


def _redirect(previous: httpx.Request, response: httpx.Response) -> httpx.Request:
    """The request that follows a redirect: like browsers and httpx, 303 (and 301/302 after a POST)
    become GET without a body; the Authorization header is not sent to another origin."""
    url = previous.url.join(response.headers["location"])
    method = previous.method
    if (
        response.status_code == 303
        and method != "HEAD"
        or response.status_code in (301, 302)
        and method == "POST"
    ):
        method = "GET"
    headers = httpx.Headers(previous.headers)
    if url.scheme != previous.url.scheme or url.host != previous.url.host or url.port != previous.url.port:
        headers.pop("Authorization", None)
    headers.pop("Host", None)
    content: bytes | None = None
    if method == previous.method and method != "GET":
        content = previous.content
    else:
        headers.pop("Content-Type", None)
        headers.pop("Content-Length", None)
        headers.pop("Transfer-Encoding", None)
    return httpx.Request(method, url, headers=headers, content=content, extensions=previous.extensions)
