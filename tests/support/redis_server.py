"""A throwaway redis-server for the tests: 127.0.0.1 only, a free port, no persistence by default.

`RedisServer().start()` runs the Debian package's `redis-server` in the foreground as a child
process, in a temporary folder, and returns once it answers PING. `url` is the broker URL;
`stop()` ends it and deletes the folder.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_redis_server() -> str | None:
    """The redis-server program, or None when this machine has none."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One running redis-server; `url` is its redis:// URL (database 0)."""

    def __init__(self, program: str, *, appendonly: bool = False) -> None:
        self.program = program
        self.appendonly = appendonly
        self.root = Path(tempfile.mkdtemp(prefix="flowdesk-redis-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self) -> RedisServer:
        """Shut down (SIGTERM: Redis writes its append-only file) and start again on the same port and
        folder, as an operator restarting Redis would."""
        self.halt()
        return self.start(keep_port=True)

    def halt(self) -> None:
        """Shut down (SIGTERM: Redis writes its append-only file), keeping port and folder for
        `start(keep_port=True)`: Redis is away until then."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process = None

    def start(self, attempts: int = 3, keep_port: bool = False) -> RedisServer:
        """Start on a free port (another is tried if the one picked got taken); wait for PING."""
        import redis

        for _ in range(attempts):
            if not (keep_port and self.port):
                self.port = _free_port()
            args = [
                self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root),
                "--save", "", "--appendonly", "yes" if self.appendonly else "no", "--protected-mode", "yes",
            ]  # fmt: skip
            log = open(self.root / "redis.log", "ab")
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
            log.close()
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
            deadline = time.monotonic() + 30  # a failure bound, not a speed expectation
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if client.ping():
                        client.close()
                        return self
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            client.close()
            self._end()
        detail = (self.root / "redis.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"the test redis-server did not start:\n{detail}")

    def _end(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self._end()
        shutil.rmtree(self.root, ignore_errors=True)
