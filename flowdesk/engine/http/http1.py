"""flowdesk's own HTTP/1.1 client connections: keep-alive pooled, on asyncio protocols and httptools.

Why it exists (docs/http.md has the figures): an API_CALL step spends most of its CPU in the HTTP
client, and a workflow engine on top of aiohttp's ClientSession could not reach half of bare
aiohttp's throughput. What API calls need is small: send a request with a whole body, read the
whole response, keep the connection for the next call. Done directly on an `asyncio.Protocol`
with the llhttp parser (httptools, the parser uvicorn uses), one exchange costs about a third of
the CPU of `ClientSession.request`.

What it does: http and https (the caller's SSL context, SNI), one exchange at a time per
connection, a pool per origin with a total connection limit (callers beyond it wait), idle
connections closed after `keepalive_expiry`, `Connection: close` and HTTP/1.0 honoured, chunked
and length-delimited and read-until-close bodies, interim 1xx answers skipped, bodies decoded and
bounded by body.py's BodyReader (gzip, deflate, br, zstd; cut at a limit, then drained or the
connection closed), lenient parsing as aiohttp's (bare LF, control bytes in header values) and a
cap on the header lines and bytes. A request sent on a kept-alive connection that the server had closed meanwhile is sent
once more on a new connection when nothing of an answer came and the method is idempotent.
Redirects, retries, auth and timeouts are the caller's (HttpClient); a cancelled or timed-out
exchange closes its connection, since its state is unknown.

Not here (by design, as with the aiohttp pool before it): proxies, HTTP/2, cookies, upload
streaming, Expect: 100-continue.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httptools
import yarl

from .body import Body, BodyError, BodyReader, BodySink, content_encodings, decode_all
from .tls import default_ssl_context

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_NO_BODY_REQUEST = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})
_DROPPED_REQUEST_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
MAX_HEADER_LINES = 200
"""Header lines an answer may have (aiohttp allows 128, curl about 100 KB in all); more is an error."""
MAX_HEADER_BYTES = 64 * 1024
"""Bytes an answer's header lines may take in all (names, values and their separators)."""


class ServerDisconnectedError(ConnectionError):
    """The server closed the connection before its answer was complete."""

    def __init__(self, message: str = "the server closed the connection", *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered  # some of an answer had arrived (then resending could repeat it)


class ProtocolError(ConnectionError):
    """The server's bytes were not a valid HTTP/1.1 answer."""


class PoolClosedError(ConnectionError):
    """The pool was closed (its engine is shutting down): no request is sent any more."""


@dataclass(slots=True)
class Http1Response:
    """One answer: status, reason, headers as received (name, value) and the body as read (decoded,
    possibly cut at the limit: `truncated`, with the whole `size` when known)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    url: yarl.URL
    truncated: bool = False
    size: int | None = None
    raw_size: int = 0
    saved: int | None = None


def header_cap_error(lines: int, size: int, max_lines: int, max_bytes: int) -> ProtocolError | None:
    """The error for an answer whose header lines pass the cap (MAX_HEADER_LINES, MAX_HEADER_BYTES), or None."""
    if lines > max_lines:
        what = f"more than {max_lines} header lines"
    elif size > max_bytes:
        what = f"more than {max_bytes} bytes of headers"
    else:
        return None
    return ProtocolError(f"the server's answer has {what} (flowdesk's limit; see docs/http.md)")


def check_header_cap(headers: Any, max_lines: int, max_bytes: int) -> None:
    """Raise ProtocolError when (name, value) pairs read by a library pass the header cap."""
    pairs = list(headers)
    size = sum(len(name) + len(value) + 4 for name, value in pairs)
    error = header_cap_error(len(pairs), size, max_lines, max_bytes)
    if error is not None:
        raise error


def _origin(url: yarl.URL) -> tuple[str, str, int]:
    scheme = url.scheme
    host = url.raw_host
    if scheme not in DEFAULT_PORTS or not host:
        raise ValueError("the URL is not an absolute http(s) URL")
    return scheme, host, url.port or DEFAULT_PORTS[scheme]


@lru_cache(maxsize=256)
def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=256)
def _host_header(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"


@lru_cache(maxsize=256)
def _header_lines(items: tuple[tuple[str, str], ...]) -> tuple[str, str | None]:
    """The header lines of `items` without those this connection writes itself, and the caller's
    Host value (cached: a workflow sends the same few header sets again and again)."""
    host_value = None
    lines = []
    for name, value in items:
        lower = name.lower()
        if lower in _DROPPED_REQUEST_HEADERS:
            if lower == "host":
                host_value = value
            continue
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines), host_value


def encode_head(
    method: str,
    url: yarl.URL,
    headers: dict[str, str] | list[tuple[str, str]],
    body: bytes | None,
    origin: tuple[str, str, int] | None = None,
) -> bytes:
    """The request line and headers of one request: Host first, Content-Length when there is a body
    (or the method normally has one), the caller's Host/Content-Length/Transfer-Encoding/Connection
    replaced by what this connection sends."""
    scheme, host, port = origin or _origin(url)
    lines, host_value = _header_lines(tuple(headers.items() if isinstance(headers, dict) else headers))
    if body is not None:
        length = f"Content-Length: {len(body)}\r\n"
    elif method not in _NO_BODY_REQUEST:
        length = "Content-Length: 0\r\n"
    else:
        length = ""
    host_line = host_value or _host_header(scheme, host, port)
    target = url.raw_path_qs or "/"
    return f"{method} {target} HTTP/1.1\r\nHost: {host_line}\r\n{lines}{length}\r\n".encode()


def decode_body(body: bytes, headers: list[tuple[str, str]]) -> bytes:
    """The content of a whole body sent with a Content-Encoding (see body.py); BodyError if it cannot be."""
    return decode_all(body, headers).content


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: sends a request, parses the answer with llhttp."""

    __slots__ = (
        "pool",
        "key",
        "transport",
        "parser",
        "waiter",
        "status_reason",
        "headers",
        "header_bytes",
        "reader",
        "body",
        "body_size",
        "expected",
        "headers_done",
        "received",
        "head_request",
        "keep_alive",
        "closed",
        "idle_since",
        "uses",
        "decode",
        "body_limit",
        "sink",
        "_counted",
    )

    def __init__(self, pool: Http1Pool, key: tuple[str, str, int]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        # As aiohttp's response parser: control bytes in header values, a bare LF for CRLF and
        # spaces after a chunk size are accepted. Transfer-Encoding with Content-Length, bad chunk
        # lengths and the other request-smuggling shapes stay refused (those leniencies stay off).
        self.parser.set_dangerous_leniencies(
            lenient_headers=True,
            lenient_optional_cr_before_lf=True,
            lenient_spaces_after_chunk_size=True,
        )
        self.waiter: asyncio.Future[tuple[int, str, list[tuple[str, str]], Body]] | None = None
        self.status_reason = b""
        self.headers: list[tuple[str, str]] = []
        self.header_bytes = 0
        self.reader: BodyReader | None = None
        self.body: list[bytes] = []  # a plain body under the limit (no reader)
        self.body_size = 0
        self.expected: int | None = None
        self.headers_done = False
        self.received = False
        self.head_request = False
        self.keep_alive = True
        self.closed = False
        self.idle_since = 0.0
        self.uses = 0
        self.decode = True
        self.body_limit: int | None = None
        self.sink: BodySink | None = None
        self._counted = True  # counts against the pool's limit until it leaves it once

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            # Bytes nobody asked for (an idle connection): its state is unknown, drop it.
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ProtocolError("the server switched protocols, which flowdesk does not speak"))
        except httptools.HttpParserError as exc:
            if self.parser.get_status_code() == 101:  # a 101 without Upgrade headers stops llhttp too
                self._fail(ProtocolError("the server switched protocols, which flowdesk does not speak"))
            else:
                self._fail(ProtocolError(f"the server's answer was not valid HTTP ({exc})"))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost finishes a read-until-close body

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.headers_done and self._body_until_close():
                self._complete(keep_alive=False)
            else:
                error = ServerDisconnectedError(answered=self.received)
                if exc is not None:
                    error.__cause__ = exc
                waiter.set_exception(error)
        self._leave_pool()

    # -- llhttp callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.status_reason = b""
        self.headers = []
        self.header_bytes = 0
        self.reader = None
        self.body = []
        self.body_size = 0
        self.headers_done = False

    def on_status(self, status: bytes) -> None:
        self.status_reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.headers_done:
            return  # a trailer of a chunked body: not one of the answer's headers
        self.header_bytes += len(name) + len(value) + 4
        pool = self.pool
        if len(self.headers) >= pool.max_header_lines or self.header_bytes > pool.max_header_bytes:
            error = header_cap_error(
                len(self.headers) + 1, self.header_bytes, pool.max_header_lines, pool.max_header_bytes
            ) or ProtocolError("the server's answer has too many headers")
            self._fail(error)
            raise error  # stops the parser: the rest of this data is not read
        try:  # UTF-8 where the server sent it (as aiohttp reads it), else byte for byte
            text = value.decode()
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        self.headers.append((name.decode("latin-1"), text))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        status = self.parser.get_status_code()
        if status < 200:
            return  # an interim answer: its (empty) body is not read
        if self.head_request:
            # The parser cannot know that an answer to HEAD has no body whatever its
            # Content-Length says: finish here and never reuse this connection.
            self._complete(keep_alive=False)
            return
        expected = None
        encoded = False
        for name, value in self.headers:
            lower = name.lower()
            if lower == "content-length" and value.strip().isdigit():
                expected = int(value)
            elif lower == "content-encoding":
                encoded = True
        self.expected = expected
        if (not encoded or not self.decode) and self.sink is None:
            # The common answer: plain bytes kept in a list (a BodyReader takes over only if the
            # body passes the limit), which keeps the per-call cost of the fast path.
            self.body = []
            self.body_size = 0
            return
        try:
            self.reader = BodyReader(
                content_encodings(self.headers) if self.decode else [],
                limit=self.body_limit,
                expected=expected,
                sink=self.sink,
            )
        except BodyError as exc:
            self._fail(exc)

    def on_body(self, body: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            return
        reader = self.reader
        if reader is None:
            self.body.append(body)
            self.body_size += len(body)
            limit = self.body_limit
            if limit is None or self.body_size <= limit:
                return
            reader = self.reader = BodyReader([], limit=limit, expected=self.expected)
            body = b"".join(self.body)
            self.body = []
        try:
            more = reader.feed(body)
        except (BodyError, OSError) as exc:
            self._fail(exc)
            return
        if not more:
            # Cut at the limit and the rest too long to drain: answer now, close the connection.
            self._complete(keep_alive=False, whole=False)
            self.close()

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            self.headers_done = (
                False  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            )
            return
        self._complete(keep_alive=self.parser.should_keep_alive())

    # -- exchange ----------------------------------------------------------------------------
    def _body_until_close(self) -> bool:
        for name, value in self.headers:
            lower = name.lower()
            if lower == "content-length" or (lower == "transfer-encoding" and "chunked" in value.lower()):
                return False
        return True

    def _complete(self, *, keep_alive: bool, whole: bool = True) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        self.keep_alive = keep_alive and whole and not self.head_request
        reader, self.reader = self.reader, None
        try:
            if reader is not None:
                body = reader.finish(complete=whole)
            else:
                parts = self.body
                content = parts[0] if len(parts) == 1 else b"".join(parts)
                body = Body(content, size=self.body_size, raw_size=self.body_size)
        except (BodyError, OSError) as exc:
            self.keep_alive = False
            waiter.set_exception(exc)
            return
        waiter.set_result(
            (self.parser.get_status_code(), self.status_reason.decode("latin-1"), self.headers, body)
        )

    def _fail(self, error: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    async def exchange(
        self,
        head: bytes,
        body: bytes | None,
        head_request: bool,
        *,
        decode: bool = True,
        body_limit: int | None = None,
        sink: BodySink | None = None,
    ) -> tuple[Any, ...]:
        """Send one request and wait for its answer (its body read as `decode`, `body_limit`, `sink` say)."""
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise ServerDisconnectedError()
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        self.received = False
        self.headers_done = False
        self.head_request = head_request
        self.decode = decode
        self.body_limit = body_limit
        self.sink = sink
        self.uses += 1
        if not body:
            transport.write(head)
        elif len(body) < 65536:
            transport.write(head + body)  # one segment for the common small request
        else:
            transport.writelines((head, body))
        try:
            return await waiter
        finally:
            self.waiter = None
            self.reader = None
            self.body = []
            self.sink = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._leave_pool()

    def _leave_pool(self) -> None:
        """Closed: stop counting against the pool's limit (once, whichever of close and
        connection_lost comes first)."""
        if self._counted:
            self._counted = False
            self.pool.connection_closed(self)


class Http1Pool:
    """Keep-alive HTTP/1.1 connections per origin, at most `max_connections` open in all.

    `ssl_context` is used for https (None: the default verifying one, certifi's CAs). One pool
    belongs to one event loop.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float | None = None,
        max_header_lines: int = MAX_HEADER_LINES,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        self.max_connections = max(1, int(max_connections))
        self.max_header_lines = max_header_lines
        self.max_header_bytes = max_header_bytes
        self.keepalive_expiry = keepalive_expiry
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._sweep: asyncio.TimerHandle | None = None  # closes expired idle connections

    @property
    def open_connections(self) -> int:
        """Connections open now (in use or idle)."""
        return self._open

    # -- connections -------------------------------------------------------------------------
    def connection_closed(self, conn: _Connection) -> None:
        """`conn` is closed (said once by the connection): it no longer counts against the limit."""
        self._open -= 1
        idle = self._idle.get(conn.key)
        if idle is not None:
            try:
                idle.remove(conn)
            except ValueError:
                pass
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _take_idle(self, key: tuple[str, str, int], now: float) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest to be alive
            if conn.closed or now - conn.idle_since > self.keepalive_expiry:
                conn.close()
                continue
            return conn
        return None

    def _close_an_idle_connection(self) -> bool:
        """Make room under the limit by closing the longest-idle connection of any origin."""
        oldest: _Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is None:
            return False
        oldest.close()
        return True

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        conn = _Connection(self, key)
        self._open += 1
        try:
            tls: Any = None
            if scheme == "https":
                tls = self.ssl_context if self.ssl_context is not None else default_ssl_context()
            coro = loop.create_connection(
                lambda: conn,
                host,
                port,
                ssl=tls,
                server_hostname=host if tls is not None else None,
                # Happy eyeballs (RFC 8305) when a name may resolve to IPv6 and IPv4; an address
                # has one family, and racing costs a task and a timer per connection.
                happy_eyeballs_delay=None if _is_ip_literal(host) else 0.25,
            )
            if self.connect_timeout is not None:
                async with asyncio.timeout(self.connect_timeout):
                    await coro
            else:
                await coro
        except BaseException:
            conn.close()
            raise
        return conn

    async def _acquire(self, key: tuple[str, str, int], *, fresh: bool) -> _Connection:
        loop = asyncio.get_running_loop()
        while True:
            if self._closed:  # also for a caller woken by aclose() while it waited
                raise PoolClosedError("the HTTP connection pool is closed")
            if not fresh:
                conn = self._take_idle(key, loop.time())
                if conn is not None:
                    return conn
            if self._open < self.max_connections or self._close_an_idle_connection():
                return await self._connect(key)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the wake-up on: this caller is leaving
                raise

    def _release(self, conn: _Connection) -> None:
        if conn.closed or not conn.keep_alive or self._closed:
            conn.close()
            return
        loop = asyncio.get_running_loop()
        conn.idle_since = loop.time()
        self._idle.setdefault(conn.key, deque()).append(conn)
        if self._sweep is None:
            self._sweep = loop.call_later(self.keepalive_expiry, self._close_expired)
        self._wake_one()

    def _close_expired(self) -> None:
        """Close the idle connections unused for `keepalive_expiry`; come back for the others."""
        self._sweep = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        oldest: float | None = None
        for idle in list(self._idle.values()):
            for conn in list(idle):
                if conn.closed or now - conn.idle_since >= self.keepalive_expiry:
                    conn.close()
                elif oldest is None or conn.idle_since < oldest:
                    oldest = conn.idle_since
        if oldest is not None and not self._closed:
            self._sweep = loop.call_later(max(0.0, oldest + self.keepalive_expiry - now), self._close_expired)

    # -- requests ----------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        url: yarl.URL,
        headers: dict[str, str] | list[tuple[str, str]],
        body: bytes | None = None,
        *,
        decode: bool = True,
        body_limit: int | None = None,
        sink: BodySink | None = None,
    ) -> Http1Response:
        """Send one request and read the answer (no redirects followed).

        `decode` undoes the Content-Encoding (the header is kept as received); `body_limit` bounds
        the decoded bytes kept (the rest is drained or the connection closed); `sink` receives the
        whole decoded body instead (see body.BodyReader). An undecodable body raises BodyError.
        Raises OSError subclasses for connection problems (ConnectionRefusedError, socket.gaierror,
        ssl.SSLError, ServerDisconnectedError, ProtocolError) and ValueError for an unusable URL.
        """
        key = _origin(url)
        head = encode_head(method, url, headers, body, key)
        head_request = method == "HEAD"
        fresh = False
        while True:
            conn = await self._acquire(key, fresh=fresh)
            reused = conn.uses > 0
            done = False
            try:
                status, reason, raw_headers, content = await conn.exchange(
                    head, body, head_request, decode=decode, body_limit=body_limit, sink=sink
                )
                done = True
            except ServerDisconnectedError as exc:
                if reused and not exc.answered and not fresh and method in IDEMPOTENT_METHODS:
                    fresh = True  # the server dropped a kept-alive connection: once more, anew
                    continue
                raise
            finally:
                if done:
                    self._release(conn)
                else:
                    conn.close()
            return Http1Response(
                status,
                reason,
                raw_headers,
                content.content,
                url,
                content.truncated,
                content.size,
                content.raw_size,
                content.saved,
            )

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their exchange ends."""
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in list(self._idle.values()):
            for conn in list(idle):
                conn.close()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
