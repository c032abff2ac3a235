"""What interrupting a run writes, in one place: the run becomes `interrupted` (with the reason and
an end time) only while it is still running or paused, and its running or pending steps become
`cancelled` with the same reason; given the dead runner (a worker's takeover), so do the SUBWORKFLOW
child runs it ran for the run, at any depth.

Two callers run it on different connections: `Database.recover_interrupted` (at open, in a session,
for dead processes on this host) and the worker's takeover of a dead worker's run
(`engine.records.interrupt_dead_run`, on the execution writer's connection, whose SQLite transaction
is driven through the driver directly). So the statements are written once, as SQL with named
parameters, and each caller passes how to execute one (`execute(sql, params) -> rowcount`) and `now`
in the form its connection stores. Each caller adds its own audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from .tables import UTCDateTime

Execute = Callable[[str, dict[str, Any]], int]

_RUN = (
    "UPDATE workflow_executions SET status = 'interrupted', error_message = :reason, completed_at = :now"
    " WHERE id = :id AND status IN ('running', 'paused')"
)
_SAME_RUNNER = " AND runner_host = :host AND runner_pid = :pid"
_STEPS = (
    "UPDATE workflow_execution_logs SET status = 'cancelled', error_type = 'cancelled',"
    " error_message = :reason, completed_at = :now"
    " WHERE execution_id = :id AND status IN ('running', 'pending')"
)


# The runs SUBWORKFLOW steps of run :id started, and theirs, at any depth.
_DESCENDANTS = (
    "WITH RECURSIVE tree(id) AS (SELECT id FROM workflow_executions WHERE parent_execution_id = :id"
    " UNION SELECT e.id FROM workflow_executions e JOIN tree ON e.parent_execution_id = tree.id)"
    " SELECT id FROM tree"
)
_CHILD_RUNS = (
    "UPDATE workflow_executions SET status = 'interrupted', error_message = :reason, completed_at = :now"
    f" WHERE status IN ('running', 'paused') AND id IN ({_DESCENDANTS})"
)
_CHILD_STEPS = (
    "UPDATE workflow_execution_logs SET status = 'cancelled', error_type = 'cancelled',"
    " error_message = :reason, completed_at = :now"
    f" WHERE status IN ('running', 'pending') AND execution_id IN ({_DESCENDANTS})"
    " AND execution_id IN (SELECT id FROM workflow_executions WHERE status = 'interrupted')"
)


def interrupt_run(
    execute: Execute,
    execution_id: int,
    reason: str,
    now: Any,
    *,
    host: str | None = None,
    pid: int | None = None,
) -> bool:
    """Mark the run interrupted and cancel its unfinished steps; False (nothing written) when the run
    is no longer running or paused, or, given `host` and `pid`, no longer theirs."""
    params: dict[str, Any] = {"reason": reason, "now": now, "id": execution_id}
    sql = _RUN
    if host is not None or pid is not None:
        sql += _SAME_RUNNER
        params.update(host=host, pid=pid)
    if not execute(sql, params):
        return False
    execute(_STEPS, {"reason": reason, "now": now, "id": execution_id})
    if host is not None or pid is not None:
        # A worker taking over a dead runner's run: the child runs that runner ran for it stopped
        # with it (a resumed SUBWORKFLOW step resumes them). At open, `recover_interrupted` finds
        # them on its own, as runs of the same dead process.
        execute(_CHILD_RUNS + _SAME_RUNNER, params)
        execute(_CHILD_STEPS, {"reason": reason, "now": now, "id": execution_id})
    return True


def session_executor(session: Session) -> Execute:
    """`execute` for a session: `:now` is bound as the store's UTC timestamp on every backend."""

    def execute(sql: str, params: dict[str, Any]) -> int:
        statement = text(sql).bindparams(bindparam("now", type_=UTCDateTime()))
        return int(session.execute(statement, params).rowcount)  # type: ignore[attr-defined]

    return execute
