"""An HTTP/2-only test server: TLS on 127.0.0.1 offering only `h2` (ALPN), written on the h2 library.

Every request is answered 200 with JSON `{"http_version": "HTTP/2", "method", "path", "headers"}`.
A client that speaks HTTP/1.1 to it gets the connection closed (as real HTTP/2-only servers do).
Runs its own event loop in a background thread; `.url` once started.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class Http2Server:
    """See the module docstring. `certfile`/`keyfile`: the server's certificate (PEM)."""

    def __init__(self, certfile: Path, keyfile: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(certfile), str(keyfile))
        self.context.set_alpn_protocols(["h2"])
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Http2Server:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._client, "127.0.0.1", 0, ssl=self.context)
            )
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"https://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=serve, name="flowdesk-test-h2", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the HTTP/2 test server did not start")
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        requests: dict[int, dict[str, Any]] = {}
        try:
            while data := await reader.read(65536):
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    writer.write(conn.data_to_send())
                    break
                for event in events:
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {
                            k.decode() if isinstance(k, bytes) else k: v.decode()
                            if isinstance(v, bytes)
                            else v
                            for k, v in event.headers
                        }
                        requests[event.stream_id] = headers
                    if isinstance(event, h2.events.StreamEnded):
                        headers = requests.pop(event.stream_id, {})
                        body = json.dumps(
                            {
                                "http_version": "HTTP/2",
                                "method": headers.get(":method"),
                                "path": headers.get(":path"),
                                "headers": {k: v for k, v in headers.items() if not k.startswith(":")},
                            }
                        ).encode()
                        conn.send_headers(
                            event.stream_id,
                            [
                                (":status", "200"),
                                ("content-type", "application/json"),
                                ("content-length", str(len(body))),
                            ],
                        )
                        conn.send_data(event.stream_id, body, end_stream=True)
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._thread = None
