"""What runs wrote to a database, counted (the tests of unrecorded runs check it stays nothing)."""

from __future__ import annotations

from pathlib import Path

from flowdesk.services.executions import ExecutionService
from flowdesk.store import Database


def row_counts(db) -> tuple[int, int]:
    """(execution rows, step rows) in the database (a Database, or a SQLite file's path)."""
    if isinstance(db, Path):
        with Database(db) as opened:
            return row_counts(opened)
    service = ExecutionService(db)
    executions = service.list_executions()
    return len(executions), sum(len(service.get_logs(e.id)) for e in executions)
