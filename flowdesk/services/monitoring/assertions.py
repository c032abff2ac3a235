"""Assertion results per run: what the ASSERT steps of a workflow's recent runs counted.

An ASSERT step's output holds `passed` and `failed` (engine/handlers/assertion.py), also when the step
failed. The monitor lists, for the newest runs of the period that ran an ASSERT, the sums over their
ASSERT steps (a LOOP runs one per iteration), and the period's totals. The SQL is the store's
(store/monitor/assertions.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from flowdesk.store.monitor.assertions import assert_outputs, runs_with_asserts


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
    runs = runs_with_asserts(conn, workflow_id, since, limit)
    if not runs:
        return []
    found: dict[int, dict[str, Any]] = {
        eid: {"id": eid, "status": status, "started_at": started, "passed": 0, "failed": 0}
        for eid, status, started in runs
    }
    for eid, output in assert_outputs(conn, list(found)):
        passed, failed = _counts(output)
        found[eid]["passed"] += passed
        found[eid]["failed"] += failed
    return [found[eid] for eid, _status, _started in runs]
