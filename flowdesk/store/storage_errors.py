"""What kind of storage failure a database error is: a full disk, a value too big, or something else.

The execution writer (engine/writer.py) decides from this whether to cut a row's values and write it
again (too big) or to stop the run (full disk), and it says so in one sentence. Only the store knows
each backend's error codes; the engine asks here.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass

FULL = "full"
TOO_BIG = "too_big"

# SQLSTATE codes (PostgreSQL): 53100 disk_full, 53200 out_of_memory, 54000 program_limit_exceeded,
# 54001 statement_too_complex, 22001 string_data_right_truncation.
_PG_FULL = frozenset({"53100"})
_PG_TOO_BIG = frozenset({"54000", "54001", "22001"})


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
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return StorageFailure("other", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return ((text.splitlines() or [type(exc).__name__])[0].rstrip(".") or type(exc).__name__)[:200]
