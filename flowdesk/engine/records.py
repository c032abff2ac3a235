"""The engine's own short database paths (run on the ExecutionWriter thread).

Starting a run is one transaction: check the workflow's `updated_at`, reuse the graph loaded for it
before when unchanged (every edit of a workflow touches `updated_at`), insert the execution row and
its audit row. This keeps a START -> END run at well under two milliseconds of database time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flowdesk.domain.errors import NotFoundError
from flowdesk.domain.models import WorkflowGraph
from flowdesk.store import run_rows

from .errors import ExecutionNotResumableError


class GraphCache:
    """Graphs loaded from the database (and their compiled plans), valid while `updated_at` matches."""

    def __init__(self, size: int = 64, db: Any = None) -> None:
        self.size = size
        self.db = db  # when set, a graph missing from the cache is read in its own read transaction
        self._graphs: dict[int, list[Any]] = {}  # workflow id -> [updated_at, graph, plan or None]
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._graphs.clear()

    def set_plan(self, workflow_id: int | None, graph: WorkflowGraph, plan: Any) -> None:
        """Remember the compiled (validated) plan of a graph this cache handed out."""
        with self._lock:
            entry = self._graphs.get(workflow_id) if workflow_id is not None else None
            if entry is not None and entry[1] is graph:
                entry[2] = plan

    def lookup(self, session: Any, workflow_id: int) -> list[Any]:
        """[updated_at, graph, plan] of `workflow_id` (the graph read again when the workflow changed)."""
        from flowdesk.store.graphs import read_graph

        updated = run_rows.workflow_updated_at(session, workflow_id)
        if updated is None:
            raise NotFoundError(f"Workflow {workflow_id} does not exist.")
        with self._lock:
            hit = self._graphs.get(workflow_id)
        if hit is not None and hit[0] == updated[0]:
            return hit
        if self.db is not None:
            with self.db.session(read_only=True) as reader:
                graph = read_graph(reader, workflow_id)
        else:
            graph = _read_graph(session, workflow_id, read_graph)
        entry = [updated[0], graph, None]
        with self._lock:
            if len(self._graphs) >= self.size:
                self._graphs.clear()
            self._graphs[workflow_id] = entry
        return entry


def load_graph(conn: Any, cache: GraphCache, workflow_id: int) -> WorkflowGraph:
    """The graph of a stored workflow (cached while unchanged); `conn` is in a transaction."""
    return cache.lookup(conn, workflow_id)[1]


def start_run(
    conn: Any,
    cache: GraphCache,
    workflow_id: int,
    *,
    row_input: Callable[[WorkflowGraph], Any] | None = None,
    **fields: Any,
) -> tuple[WorkflowGraph, Any, int | None, Any, bool | None]:
    """One transaction: the workflow's graph and, when its plan is already known (validated), the new
    execution row too. Returns (graph, plan or None, execution id or None, started_at, whether the
    workflow has alert rules or None).

    `row_input(graph)` gives the row's input_data once the graph is known (the workflow's declared
    inputs fill defaults and refuse what is missing: an error raised there creates no row)."""
    _, graph, plan = cache.lookup(conn, workflow_id)
    if row_input is not None:
        fields["input_data"] = row_input(graph)
    if plan is None:
        return graph, None, None, None, None
    execution_id, started_at = _insert_execution(conn, workflow_id, **fields)
    return graph, plan, execution_id, started_at, run_rows.has_alert_rules(conn, workflow_id)


def create_execution(
    conn: Any,
    workflow_id: int,
    *,
    execution_name: str | None,
    input_data: Any,
    config: dict[str, Any],
    status: str,
    resumed_from_id: int | None,
    environment: str | None = None,
    parent_execution_id: int | None = None,
    parent_step: str | None = None,
) -> tuple[int, datetime]:
    """Insert a running execution row (runner pid/host recorded) with its audit row; (id, started_at)."""
    if not run_rows.workflow_exists(conn, workflow_id):
        raise NotFoundError(f"Workflow {workflow_id} does not exist.")
    if resumed_from_id is not None and not run_rows.execution_exists(conn, resumed_from_id):
        raise NotFoundError(f"Execution {resumed_from_id} does not exist.")
    created = _insert_execution(
        conn,
        workflow_id,
        execution_name=execution_name,
        input_data=input_data,
        config=config,
        status=status,
        resumed_from_id=resumed_from_id,
        environment=environment,
        parent_execution_id=parent_execution_id,
        parent_step=parent_step,
    )
    if resumed_from_id is not None:
        claim_for_resume(conn, resumed_from_id, created[0])
    return created


def create_execution_noting_alerts(
    conn: Any, workflow_id: int, **fields: Any
) -> tuple[tuple[int, datetime], bool]:
    """`create_execution`, and whether the workflow has alert rules, read in the same transaction:
    a run of a workflow without rules then ends without an alert evaluation (docs/monitoring.md)."""
    created = create_execution(conn, workflow_id, **fields)
    return created, run_rows.has_alert_rules(conn, workflow_id)


RESUMABLE_STATUSES = ("interrupted", "failed", "cancelled", "timed_out")


def not_resumable(
    execution_id: int, status: str | None, resumed_as_id: int | None
) -> ExecutionNotResumableError:
    """Why `execution_id` cannot be resumed, as the error every door shows."""
    if status is None:
        return ExecutionNotResumableError(f"execution {execution_id} does not exist")
    if resumed_as_id is not None:
        return ExecutionNotResumableError(
            f"execution {execution_id} was already resumed as execution {resumed_as_id}"
        )
    return ExecutionNotResumableError(
        f"execution {execution_id} is {status}; only interrupted, failed, cancelled or timed-out executions "
        "can be resumed"
    )


def claim_for_resume(conn: Any, execution_id: int, new_id: int) -> None:
    """In the transaction creating execution `new_id`: record it as the one resuming `execution_id`
    (`interrupted` becomes `resumed`). One conditional UPDATE, so of two resumes at once exactly one
    claims it; the other gets ExecutionNotResumableError and its transaction is rolled back."""
    claimed, found = run_rows.claim_for_resume(conn, execution_id, new_id, RESUMABLE_STATUSES)
    if not claimed:
        raise not_resumable(execution_id, *(found if found is not None else (None, None)))
    add_audit(conn, execution_id, "update", f"Run {execution_id} was resumed as run {new_id}.")


def _insert_execution(
    conn: Any,
    workflow_id: int,
    *,
    execution_name: str | None,
    input_data: Any,
    config: dict[str, Any],
    status: str,
    resumed_from_id: int | None,
    environment: str | None = None,
    parent_execution_id: int | None = None,
    parent_step: str | None = None,
) -> tuple[int, datetime]:
    from flowdesk.store.database import this_host
    from flowdesk.store.tables import utcnow

    now = utcnow()
    values = {
        "workflow_id": workflow_id,
        "execution_name": execution_name,
        "status": status,
        "input_data": input_data,
        "config": config,
        "progress": 0.0,
        "runner_pid": _PID,
        "runner_host": _host(this_host),
        "resumed_from_id": resumed_from_id,
        "environment": environment,
        "parent_execution_id": parent_execution_id,
        "parent_step": parent_step,
        "started_at": now,
        "created_at": now,
    }
    execution_id = run_rows.insert_execution(conn, values)
    name = f" '{execution_name}'" if execution_name else ""
    add_audit(conn, execution_id, "create", f"Started run {execution_id}{name} of workflow {workflow_id}.")
    return execution_id, now


def update_execution(conn: Any, execution_id: int, fields: dict[str, Any]) -> None:
    """Change columns of one execution row, in the connection's transaction."""
    run_rows.update_execution(conn, execution_id, fields)


def add_audit(conn: Any, execution_id: int, action: str, summary: str, actor: str | None = None) -> None:
    """One audit row about an execution, in the connection's transaction (by `actor`, else the current one)."""
    run_rows.audit_execution(conn, execution_id, action, summary, actor)


_HOST: list[str] = []


def _host(this_host: Any) -> str:
    if not _HOST:
        _HOST.append(this_host())
    return _HOST[0]


def _read_graph(conn: Any, workflow_id: int, read_graph: Any) -> WorkflowGraph:
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        return read_graph(session, workflow_id)


_PID = os.getpid()


def claim_pending(conn: Any, execution_id: int) -> datetime | None:
    """Move a queued (`pending`) execution to `running` for this process, recording its host and
    pid; None when it is not pending any more (another worker took it, or it was cancelled). One
    conditional UPDATE, so two workers can never both take it."""
    from flowdesk.store.database import this_host
    from flowdesk.store.tables import utcnow

    from .errors import ExecutionLimitReached

    workflow_id = run_rows.pending_workflow(conn, execution_id)
    if workflow_id is None:
        return None
    limit = _concurrency_limit(conn, workflow_id)  # holds the workflow's row lock until the commit
    if limit is not None:
        running = run_rows.active_executions(conn, workflow_id)
        if running >= limit:
            raise ExecutionLimitReached(
                f"workflow {workflow_id} already runs {running} execution(s), its max_concurrent_executions"
            )
    now = utcnow()
    if not run_rows.mark_running(conn, execution_id, _PID, _host(this_host), now):
        return None
    add_audit(conn, execution_id, "update", f"Run {execution_id} went from pending to running.")
    return now


def _concurrency_limit(conn: Any, workflow_id: int) -> int | None:
    """The workflow's `config.max_concurrent_executions` (None: no limit), read under a row lock on
    the workflow (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE locks already), so the claims of
    every worker on this workflow pass one at a time and the count they check stays true."""
    config = run_rows.workflow_config_locked(conn, workflow_id)
    value = (config or {}).get("max_concurrent_executions")
    if value in (None, "", 0):
        return None
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return None


def claim_resume(conn: Any, execution_id: int, **fields: Any) -> tuple[int, datetime]:
    """The atomic claim behind every resume (a user's, the server's, a worker taking over a run): in
    one transaction, lock the stopped execution's row, insert the new execution (`resumed_from_id` =
    the old one) and claim the old one for it (`claim_for_resume`: `interrupted` becomes `resumed`,
    `resumed_as_id` is set). Two resumes racing get one new execution between them; the other is
    refused with ExecutionNotResumableError and its transaction rolled back."""
    workflow_id = run_rows.execution_workflow_locked(conn, execution_id)
    if workflow_id is None:
        raise not_resumable(execution_id, None, None)
    created = _insert_execution(conn, workflow_id, **{**fields, "resumed_from_id": execution_id})
    claim_for_resume(conn, execution_id, created[0])
    return created


def interrupt_dead_run(conn: Any, execution_id: int, host: str, pid: int, reason: str) -> bool:
    """Mark a run `interrupted` if it is still running or paused under the given (dead) runner; one
    conditional UPDATE, so a run whose owner moved on meanwhile is left alone."""
    from flowdesk.store.tables import utcnow

    if not run_rows.interrupt(conn, execution_id, reason, utcnow(), host=host, pid=pid):
        return False
    add_audit(conn, execution_id, "update", reason)
    return True
