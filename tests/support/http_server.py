"""The tests' local HTTP server: flowdesk's demo API (flowdesk/demo/app.py, where every endpoint is
listed) served by uvicorn on 127.0.0.1 on an ephemeral port, in a background thread
(`LocalHttpServer`), or as a script for benchmarks and screenshots:

    python -m tests.support.http_server --port 8765

uvicorn (a test extra) is used here rather than the demo server's standard-library loop
(`flowdesk demo-server`) because the engine's throughput tests and benchmarks need a fast server.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from typing import Any

from flowdesk.demo.app import DemoApp, ServerState


class LocalHttpServer:
    """The test app served by uvicorn on 127.0.0.1 in a background thread; `.url` once started."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: dict[str, Any] | None = None) -> None:
        self.app = DemoApp()
        self.tls = tls or {}
        """uvicorn's ssl_* settings (ssl_certfile, ssl_keyfile, ssl_ca_certs, ssl_cert_reqs): https."""
        self.host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def state(self) -> ServerState:
        return self.app.state

    def count(self, key: str) -> int:
        """How many requests the key got (see the module docstring)."""
        return self.state.counts[key]

    def reset(self) -> None:
        """Clear counters and issued tokens."""
        self.state.reset()

    def start(self, timeout: float = 60.0) -> LocalHttpServer:  # generous: a busy machine starts slowly
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it every answer after the first on a kept-alive
        # connection waited some 40 ms for the client's delayed ACK (Nagle's algorithm).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,  # a /delay request still sleeping must not hold up the end
            **self.tls,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="flowdesk-test-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local test HTTP server did not start")
            time.sleep(0.01)
        self.url = f"{'https' if self.tls else 'http'}://{self.host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the test app in the foreground (for benchmarks and screenshots)."""
    import uvicorn

    parser = argparse.ArgumentParser(description="flowdesk's local test HTTP server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--http", default="auto", help="uvicorn HTTP implementation: auto, h11 or httptools")
    args = parser.parse_args(argv)
    uvicorn.run(
        DemoApp(),
        host=args.host,
        port=args.port,
        http=args.http,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
