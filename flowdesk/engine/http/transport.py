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
from functools import lru_cache
from typing import Any

import aiohttp
import httpx


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying SSL context (certifi's CAs), made once: loading the CAs takes ~0.3 s."""
    return httpx.create_ssl_context()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx transport sending through one pooled aiohttp.ClientSession (made on first use)."""

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.limits = limits or httpx.Limits(max_connections=100, keepalive_expiry=30.0)
        self.verify = verify
        self._session: aiohttp.ClientSession | None = None

    def _make_session(self) -> aiohttp.ClientSession:
        ssl_arg: Any = self.verify
        if self.verify is True:
            ssl_arg = default_ssl_context()
        elif self.verify is False:
            ssl_arg = False
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self.limits.keepalive_expiry or 15.0,
            ssl=ssl_arg,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # httpx decodes Content-Encoding, so the headers stay as sent
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._make_session()
        timeout = request.extensions.get("timeout") or {}
        body = request.content  # requests are built from bytes, JSON or forms: never a stream
        async with session.request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            data=body or None,
            allow_redirects=False,
            compress=None,
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=timeout.get("connect"),
                sock_read=timeout.get("read"),
            ),
        ) as raw:
            content = await raw.read()
            return httpx.Response(
                status_code=raw.status,
                headers=raw.raw_headers,
                content=content,
                request=request,
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": (raw.reason or "").encode()},
            )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
