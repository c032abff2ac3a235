"""A throwaway nginx for the tests: its own configuration and files in a temporary folder.

`NginxServer(folder).start()` writes `nginx.conf` and the served files under `folder`, starts
nginx in the foreground (`daemon off`, one process) listening on 127.0.0.1 on a free port, and
waits until the port accepts connections; `stop()` ends it. What it serves (`/files/NAME` are the
files given to `start`):

- `/plain/NAME`: as stored, with Content-Length.
- `/gzip/NAME`: gzip-encoded by nginx (sent chunked: nginx does not know the encoded length).
- `/br/NAME`: brotli-encoded by nginx's brotli filter module (Debian: libnginx-mod-http-brotli-filter),
  when that module is installed (`has_brotli`).
- `/chunked/NAME`: not encoded, sent chunked (a sub_filter makes the length unknown).

The `nginx_server` fixture skips the tests when nginx is not installed, unless
FLOWDESK_REQUIRE_NGINX=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_NGINX = "FLOWDESK_REQUIRE_NGINX"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
START_TIMEOUT = 30.0


def find_nginx() -> str | None:
    """The nginx program (PATH, then /usr/sbin where Debian puts it), or None."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path, port: int, brotli: bool) -> str:
    temp = folder / "temp"
    lines = [
        f"load_module {BROTLI_MODULE};" if brotli else "",
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        f"pid {folder / 'nginx.pid'};",
        f"error_log {folder / 'error.log'} warn;",
        "events { worker_connections 256; }",
        "http {",
        "  access_log off;",
        "  default_type application/octet-stream;",
        *(
            f"  {kind}_temp_path {temp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
        "  server {",
        f"    listen 127.0.0.1:{port};",
        f"    root {folder / 'www'};",
        "    location /plain/ { gzip off; }",
        "    location /gzip/ { gzip on; gzip_types *; gzip_min_length 0; gzip_comp_level 6; }",
        "    location /chunked/ { gzip off; sub_filter_types *; sub_filter 'never-there' 'x'; }",
        "    location /br/ { brotli on; brotli_types *; brotli_min_length 0; }" if brotli else "",
        "  }",
        "}",
    ]
    return "\n".join(line for line in lines if line) + "\n"


class NginxServer:
    """One running nginx; `url(path)` is a URL on it."""

    def __init__(self, program: str, folder: Path) -> None:
        self.program = program
        self.folder = folder
        self.port = 0
        self.has_brotli = BROTLI_MODULE.exists()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, files: dict[str, bytes]) -> NginxServer:
        for kind in ("www/plain", "www/gzip", "www/chunked", "www/br", "temp"):
            (self.folder / kind).mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            for kind in ("plain", "gzip", "chunked", "br"):
                (self.folder / "www" / kind / name).write_bytes(content)
        self.port = _free_port()
        conf = self.folder / "nginx.conf"
        conf.write_text(_config(self.folder, self.port, self.has_brotli))
        # -e: nginx's own startup messages go to the folder too, not to the system's log
        command = [
            self.program,
            "-p",
            str(self.folder),
            "-c",
            str(conf),
            "-e",
            str(self.folder / "error.log"),
        ]
        if os.geteuid() == 0:  # one process, no user switch: it reads the test's private folder as root
            command += ["-g", "user root;"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                log = (
                    (self.folder / "error.log").read_text(errors="replace")
                    if (self.folder / "error.log").exists()
                    else ""
                )
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"nginx stopped at once ({self.process.returncode}): {stderr or log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"nginx did not listen on port {self.port} within {START_TIMEOUT:g} s"
                    ) from None
                time.sleep(0.02)  # polling a port that is not open yet: nothing to wait on

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()


def no_nginx(reason: str) -> None:
    """Skip the test, or fail it when the environment says nginx must be there (CI)."""
    if os.environ.get(REQUIRE_NGINX) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_NGINX}=1 requires the nginx tests to run.", pytrace=False)
    pytest.skip(reason)


def nginx_or_skip(folder: Path, files: dict[str, bytes]) -> Iterator[NginxServer]:
    """A started NginxServer serving `files` (for a fixture to yield from), or skip / fail."""
    program = find_nginx()
    if program is None:
        no_nginx("nginx is not installed (Debian: apt-get install nginx)")
    assert program is not None
    server = NginxServer(program, folder).start(files)
    try:
        yield server
    finally:
        server.stop()
