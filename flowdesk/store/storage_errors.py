"""What kind of storage failure a database error is: a full disk, a value too big, a database server
that cannot be reached, or something else.

The execution writer (engine/writer.py) decides from this whether to cut a row's values and write it
again (too big), to wait for the server and write again (unreachable), or to stop the run (full
disk), and it says so in one sentence. Only the store knows each backend's error codes; the engine
asks here.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass

FULL = "full"
TOO_BIG = "too_big"
UNREACHABLE = "unreachable"

# SQLSTATE codes (PostgreSQL): 53100 disk_full, 53200 out_of_memory, 54000 program_limit_exceeded,
# 54001 statement_too_complex, 22001 string_data_right_truncation.
_PG_FULL = frozenset({"53100"})
_PG_TOO_BIG = frozenset({"54000", "54001", "22001"})
# The server went away or is not taking connections: 57P01 admin_shutdown, 57P02 crash_shutdown,
# 57P03 cannot_connect_now (starting or stopping); class 08 is connection_exception.
_PG_GONE = frozenset({"57P01", "57P02", "57P03"})
_PG_PASSING_STATES = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "terminating connection due to administrator command",
    "sorry, too many clients already",
)


@dataclass(frozen=True)
class StorageFailure:
    """A write the database refused: `kind` is FULL, TOO_BIG or "other"; `detail` its first line."""

    kind: str
    detail: str

    def sentence(self, where: str) -> str:
        """One sentence for the user, naming `where` (the database's file or URL)."""
        if self.kind == FULL:
            return (
                f"the disk holding the database {where} is full, so the run's step rows could not be written"
            )
        if self.kind == TOO_BIG:
            return f"a value was too big for the database {where} ({self.detail})"
        if self.kind == UNREACHABLE:
            return f"the database {where} cannot be reached ({self.detail})"
        return f"the database {where} refused the run's step rows ({self.detail})"


def classify(exc: BaseException) -> StorageFailure:
    """The storage failure `exc` (a DB-API error, possibly wrapped by SQLAlchemy) stands for."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        detail = _first_line(current)
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code == sqlite3.SQLITE_FULL or "database or disk is full" in detail:
                return StorageFailure(FULL, detail)
            if code == sqlite3.SQLITE_TOOBIG or "too big" in detail:
                return StorageFailure(TOO_BIG, detail)
        sqlstate = getattr(current, "sqlstate", None)
        if sqlstate in _PG_FULL:
            return StorageFailure(FULL, detail)
        if sqlstate in _PG_TOO_BIG:
            return StorageFailure(TOO_BIG, detail)
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return StorageFailure(FULL, detail)
        if _server_gone(current, sqlstate):
            return StorageFailure(UNREACHABLE, detail)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return StorageFailure("other", _first_line(exc))


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database server cannot be reached (stopped, restarting, network):
    a write that failed so was not committed and can be made again once the server answers."""
    return classify(exc).kind == UNREACHABLE


def _server_gone(exc: BaseException, sqlstate: str | None) -> bool:
    if sqlstate is not None:
        return sqlstate in _PG_GONE or sqlstate.startswith("08")
    if getattr(exc, "connection_invalidated", False):  # SQLAlchemy saw the connection drop
        return True
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect or the connection
    # broke; the driver is optional, so it is recognised by name. A server that answered with a
    # FATAL refusal (no such database or role, a wrong password) is reachable: waiting would not
    # help, unless it refused because it is starting, stopping or recovering.
    kind = type(exc)
    if kind.__name__ != "OperationalError" or not kind.__module__.startswith("psycopg"):
        return False
    text = str(exc)
    return "FATAL:" not in text or any(phrase in text for phrase in _PG_PASSING_STATES)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return ((text.splitlines() or [type(exc).__name__])[0].rstrip(".") or type(exc).__name__)[:200]
