"""A raw HTTP/1.1 server on 127.0.0.1 that records the exact bytes of each request and answers 200 "ok".

Used to compare what a real client (curl) sends with what flowdesk sends for the same imported request.
Reads bodies by Content-Length or chunked encoding, answers `Expect: 100-continue`, one request per connection.
"""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RawRequest:
    """One request as received: the request line, headers in order (names as sent), and the body bytes."""

    raw: bytes
    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)


class RawHttpServer:
    """Start with `start()`, read requests with `next_request()`, stop with `close()`."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.requests: queue.Queue[RawRequest] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RawHttpServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def next_request(self, timeout: float = 60.0) -> RawRequest:
        """The next request received (waits for it; the timeout only stops a broken test hanging)."""
        return self.requests.get(timeout=timeout)

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    request = self._read(conn)
                except (OSError, ValueError):
                    continue
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                    b"Connection: close\r\n\r\nok"
                )
                self.requests.put(request)

    @staticmethod
    def _read(conn: socket.socket) -> RawRequest:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise ValueError("connection closed before the headers ended")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
        lowered = {k.lower(): v for k, v in headers}
        if lowered.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = rest
        if "content-length" in lowered:
            size = int(lowered["content-length"])
            while len(body) < size:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
        elif lowered.get("transfer-encoding", "").lower() == "chunked":
            while not body.endswith(b"0\r\n\r\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            body = _unchunk(body)
        raw = head + b"\r\n\r\n" + body
        return RawRequest(raw, method, target, headers, body)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out
