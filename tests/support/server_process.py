"""`flowdesk serve` as a real process on 127.0.0.1 for the server tests: started with a free port and
a database of the test's, waited for until it answers, stopped with SIGINT (as Ctrl+C would)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flowdesk_command(*args: str) -> list[str]:
    """The installed program as a subprocess would run it (this interpreter, this checkout first)."""
    return [sys.executable, "-m", "flowdesk", *args]


_STATE = Path(tempfile.mkdtemp(prefix="flowdesk-serve-state-"))


def subprocess_env() -> dict[str, str]:
    """The environment of a server or CLI process: this checkout first, and never the user's own
    database, key file, keyring or log folder."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("FLOWDESK_DB", None)
    env["FLOWDESK_KEY_FILE"] = str(_STATE / "secret.key")
    env["FLOWDESK_KEYRING"] = "0"
    env["XDG_DATA_HOME"] = str(_STATE / "data")
    env["XDG_STATE_HOME"] = str(_STATE / "state")
    return env


def run_cli(*args: str, db: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`flowdesk ARGS --db DB`, its output captured; `env` adds to (or overrides) subprocess_env()."""
    return subprocess.run(
        flowdesk_command(*args, "--db", db),
        capture_output=True,
        text=True,
        env={**subprocess_env(), **(env or {})},
        timeout=120,
    )


class ServerProcess:
    """One `flowdesk serve` process; `.url` is its base URL, `.output()` what it printed."""

    def __init__(
        self, db: str, *, host: str = "127.0.0.1", extra: tuple[str, ...] = (), log_dir: Path
    ) -> None:
        self.db = db
        self.host = host
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.extra = extra
        self.log_path = log_dir / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> ServerProcess:
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            flowdesk_command(
                "serve", "--host", self.host, "--port", str(self.port), "--db", self.db, *self.extra
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, deadline: float = 120.0) -> None:
        """Until the server answers (a slow machine may take seconds to import and migrate)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"flowdesk serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                httpx.get(self.url + "/openapi.json", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"flowdesk serve did not answer within {deadline:g} s:\n{self.output()}")

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int:
        """Send `sig` (Ctrl+C by default) and wait for the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)
