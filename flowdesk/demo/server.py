"""Serving an ASGI app over HTTP/1.1 with the standard library's asyncio streams: what
`flowdesk demo-server` runs, so the demo needs nothing beyond flowdesk's own install.

Enough HTTP/1.1 for a demo and the examples: keep-alive connections, bodies by Content-Length or
chunked, answers with a Content-Length. It is not a production server (no TLS, no HTTP/2, one
request at a time per connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024  # request line and headers
MAX_BODY = 16 * 1024 * 1024

AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class BadRequest(Exception):
    """A request this server cannot read; answered 400 and the connection closed."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        size_total = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, ignored
                    pass
                return b"".join(chunks)
            size_total += size
            if size_total > MAX_BODY:
                raise BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = headers.get("content-length")
    if not length:
        return b""
    try:
        size = int(length)
    except ValueError:
        raise BadRequest("bad Content-Length") from None
    if not 0 <= size <= MAX_BODY:
        raise BadRequest("body too large")
    return await reader.readexactly(size)


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[bytes, bytes]], dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest("bad request line") from None
    raw_headers: list[tuple[bytes, bytes]] = []
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("bad header line")
        key, value = name.strip().lower(), value.strip()
        raw_headers.append((key.encode("latin-1"), value.encode("latin-1")))
        headers[key] = value
    return method, target, version, raw_headers, headers


async def _answer(
    app: AsgiApp, scope: dict[str, Any], body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app for one request; (status, headers, body) of its answer."""
    sent = False
    start: dict[str, Any] = {}
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    data = b"".join(parts)
    headers.append((b"content-length", str(len(data)).encode()))
    return int(start.get("status", 500)), headers, data


async def _connection(app: AsgiApp, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    local = writer.get_extra_info("sockname")
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed the connection
            except asyncio.LimitOverrunError:
                raise BadRequest("request head too large") from None
            method, target, version, raw_headers, headers = _parse_head(head[:-4])
            body = await _read_body(reader, headers)
            path, _, query = target.partition("?")
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": version.removeprefix("HTTP/"),
                "method": method.upper(),
                "scheme": "http",
                "path": unquote(path),
                "raw_path": path.encode("latin-1"),
                "query_string": query.encode("latin-1"),
                "headers": raw_headers,
                "client": peer[:2] if peer else None,
                "server": local[:2] if local else None,
            }
            status, out_headers, data = await _answer(app, scope, body)
            keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            lines = [f"HTTP/1.1 {status} {_reason(status)}".encode("latin-1")]
            lines += [k + b": " + v for k, v in out_headers]
            lines.append(b"connection: " + (b"keep-alive" if keep else b"close"))
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if method == "HEAD" else data))
            await writer.drain()
            if not keep:
                return
    except BadRequest as err:
        message = f'{{"error": "bad request: {err}"}}'.encode()
        writer.write(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n"
            + f"content-length: {len(message)}\r\n\r\n".encode()
            + message
        )
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the connection is gone either way
            pass


async def start_server(app: AsgiApp, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """Listen on host:port (0: a free port) and serve `app`; the caller keeps the server open."""
    return await asyncio.start_server(
        lambda r, w: _connection(app, r, w), host=host, port=port, limit=MAX_HEAD
    )


async def serve(
    app: AsgiApp,
    host: str,
    port: int,
    *,
    ready: Callable[[str], None] | None = None,
    until: asyncio.Event | None = None,
) -> None:
    """Serve `app` until `until` is set (or until cancelled); `ready(url)` is called once it listens."""
    server = await start_server(app, host, port)
    bound = server.sockets[0].getsockname()
    url = f"http://{bound[0]}:{bound[1]}"
    if ready is not None:
        ready(url)
    async with server:
        if until is None:
            await server.serve_forever()
        else:
            await server.start_serving()
            await until.wait()
