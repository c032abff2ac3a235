"""A lean httpx transport on aiohttp: whole bodies, pooled keep-alive connections, honest errors.

httpx's own transport (httpcore) slows down sharply as concurrency grows (encode/httpx#3215);
httpx-aiohttp's AiohttpTransport fixes that but streams every body through httpx's chunk
iterators and maps every aiohttp connection error to httpx.ConnectTimeout. This one reads the
whole body in one call (API responses are read whole anyway), lets the caller see the original
aiohttp exception as the cause, and keeps httpx's Request/Response types, so the engine keeps
httpx's API. docs/http.md has the measurements.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import aiohttp
import httpx


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying SSL context (certifi's CAs), made once: loading the CAs takes ~0.3 s."""
    return httpx.create_ssl_context()


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
    ) -> None:
        self.limits = limits or httpx.Limits(max_connections=100, keepalive_expiry=30.0)
        self.verify = verify
        self._session_source = session
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
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
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        timeout = request.extensions.get("timeout") or {}
        body = request.content  # requests are built from bytes, JSON or forms: never a stream
        async with session.request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            data=body or None,
            allow_redirects=False,
            auto_decompress=False,  # httpx decodes Content-Encoding, so the headers stay as sent
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=timeout.get("connect"),
                sock_read=timeout.get("read"),
            ),
        ) as raw:
            content = await raw.read()
        response = httpx.Response(
            status_code=raw.status,
            headers=raw.raw_headers,
            stream=httpx.ByteStream(content),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (raw.reason or "").encode()},
        )
        if "content-encoding" not in response.headers:
            # Nothing to decode: the bytes are the content. Setting what Response.read() would set
            # saves its chunk iterators (about 45 µs a response); aread() then returns at once.
            response._content = content
        return response

    async def aclose(self) -> None:
        """Close the session this transport made (a session it was given belongs to the giver)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
