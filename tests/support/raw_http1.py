"""Raw HTTP/1.1 servers on 127.0.0.1 for the connection pool's tests (engine/http/http1.py).

`RawServer(handler)` runs `asyncio.start_server` in the test's own event loop and hands each
connection (`Conn`) to a handler that writes exactly the bytes the test chooses (`answering`,
`per_connection`, `answer_once_then`, ...); `open_pool`, `fetch` and `serve_and` drive an Http1Pool
against it, and `run_guarded` runs a test's coroutine with a guard against a hang."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import yarl

from flowdesk.engine.http.http1 import Http1Pool, Http1Response
from tests.support.waiting import EVENTUALLY

PAUSE = 0.002  # between the pieces a raw server writes separately (each is then read on its own)
GUARD = 100.0  # a test that takes this long hung (pytest-timeout's 120 s would say less)


def run_guarded(coro: Coroutine[Any, Any, Any], guard_seconds: float = GUARD) -> Any:
    """Run one test's coroutine in a fresh event loop, failing plainly if it hangs."""

    async def guarded() -> Any:
        guard = asyncio.timeout(guard_seconds)
        try:
            async with guard:
                return await coro
        except TimeoutError:
            if guard.expired():
                raise AssertionError(f"the test hung (did not finish within {guard_seconds:g} s)") from None
            raise

    return asyncio.run(guarded())


def ok(body: bytes = b"", *headers: str, status: str = "200 OK") -> bytes:
    """A whole HTTP/1.1 answer with a Content-Length body and the given header lines."""
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Seen:
    """One request a raw server read: which connection (1 = the first accepted), head, body."""

    conn: int
    head: bytes
    body: bytes

    @property
    def method(self) -> str:
        return self.head.split(b" ", 1)[0].decode()

    @property
    def target(self) -> str:
        return self.head.split(b" ", 2)[1].decode()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Conn:
    """The server side of one accepted connection, for a RawServer handler."""

    def __init__(
        self, server: RawServer, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        self.server = server
        self.index = index
        self.reader = reader
        self.writer = writer

    async def request(self) -> Seen | None:
        """The next request on this connection, or None once the client closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            body = await self.reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError):
            self.server._client_closed(self.index)
            return None
        seen = Seen(self.index, head, body)
        self.server.requests.append(seen)
        self.server._changed()
        return seen

    async def send(self, *pieces: bytes) -> None:
        """Write each piece as its own TCP write, with a pause between them."""
        for i, piece in enumerate(pieces):
            if i:
                await asyncio.sleep(PAUSE)
            self.writer.write(piece)
            await self.writer.drain()

    async def until_closed(self) -> None:
        """Read (and drop) whatever comes until the client closes the connection."""
        while True:
            try:
                data = await self.reader.read(65536)
            except ConnectionError:
                data = b""
            if not data:
                self.server._client_closed(self.index)
                return

    def close(self) -> None:
        self.writer.close()


Handler = Callable[[Conn], Awaitable[None]]


class RawServer:
    """An asyncio server on 127.0.0.1 (port chosen by the OS) whose `handler` writes exact bytes.

    Counts connections accepted, open now (and the most at once), closed by the client, and keeps
    every request read. `wait_until` waits for a condition on those, woken by each change. An
    exception in a handler fails the test when the server is left.
    """

    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.accepted = 0
        self.open_now = 0
        self.max_open = 0
        self.client_closed: set[int] = set()
        self.requests: list[Seen] = []
        self.port = 0
        self._event = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._errors: list[BaseException] = []

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        if self._errors and exc[0] is None:
            raise AssertionError("a raw server handler failed") from self._errors[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        self.accepted += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        self._changed()
        try:
            await self.handler(Conn(self, self.accepted, reader, writer))
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test is over (ending normally keeps asyncio quiet)
        except Exception as exc:  # kept for __aexit__, which fails the test with it
            self._errors.append(exc)
        finally:
            self.open_now -= 1
            writer.close()
            self._tasks.discard(task)
            self._changed()

    def _client_closed(self, index: int) -> None:
        self.client_closed.add(index)
        self._changed()

    def _changed(self) -> None:
        self._event.set()

    async def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = EVENTUALLY) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self._event.clear()
                    await self._event.wait()
        except TimeoutError:
            raise AssertionError(f"the raw server never saw: {what}") from None

    def seen(self) -> list[tuple[int, str, str]]:
        """(connection, method, target) of every request read so far."""
        return [(s.conn, s.method, s.target) for s in self.requests]


def answering(*responses: bytes) -> Handler:
    """A handler answering each request on a connection with the next response (the last repeats)."""

    async def handler(conn: Conn) -> None:
        count = 0
        while await conn.request() is not None:
            await conn.send(responses[min(count, len(responses) - 1)])
            count += 1

    return handler


def per_connection(*handlers: Handler) -> Handler:
    """The first connection gets handlers[0], the second handlers[1]...; later ones the last."""

    async def handler(conn: Conn) -> None:
        await handlers[min(conn.index, len(handlers)) - 1](conn)

    return handler


async def answer_once_then(conn: Conn, then: str) -> None:
    """Answer one request; then 'close' at once, or on the next request 'drop' it (read and
    close without answering) or 'cut' its answer (part of a Content-Length body, then close)."""
    await conn.request()
    await conn.send(ok(b"first"))
    if then == "close":
        conn.close()
        return
    if await conn.request() is None:
        return
    if then == "cut":
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    conn.close()


async def drop_request(conn: Conn) -> None:
    """Read one request and close without answering."""
    await conn.request()
    conn.close()


async def cut_at_once(conn: Conn) -> None:
    """Answer the first request with part of a Content-Length body, then close."""
    await conn.request()
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    conn.close()


async def never_answer(conn: Conn) -> None:
    await conn.request()
    await conn.until_closed()


@contextlib.asynccontextmanager
async def open_pool(**options: Any) -> AsyncIterator[Http1Pool]:
    pool = Http1Pool(**options)
    try:
        yield pool
    finally:
        await pool.aclose()


async def fetch(
    pool: Http1Pool,
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> Http1Response:
    return await pool.request(method, yarl.URL(url), headers or {}, body, **options)


async def serve_and(
    handler: Handler, body: Callable[[RawServer, Http1Pool], Awaitable[Any]], **pool_options: Any
) -> Any:
    """Run `body(server, pool)` with a raw server running `handler` and a fresh pool."""
    async with RawServer(handler) as server, open_pool(**pool_options) as pool:
        return await body(server, pool)
