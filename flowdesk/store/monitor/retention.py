"""The deletes of retention (services/monitoring/retention.py): which runs, and the runs themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .dialect import dialect_sql, query
from .stats import FINAL_STATUSES


def candidates(conn: Connection, keep_last: int, created_before: datetime | None) -> list[int]:
    """Ids, oldest first, of the finished executions beyond the newest `keep_last` of their workflow
    (and, if given, created before `created_before`)."""
    params: dict[str, Any] = {"keep": keep_last, "finals": FINAL_STATUSES}
    age = ""
    if created_before is not None:
        age = " AND created_at < :before"
        params["before"] = dialect_sql(conn).time(created_before)
    return [
        r[0]
        for r in query(
            conn,
            "SELECT id FROM (SELECT id, status, created_at,"
            " ROW_NUMBER() OVER (PARTITION BY workflow_id ORDER BY id DESC) AS newest"
            " FROM workflow_executions) AS ranked"
            f" WHERE newest > :keep AND status IN :finals{age} ORDER BY id",
            **params,
        )
    ]


def delete_finished(conn: Connection, execution_ids: list[int]) -> tuple[int, int]:
    """Delete those of `execution_ids` that are still finished, and their step logs (in the caller's
    write transaction: a run could have been resumed since it was picked); (executions, logs) deleted."""
    chunk = [
        r[0]
        for r in query(
            conn,
            "SELECT id FROM workflow_executions WHERE id IN :ids AND status IN :finals",
            ids=execution_ids,
            finals=FINAL_STATUSES,
        )
    ]
    if not chunk:
        return 0, 0
    logs = query(conn, "DELETE FROM workflow_execution_logs WHERE execution_id IN :ids", ids=chunk).rowcount
    execs = query(conn, "DELETE FROM workflow_executions WHERE id IN :ids", ids=chunk).rowcount
    return execs, logs
