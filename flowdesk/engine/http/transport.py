"""httpx transports for the engine's pools: on aiohttp, and on flowdesk's own HTTP/1.1 pool.

httpx's own transport (httpcore) slows down sharply as concurrency grows (encode/httpx#3215);
httpx-aiohttp's AiohttpTransport fixes that but streams every body through httpx's chunk
iterators and maps every aiohttp connection error to httpx.ConnectTimeout. These read the whole
body through body.py (decoded, bounded by the request's `flowdesk.body_limit` extension, the
same code as the engine's other paths) and hand it over already read, keep the original exception
as the cause, and keep httpx's Request/Response types, so the engine keeps httpx's API on whichever pool
it sends through. docs/http.md has the measurements.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import yarl

from flowdesk.library_internals import set_read_content

from .body import BODY_EXTENSION, BODY_LIMIT_EXTENSION, BODY_SINK_EXTENSION, Body, BodyError, read_body
from .http1 import (
    MAX_HEADER_BYTES,
    MAX_HEADER_LINES,
    Http1Pool,
    ProtocolError,
    ServerDisconnectedError,
    check_header_cap,
    header_cap_error,
)
from .tls import default_ssl_context, unverified_ssl_context

if TYPE_CHECKING:
    import aiohttp  # imported where used: the default transport never loads it


def aiohttp_header_cap(
    exc: aiohttp.ClientResponseError, max_lines: int, max_bytes: int
) -> ProtocolError | None:
    """aiohttp's own refusal of too many or too long header lines, said as the pool says it."""
    from aiohttp.http_exceptions import LineTooLong  # aiohttp is loaded only by its transports

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, LineTooLong) for e in chain):
        return header_cap_error(0, max_bytes + 1, max_lines, max_bytes)
    if "Too many headers" in str(exc.message):
        return header_cap_error(max_lines + 1, 0, max_lines, max_bytes)
    return None


def _decoded_response(
    status: int, headers: Any, reason: bytes, body: Body, request: httpx.Request
) -> httpx.Response:
    """An httpx response whose body is already read and decoded by body.py.

    The Content-Encoding header stays as received; setting what Response.read() would set means
    httpx never decodes a second time (and saves its chunk iterators, about 45 µs a response).
    The Body itself rides along as the `flowdesk.body` extension (truncated, size)."""
    response = httpx.Response(
        status_code=status,
        headers=headers,
        stream=httpx.ByteStream(body.content),
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason, BODY_EXTENSION: body},
    )
    set_read_content(response, body.content)
    return response


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx transport sending through a pooled aiohttp.ClientSession.

    `session` is a session, or a callable returning one (HttpClient passes its own pool's, so the
    engine has one pool whatever the API used); without it the transport makes and owns one.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: bool | ssl.SSLContext = True,
        session: aiohttp.ClientSession | Callable[[], aiohttp.ClientSession] | None = None,
        max_header_lines: int = MAX_HEADER_LINES,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        self.limits = limits or httpx.Limits(max_connections=100, keepalive_expiry=30.0)
        self.verify = verify
        self.max_header_lines = max_header_lines
        self.max_header_bytes = max_header_bytes
        self._session_source = session
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        source = self._session_source
        if isinstance(source, aiohttp.ClientSession):
            return source
        if source is not None:
            return source()
        if self._session is None or self._session.closed:
            ssl_arg: Any = self.verify
            if self.verify is True:
                ssl_arg = default_ssl_context()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.limits.max_connections or 0,
                    limit_per_host=0,
                    keepalive_timeout=self.limits.keepalive_expiry or 15.0,
                    ssl=ssl_arg,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
                timeout=aiohttp.ClientTimeout(total=None),
                max_headers=self.max_header_lines,
                max_field_size=self.max_header_bytes,
                max_line_size=self.max_header_bytes,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp

        try:
            return await self._send(request)
        except aiohttp.ClientResponseError as exc:
            error = aiohttp_header_cap(exc, self.max_header_lines, self.max_header_bytes)
            if error is None:
                raise
            raise httpx.RemoteProtocolError(str(error), request=request) from error

    async def _send(self, request: httpx.Request) -> httpx.Response:
        import aiohttp

        session = self._get_session()
        timeout = request.extensions.get("timeout") or {}
        body = request.content  # requests are built from bytes, JSON or forms: never a stream
        async with session.request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            data=body or None,
            allow_redirects=False,
            auto_decompress=False,  # body.py decodes, so the headers stay as sent
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=timeout.get("connect"),
                sock_read=timeout.get("read"),
            ),
        ) as raw:
            try:
                check_header_cap(raw.raw_headers, self.max_header_lines, self.max_header_bytes)
                read, whole = await read_body(
                    raw.content.iter_any(),
                    raw.headers.items(),
                    limit=request.extensions.get(BODY_LIMIT_EXTENSION),
                    sink=request.extensions.get(BODY_SINK_EXTENSION),
                    expected=raw.content_length,
                )
            except BodyError as exc:
                raise httpx.DecodingError(str(exc), request=request) from exc
            except ProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            if not whole:
                raw.close()  # cut at the limit with a long rest: the connection goes
        return _decoded_response(raw.status, raw.raw_headers, (raw.reason or "").encode(), read, request)

    async def aclose(self) -> None:
        """Close the session this transport made (a session it was given belongs to the giver)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class Http1Transport(httpx.AsyncBaseTransport):
    """httpx transport on flowdesk's own HTTP/1.1 pool (http1.py), for code wanting httpx's API.

    `pool` is an Http1Pool or a callable returning one (HttpClient passes its own pool's, so the
    engine keeps one pool whatever API is used); without it the transport makes and owns one.
    Connection problems come out as httpx's exceptions (the original one as the cause).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: bool | ssl.SSLContext = True,
        pool: Http1Pool | Callable[[], Http1Pool] | None = None,
    ) -> None:
        self.limits = limits or httpx.Limits(max_connections=100, keepalive_expiry=30.0)
        self.verify = verify
        self._pool_source = pool
        self._pool: Http1Pool | None = None

    def _get_pool(self) -> Http1Pool:
        source = self._pool_source
        if isinstance(source, Http1Pool):
            return source
        if source is not None:
            return source()
        if self._pool is None:
            context = self.verify if isinstance(self.verify, ssl.SSLContext) else None
            if self.verify is False:
                context = unverified_ssl_context()
            self._pool = Http1Pool(
                max_connections=self.limits.max_connections or 100,
                keepalive_expiry=self.limits.keepalive_expiry or 30.0,
                ssl_context=context,
            )
        return self._pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._get_pool()
        timeout = request.extensions.get("timeout") or {}
        seconds = max((t for t in timeout.values() if t is not None), default=None)
        url = yarl.URL(str(request.url), encoded=True)
        body = request.content or None  # requests are built from bytes, JSON or forms: never a stream
        try:
            async with asyncio.timeout(seconds):
                raw = await pool.request(
                    request.method,
                    url,
                    request.headers.multi_items(),
                    body,
                    body_limit=request.extensions.get(BODY_LIMIT_EXTENSION),
                    sink=request.extensions.get(BODY_SINK_EXTENSION),
                )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no answer within {seconds:g} s", request=request) from exc
        except BodyError as exc:
            raise httpx.DecodingError(str(exc), request=request) from exc
        except (ServerDisconnectedError, ProtocolError) as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        except ValueError as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        read = Body(raw.body, truncated=raw.truncated, size=raw.size, raw_size=raw.raw_size, saved=raw.saved)
        return _decoded_response(raw.status, raw.headers, raw.reason.encode("latin-1"), read, request)

    async def aclose(self) -> None:
        """Close the pool this transport made (a pool it was given belongs to the giver)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
