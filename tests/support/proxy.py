"""A forward proxy for the tests: tinyproxy (Debian package) on 127.0.0.1, on a free port.

`find_tinyproxy()` is its path or None. `TinyProxy(folder, auth=("user", "pw")).start()` writes a
config into `folder` (listening on 127.0.0.1 only, CONNECT allowed to any port, Basic auth when
given), starts tinyproxy in the foreground as a child process and waits until it accepts
connections; `.url` is `http://127.0.0.1:PORT`, `.url_with_credentials` adds the user and password;
`.requests()` reads its log lines for requests it forwarded. `stop()` ends that process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def find_tinyproxy() -> str | None:
    return shutil.which("tinyproxy") or next(
        (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if os.path.exists(p)), None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TinyProxy:
    """One tinyproxy process (see the module docstring)."""

    def __init__(
        self, folder: Path, *, auth: tuple[str, str] | None = None, binary: str | None = None
    ) -> None:
        self.folder = folder
        self.auth = auth
        self.binary = binary or find_tinyproxy() or "tinyproxy"
        self.port = 0
        self.log = folder / "tinyproxy.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url_with_credentials(self) -> str:
        assert self.auth is not None
        return f"http://{self.auth[0]}:{self.auth[1]}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> TinyProxy:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        lines = [
            f"Port {self.port}",
            "Listen 127.0.0.1",
            "Timeout 60",
            "LogLevel Info",
            "MaxClients 200",
            "Allow 127.0.0.1",
            "DisableViaHeader Yes",
        ]
        if self.auth:
            lines.append(f"BasicAuth {self.auth[0]} {self.auth[1]}")
        config = self.folder / "tinyproxy.conf"
        config.write_text("\n".join(lines) + "\n")
        # In the foreground (-d) without a LogFile it logs to its output, which goes to our file: no
        # user switch, so no folder permissions to arrange when the tests run as root.
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(
                [self.binary, "-d", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                err = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"tinyproxy stopped at once: {' '.join(err)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("tinyproxy did not start listening") from None
                time.sleep(0.02)

    def requests(self) -> list[str]:
        """The request lines tinyproxy received (`GET http://... HTTP/1.1`, `CONNECT host:port ...`)."""
        if not self.log.exists():
            return []
        marker = "Request (file descriptor"
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split("): ", 1)[1] for line in lines if marker in line and "): " in line]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
