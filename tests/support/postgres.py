"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder.

`find_bindir()` looks for initdb/pg_ctl on PATH, through `pg_config --bindir`, then in the usual
package folders (`/usr/lib/postgresql/*/bin`, newest first). `PostgresServer(bindir).start()` runs
initdb into a fresh folder and starts the server on 127.0.0.1 only, on a free port, with its socket
in that folder and durability turned off (fsync, synchronous_commit, full_page_writes: a test
cluster is thrown away anyway). PostgreSQL refuses to run as root, so as root the folder is handed
to the `postgres` user and the server commands run through `runuser -u postgres --`.
`stop()` stops it and deletes the folder.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

#: Where distributions put the server binaries when they are not on PATH.
BINDIR_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
)
ADMIN_USER = "postgres"
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when this machine has no PostgreSQL server."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent  # a link in /usr/local/bin points at the real folder
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30)
            bindir = Path(out.stdout.strip())
            if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
                return bindir
        except (OSError, subprocess.SubprocessError):
            pass
    candidates = [p for pattern in BINDIR_GLOBS for p in glob.glob(pattern)]
    for candidate in sorted(candidates, key=_version_key, reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def tool(bindir: Path, name: str) -> str:
    """A client program (pg_dump, psql) from the server's folder, else from PATH."""
    local = bindir / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running test cluster; `url(name)` is the SQLAlchemy URL of one of its databases."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="flowdesk-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._prefix: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self._prefix, *args], capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}): {result.stderr or result.stdout}"
            )

    def start(self, attempts: int = 3) -> PostgresServer:
        """initdb, then start on a free port (another port is tried if the one picked got taken)."""
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", ADMIN_USER,
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        for attempt in range(attempts):
            self.port = _free_port()
            try:
                self._pg_ctl_start()
                return self
            except RuntimeError:
                if attempt == attempts - 1:
                    log = self.root / "server.log"
                    detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    self.stop()
                    raise RuntimeError(f"the test PostgreSQL server did not start:\n{detail}") from None
        return self

    def _pg_ctl_start(self) -> None:
        options = [f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root}"]
        options += [f"-c {k}={v}" for k, v in SERVER_SETTINGS.items()]
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "-o", " ".join(options), "start",
        )  # fmt: skip

    def halt(self) -> None:
        """Stop the server as an operator would (fast shutdown: open sessions are ended), keeping
        its data: clients find it unreachable until `start_again()`."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start_again(self) -> PostgresServer:
        """Start a halted server on its port again, with its data."""
        self._pg_ctl_start()
        return self

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.SubprocessError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` on this server."""
        return f"postgresql+psycopg://{ADMIN_USER}@127.0.0.1:{self.port}/{database}"

    def _admin(self):  # psycopg is imported only when a PostgreSQL test runs
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=ADMIN_USER, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create `name` (empty, or a copy of `template`); return its URL."""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, closing whatever connections a test left open on it."""
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def run_outside_transaction(self, sql: str) -> None:
        """Run one cluster-wide statement that refuses a transaction block (CREATE / DROP TABLESPACE)."""
        with self._admin() as conn:
            conn.execute(sql)

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one statement run in `database` in its own committed transaction (for checks)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=ADMIN_USER, dbname=database) as conn:
            cursor = conn.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def dump(self, database: str) -> str:
        """The whole of `database` (schema and rows) as pg_dump writes it, to compare two states."""
        out = subprocess.run(
            [tool(self.bindir, "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", ADMIN_USER,
             "--no-owner", database],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        # pg_dump 15.14+ fences the dump with a random \restrict key; it is not part of the data.
        return "".join(
            line
            for line in out.stdout.splitlines(True)
            if not line.startswith(("\\restrict", "\\unrestrict"))
        )
