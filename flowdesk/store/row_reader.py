"""One execution by id, read on the caller's own thread: the server's `GET /executions/{id}`.

A session costs the server a worker-thread hop, a pool check-out, BEGIN and COMMIT around a one-row
SELECT (about 0.3 ms of CPU); this reader keeps one read-only sqlite3 connection of its own to the
file and runs the SELECT directly (tens of microseconds), so the server can answer on its event loop.
In autocommit each SELECT is a read transaction of its own and sees every commit made before it; with
WAL a reader never waits for a writer, and the connection never waits for a lock anyway (it fails at
once instead).

It answers only what it can answer at once: `execution()` returns None for PostgreSQL, a database in
memory, a busy file or an id with no row, and the caller then asks `ExecutionService.get_execution`,
which also says why a row is missing. `data_version()` tells a caller keeping answers whether
anything at all was committed since it read them. Values are decoded as `bulk.read_rows` decodes them and turned
into the model by `mapping.execution_from_row`, so both paths give the same Execution.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from typing import Any

from sqlalchemy import bindparam, select

from flowdesk.domain.models import Execution

from .bulk import row_decoder
from .database import Database
from .mapping import execution_from_row
from .tables import ExecutionRow

_TABLE: Any = ExecutionRow.__table__
_COLUMNS = [column.name for column in _TABLE.columns]
_Record = namedtuple("_Record", _COLUMNS)  # type: ignore[misc]  # the attribute access execution_from_row uses


class ExecutionReader:
    """Reads executions by id through a read-only connection of its own (SQLite files only)."""

    def __init__(self, db: Database) -> None:
        self._connection = db.open_reader()
        self._sql = str(
            select(*(_TABLE.c[name] for name in _COLUMNS))
            .where(_TABLE.c.id == bindparam("id"))
            .compile(dialect=db.engine.dialect)
        )
        self._decode = row_decoder(_TABLE, _COLUMNS, batch=False)

    def execution(self, execution_id: int) -> Execution | None:
        """The execution, or None when this reader cannot say (see the module's docstring)."""
        if self._connection is None:
            return None
        try:
            # fetchall: the statement runs to its end, so no read transaction stays open after it.
            rows = self._connection.execute(self._sql, (execution_id,)).fetchall()
        except sqlite3.Error:  # busy, or anything else: the store's own path says what is wrong
            return None
        if not rows:
            return None
        return execution_from_row(_Record(*self._decode(rows[0])))

    def data_version(self) -> int | None:
        """SQLite's `PRAGMA data_version` on this connection: it changes whenever any other connection,
        of this process or another, has committed to the file since the last call. None where there
        is no reader or the file is busy."""
        if self._connection is None:
            return None
        try:
            return int(self._connection.execute("PRAGMA data_version").fetchall()[0][0])
        except sqlite3.Error:
            return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
