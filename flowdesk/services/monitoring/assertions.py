"""Assertion results per run: what the ASSERT steps of a workflow's recent runs counted.

An ASSERT step's output holds `passed` and `failed` (engine/handlers/assertion.py), also when the step
failed. The monitor lists, for the newest runs of the period that ran an ASSERT, the sums over their
ASSERT steps (a LOOP runs one per iteration), and the period's totals.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .sql_dialect import dialect_sql, query
from .sql_time import from_db_time


def _counts(output: Any) -> tuple[int, int]:
    if isinstance(output, str | bytes):
        try:
            output = json.loads(output)
        except ValueError:
            return 0, 0
    if not isinstance(output, dict):
        return 0, 0
    passed, failed = output.get("passed"), output.get("failed")
    return (
        passed if isinstance(passed, int) and not isinstance(passed, bool) else 0,
        failed if isinstance(failed, int) and not isinstance(failed, bool) else 0,
    )


def assertion_runs(
    conn: Connection, workflow_id: int, since: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """[{id, status, started_at, passed, failed}] for the newest `limit` runs (since `since`) that ran
    an ASSERT, newest first."""
    sql = dialect_sql(conn)
    params: dict[str, Any] = {"workflow_id": workflow_id, "limit": int(limit)}
    where = ""
    if since is not None:
        where = " AND e.started_at >= :since"
        params["since"] = sql.time(since)
    runs = query(
        conn,
        "SELECT e.id, e.status, e.started_at FROM workflow_executions AS e"
        f" WHERE e.workflow_id = :workflow_id{where} AND EXISTS (SELECT 1 FROM workflow_execution_logs AS l"
        " WHERE l.execution_id = e.id AND l.node_type = 'ASSERT')"
        " ORDER BY e.id DESC LIMIT :limit",
        **params,
    ).all()
    if not runs:
        return []
    found = {
        eid: {"id": eid, "status": status, "started_at": from_db_time(started), "passed": 0, "failed": 0}
        for eid, status, started in runs
    }
    steps = query(
        conn,
        "SELECT l.execution_id, l.output_data FROM workflow_execution_logs AS l"
        " WHERE l.execution_id IN :ids AND l.node_type = 'ASSERT'",
        ids=list(found),
    )
    for eid, output in steps:
        passed, failed = _counts(output)
        found[eid]["passed"] += passed
        found[eid]["failed"] += failed
    return [found[eid] for eid, _status, _started in runs]
