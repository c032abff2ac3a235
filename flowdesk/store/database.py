"""One way to open a flowdesk database: resolve where it is, bring its schema up to date, recover runs.

`Database(db)` accepts a file path, a SQLAlchemy URL or None (then `$FLOWDESK_DB`, else the user data
directory). Opening an up-to-date database reads one row and never loads Alembic, so it costs a few
milliseconds; an older one is upgraded with Alembic inside one transaction; a newer one is refused
before anything is written to it.

Backends: SQLite (a path or `sqlite:///PATH`) and PostgreSQL (`postgresql+psycopg://user:password@host/db`,
driver from the `postgres` extra). Anything else is refused with a plain sentence, and so is a server
that cannot be reached (the password is never shown: `masked_url`).

Threads: the engine (batching writer) and `asyncio.to_thread` use the database from worker threads.
File databases get a QueuePool of SQLite connections opened with `check_same_thread=False`: each
connection is used by one thread at a time (checked out for one session) and SQLite's own locking
plus WAL let readers and one writer work side by side. `sqlite://` (in memory) uses one shared
connection (StaticPool), which suits tests only. PostgreSQL gets SQLAlchemy's QueuePool of psycopg
connections (pre-pinged, so a restarted server costs one failed ping, not a failed session).

Writers queue on both: SQLite's BEGIN IMMEDIATE takes the file's write lock; on PostgreSQL a write
transaction starts by taking one transaction-level advisory lock (`WRITE_LOCK_KEY`), so the services'
read-check-write steps (unique names, next version number, the first environment made active) hold
between processes exactly as on SQLite. Read transactions take no lock; on PostgreSQL they run at
REPEATABLE READ, so the several queries of one read see one snapshot, as a SQLite read does.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from flowdesk.domain.errors import (
    DatabaseTooNewError,
    DatabaseUnavailableError,
    FlowdeskError,
    InvalidInputError,
)

from .json_text import serializer_for
from .tables import ExecutionRow, utcnow

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*['"]?([^'"\s]+)['"]?""", re.M)


@functools.cache
def head_revision() -> str:
    """The newest schema revision this program ships, read from the revision files' headers.

    Reading a few small files takes well under a millisecond; importing Alembic to ask it takes
    about a hundred, so an up-to-date database opens without Alembic (a test checks both agree).
    """
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            down = found.get("down_revision")
            revisions[found["revision"]] = None if down in (None, "None") else down
    heads = set(revisions) - {d for d in revisions.values() if d}
    if len(heads) != 1:
        raise FlowdeskError(
            f"The shipped migrations have {len(heads)} heads ({', '.join(sorted(heads))}); expected one."
        )
    return heads.pop()


HEAD_REVISION = head_revision()
"""The newest schema revision this program knows."""
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
"""The databases flowdesk's migrations and SQL are written and tested for."""
WRITE_LOCK_KEY = 0x666C6F776465736B  # "flowdesk" in ASCII
"""PostgreSQL advisory lock every write transaction takes first (one flowdesk writer at a time, per database)."""
_BEGIN_OPTION = "flowdesk_begin"  # "write" (the default) or "read"
_SQLITE_BEGIN = {"write": "BEGIN IMMEDIATE", "read": "BEGIN"}


def default_database_path() -> Path:
    """`$FLOWDESK_DB` if set, else `<user data dir>/flowdesk/flowdesk.db`."""
    env = os.environ.get("FLOWDESK_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("flowdesk", appauthor=False)) / "flowdesk.db"


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """Turn a path, a URL or None into a SQLAlchemy URL.

    The default location's folder (the user data folder, or `$FLOWDESK_DB`'s) is created when
    missing; a folder named explicitly (`--db`, `Database(path)`) must exist, so a typo in a path
    never silently starts an empty database somewhere new.
    """
    chosen = True
    if db is None:  # the default, or $FLOWDESK_DB (a configured default): its folder is made
        env = os.environ.get("FLOWDESK_DB")
        if env and "://" in env:
            return env
        chosen = False
        path = default_database_path()
    elif isinstance(db, str) and "://" in db:
        return db
    else:
        path = Path(db).expanduser()
    if path.is_dir():
        raise DatabaseUnavailableError(f"{path} is a folder, not a database file; name a file in it.")
    if chosen and not path.parent.is_dir():
        raise DatabaseUnavailableError(
            f"The folder {path.parent} does not exist; create it, or choose another place for the database."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"Cannot create the folder for the database {path}: {exc.strerror or exc}."
        ) from exc
    return f"sqlite:///{path.resolve()}"


def masked_url(url: str | URL) -> str:
    """A database URL fit for messages and logs: its password, if any, shown as ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (
        ArgumentError,
        ValueError,
    ):  # not a URL SQLAlchemy reads; still hide what looks like user:password@
        return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", str(url))


def connect_failure(url: str | URL, exc: BaseException) -> DatabaseUnavailableError:
    """The one sentence saying why a database server could not be reached (password masked)."""
    shown = masked_url(url)
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    reason = reason.rsplit(" failed: ", 1)[-1]  # psycopg: 'connection to server at "h", port 1 failed: ...'
    reason = re.sub(r"^(FATAL|ERROR):\s*", "", reason).strip().rstrip(".")
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    if reason[:1].isupper() and not reason[1:2].isupper():
        reason = reason[0].lower() + reason[1:]
    return DatabaseUnavailableError(f"Cannot connect to the database {shown}: {reason}.")


def runner_alive(pid: int | None, run_created: datetime | None) -> bool:
    """Whether the process that recorded a run may still be running it.

    A live process with that pid that started after the run was created is another program that
    got the pid later (common after a restart inside a container), so it does not count.
    """
    if pid is None:
        return False
    import psutil  # only when there is a run to judge (about 15 ms to import)

    try:
        started = psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:  # exists but cannot be inspected (another user's): assume it is the runner
        return True
    if run_created is None:
        return True
    return started <= run_created.timestamp() + 1.0  # clock granularity of create_time


def this_host() -> str:
    """The name runs record as `runner_host`, so recovery knows which runs it can judge."""
    return socket.gethostname()


def why_not_writable(path: Path) -> str | None:
    """Why a SQLite database file (or, when it does not exist yet, its folder) cannot be written;
    None when it can. Root passes permission checks, as it passes them when writing; a read-only
    mount stops everyone."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "its file system is mounted read-only"
    except OSError:
        return None  # the folder cannot be inspected: let SQLite say what is wrong
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(folder, os.W_OK):
        return "its folder is not writable"
    return None


_LOW_SPACE = 1 << 20  # a write that fails with less than this free is taken as "the disk is full"


class Database:
    """An open flowdesk database: a SQLAlchemy engine with the schema at the newest revision.

    `session()` is one transaction. Writes queue for the write lock at BEGIN (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: an advisory lock), so two writers wait for each other instead of failing half-way;
    `session(read_only=True)` takes no lock and never blocks a writer.
    """

    def __init__(self, db: str | os.PathLike[str] | None = None, *, recover: bool = True) -> None:
        self.url = resolve_url(db)
        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise InvalidInputError(
                f"{masked_url(self.url)} is not a database URL (use a file path, sqlite:///PATH or "
                "postgresql+psycopg://user:password@host/database)."
            ) from None
        self.backend = url.get_backend_name()
        if self.backend not in SUPPORTED_BACKENDS:
            raise DatabaseUnavailableError(
                f"Cannot open the database {masked_url(url)}: flowdesk works with SQLite and PostgreSQL, "
                f"not {self.backend}."
            )
        self.is_sqlite = self.backend == "sqlite"
        self.path: Path | None = (
            Path(url.database) if self.is_sqlite and url.database not in (None, "", ":memory:") else None
        )
        self._wal_ready = False
        self.read_only_reason = why_not_writable(self.path) if self.path is not None else None
        if self.read_only_reason and self.path is not None and not self.path.exists():
            raise DatabaseUnavailableError(
                f"Cannot create the database {self.path}: {self.read_only_reason}; "
                "choose a writable place with --db."
            )
        try:
            self.engine = self._create_engine(url)
        except ImportError as exc:
            raise DatabaseUnavailableError(
                f"Cannot open the database {masked_url(url)}: its driver ({exc.name or exc}) is not "
                "installed (for PostgreSQL: pip install 'flowdesk[postgres]')."
            ) from None
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        read_options: dict[str, Any] = {_BEGIN_OPTION: "read"}
        if not self.is_sqlite:
            read_options["isolation_level"] = "REPEATABLE READ"
        self._read_sessions = sessionmaker(
            bind=self.engine.execution_options(**read_options), expire_on_commit=False
        )
        try:
            try:
                self.revision = self._prepare_schema()
                if recover and not self.read_only:
                    self.recover_interrupted()
            except OperationalError as exc:
                failure = self.write_failure(exc)
                if failure is None:
                    raise
                raise failure from exc
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def read_only(self) -> bool:
        """True for a SQLite file this process cannot write (read-only mount, file or folder):
        it is opened read-only, so listing, exporting and monitoring still work."""
        return self.read_only_reason is not None

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        return masked_url(self.url)

    # -- engine and connections ------------------------------------------------------------------

    def _create_engine(self, url: URL) -> Engine:
        serializer = serializer_for(self.backend)
        if not self.is_sqlite:
            return self._create_postgresql_engine(url, serializer)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}, "json_serializer": serializer}
        if self.path is None:
            kwargs["poolclass"] = StaticPool
        if self.read_only and self.path is not None:
            uri = self._read_only_uri()
            kwargs["creator"] = functools.partial(sqlite3.connect, uri, uri=True, check_same_thread=False)
            kwargs["poolclass"] = QueuePool
            del kwargs["connect_args"]
        engine = create_engine(self.url, **kwargs)
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "begin", self._on_begin)
        return engine

    def _create_postgresql_engine(self, url: URL, serializer: Any) -> Engine:
        if url.drivername == "postgresql":  # SQLAlchemy 2.0 would pick psycopg2; flowdesk ships psycopg 3
            url = url.set(drivername="postgresql+psycopg")
        # Sessions see timestamps in UTC, as they are stored; a URL's own settings win.
        connect_args: dict[str, Any] = {}
        if "options" not in url.query:
            connect_args["options"] = "-c TimeZone=UTC"
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = 10
        if "application_name" not in url.query:
            connect_args["application_name"] = "flowdesk"
        engine = create_engine(url, json_serializer=serializer, pool_pre_ping=True, connect_args=connect_args)
        event.listen(engine, "begin", self._on_begin_postgresql)
        return engine

    def _read_only_uri(self) -> str:
        # mode=ro: SQLite never tries to write. Where no -shm file can be made next to it (a
        # read-only folder or mount), immutable=1 reads the file as it is: nobody can change it there.
        uri = f"file:{quote(str(self.path))}?mode=ro"
        if self.read_only and self.read_only_reason != "the file is not writable":
            uri += "&immutable=1"
        return uri

    def open_reader(self) -> sqlite3.Connection | None:
        """A read-only sqlite3 connection of the caller's own to this SQLite file (None for
        PostgreSQL or a database in memory), in autocommit (each SELECT is a read transaction of its
        own) and never waiting for a lock: a busy file raises sqlite3.OperationalError at once."""
        if not self.is_sqlite or self.path is None:
            return None
        return sqlite3.connect(
            self._read_only_uri(), uri=True, timeout=0, isolation_level=None, check_same_thread=False
        )

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (so DDL is
        # transactional and BEGIN IMMEDIATE is possible): the documented pysqlite recipe.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if self._wal_ready:
            self._enable_wal(cursor)
        cursor.close()

    def _on_begin(self, conn: Any) -> None:
        mode = "read" if self.read_only else conn.get_execution_options().get(_BEGIN_OPTION, "write")
        conn.exec_driver_sql(_SQLITE_BEGIN[mode])

    def _on_begin_postgresql(self, conn: Any) -> None:
        # psycopg opens the transaction with the first statement: this one, so the lock comes first.
        if conn.get_execution_options().get(_BEGIN_OPTION, "write") == "write":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    def _enable_wal(self, cursor: Any) -> None:
        if self.path is not None and not self.read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")

    # -- schema ----------------------------------------------------------------------------------

    def _read_revision(self) -> str | None:
        try:
            conn = self.engine.execution_options(**{_BEGIN_OPTION: "read"}).connect()
        except DBAPIError as exc:
            if self.is_sqlite:
                raise  # e.g. "file is not a database": the driver's own sentence says it best
            raise connect_failure(self.url, exc) from None
        with conn:
            if self.is_sqlite:
                has_table = (
                    conn.exec_driver_sql(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
                    ).first()
                    is not None
                )
            else:
                has_table = conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is not None
            if not has_table:
                return None
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            if len(rows) > 1:
                raise DatabaseUnavailableError(
                    f"The database {self.display_url} is damaged: its schema version table "
                    f"(alembic_version) has {len(rows)} rows ({', '.join(str(r[0]) for r in rows)}) where "
                    "there is always one. It was not modified; restore a backup or remove the wrong row."
                )
            return rows[0][0] if rows else None

    def _prepare_schema(self) -> str:
        current = self._read_revision()
        if current != HEAD_REVISION and self.read_only:
            if current is not None and current not in _known_revisions():
                self._upgrade(current)  # refuses it as written by a newer flowdesk, touching nothing
            raise DatabaseUnavailableError(
                f"The database {self.path} needs an upgrade to this version's schema, but "
                f"{self.read_only_reason}; make it writable, or copy it somewhere writable and use --db."
            )
        if current != HEAD_REVISION:
            self._upgrade(current)
        self._wal_ready = True
        if self.is_sqlite and self.path is not None:
            # Connections opened before this point (the pool keeps one) get WAL now.
            raw = self.engine.raw_connection()
            try:
                cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
                self._enable_wal(cursor)
                cursor.close()
            finally:
                raw.close()
        return HEAD_REVISION

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return config

    def _upgrade(self, current: str | None) -> None:
        from alembic import command
        from alembic.script import ScriptDirectory

        config = self._alembic_config()
        script = ScriptDirectory.from_config(config)
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise DatabaseTooNewError(
                f"This database was written by a newer version of flowdesk (schema {current}); "
                f"this version knows up to {script.get_current_head()}. It was not modified."
            )
        log.info("upgrading database %s from schema %s to %s", self.display_url, current, HEAD_REVISION)
        try:
            # One transaction (PostgreSQL's DDL is transactional too); on PostgreSQL it holds the
            # write lock, so a second process opening the same old database waits, then finds it done.
            with self.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except FlowdeskError:
            raise
        except Exception as exc:
            reason = _first_line(exc) if isinstance(exc, DBAPIError) else str(exc).rstrip(".")
            raise DatabaseUnavailableError(
                f"The database could not be brought up to date (schema {current or 'none'} to "
                f"{HEAD_REVISION}): {reason}. It was left as it was."
            ) from exc

    # -- sessions ------------------------------------------------------------------------------

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        A value the database refuses (PostgreSQL: text longer than its column, a NUL character)
        raises InvalidInputError with the database's reason.
        """
        factory = self._read_sessions if read_only else self._sessions
        try:
            with factory() as session, session.begin():
                yield session
        except DataError as exc:
            raise InvalidInputError(f"The database refused a value: {_first_line(exc)}.") from exc
        except OperationalError as exc:
            failure = self.write_failure(exc)
            if failure is None:
                raise
            raise failure from exc

    def write_failure(self, exc: BaseException) -> DatabaseUnavailableError | None:
        """One sentence naming the file and what to do, when `exc` says a SQLite file cannot be
        written (read-only, disk full, cannot be opened); None for any other error."""
        if self.path is None or not isinstance(exc, DBAPIError | sqlite3.Error):
            return None
        reason = _first_line(exc) if isinstance(exc, DBAPIError) else str(exc).strip()
        lowered = reason.lower()
        free = _free_bytes(self.path.parent)
        if "disk is full" in lowered or (
            "disk i/o error" in lowered and free is not None and free < _LOW_SPACE
        ):
            return DatabaseUnavailableError(
                f"The disk holding the database {self.path} is full ({free if free is not None else 0:,} bytes "
                "free): free some space, or move the database to another disk and use --db, then try again."
            )
        why = self.read_only_reason or why_not_writable(self.path)
        if "readonly database" in lowered or "read-only" in lowered or (why and "unable to open" in lowered):
            return DatabaseUnavailableError(
                f"The database {self.path} is read-only ({why or reason}): it can be listed, exported and "
                "monitored but not changed; make it writable, or copy it somewhere writable and use --db."
            )
        if "unable to open database file" in lowered:
            return DatabaseUnavailableError(
                f"Cannot open the database file {self.path}: check that it and its folder exist and can be "
                "read and written."
            )
        return None

    # -- crash recovery ------------------------------------------------------------------------

    def recover_interrupted(self) -> list[int]:
        """Mark runs left running/paused by a dead process on this host as interrupted; return their ids.

        Runs recorded by another host are left alone (this process cannot tell whether they live).
        """
        host = this_host()
        if self.is_sqlite and not self._unfinished_runs_here(host):
            return []  # the usual case, told without building (compiling) an ORM query
        with self.session(read_only=True) as session:
            rows = session.execute(
                select(ExecutionRow.id, ExecutionRow.runner_pid, ExecutionRow.created_at).where(
                    ExecutionRow.status.in_(("running", "paused")), ExecutionRow.runner_host == host
                )
            ).all()
        dead = [(rid, pid) for rid, pid, created in rows if not runner_alive(pid, created)]
        if not dead:
            return []
        from .audit_trail import record_audit
        from .run_recovery import interrupt_run, session_executor

        now = utcnow()
        with self.session() as session:
            execute = session_executor(session)
            for rid, pid in dead:
                who = f"pid {pid}" if pid is not None else "pid unknown"
                message = f"Interrupted: the process running it ({who}) stopped."
                if interrupt_run(execute, rid, message, now):
                    record_audit(session, "execution", rid, "update", message)
        ids = [rid for rid, _ in dead]
        log.warning("marked interrupted runs %s in %s", ids, self.display_url)
        return ids

    def _unfinished_runs_here(self, host: str) -> bool:
        """SQLite: whether any run recorded by `host` is still marked running or paused (one
        indexed lookup in plain SQL)."""
        with self.engine.execution_options(**{_BEGIN_OPTION: "read"}).connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT 1 FROM workflow_executions WHERE status IN ('running', 'paused') "
                "AND runner_host = ? LIMIT 1",
                (host,),
            ).first()
        return row is not None

    # -- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection (the last one checkpoints the WAL into the file)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


@functools.cache
def _known_revisions() -> frozenset[str]:
    """Every schema revision this program ships (from the revision files' headers)."""
    found: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            if key == "revision":
                found.add(value)
    return frozenset(found)


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0].rstrip(".")
