"""The engine's own short database paths (run on the ExecutionWriter thread).

Starting a run is one transaction: check the workflow's `updated_at`, reuse the graph loaded for it
before when unchanged (every edit of a workflow touches `updated_at`), insert the execution row and
its audit row. This keeps a START -> END run at well under two milliseconds of database time.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flowdesk.domain.errors import NotFoundError
from flowdesk.domain.models import WorkflowGraph

from .encoding import json_text as _json_text
from .encoding import time_text as _time_text
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
        from flowdesk.services.workflows import read_graph

        cursor = _sqlite_cursor(session)
        if cursor is not None:
            updated = cursor.execute(
                "SELECT updated_at FROM workflow_definitions WHERE id = ?", (workflow_id,)
            ).fetchone()
        else:
            from flowdesk.store.tables import WorkflowRow

            updated = session.execute(
                select(WorkflowRow.updated_at).where(WorkflowRow.id == workflow_id)
            ).first()
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
) -> tuple[WorkflowGraph, Any, int | None, Any]:
    """One transaction: the workflow's graph and, when its plan is already known (validated), the new
    execution row too. Returns (graph, plan or None, execution id or None, started_at).

    `row_input(graph)` gives the row's input_data once the graph is known (the workflow's declared
    inputs fill defaults and refuse what is missing: an error raised there creates no row)."""
    _, graph, plan = cache.lookup(conn, workflow_id)
    if row_input is not None:
        fields["input_data"] = row_input(graph)
    if plan is None:
        return graph, None, None, None
    execution_id, started_at = _insert_execution(conn, workflow_id, **fields)
    return graph, plan, execution_id, started_at


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
    from flowdesk.store.tables import ExecutionRow, WorkflowRow

    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        workflow_found = cursor.execute(
            "SELECT 1 FROM workflow_definitions WHERE id = ?", (workflow_id,)
        ).fetchone()
        execution_found = (
            resumed_from_id is None
            or cursor.execute("SELECT 1 FROM workflow_executions WHERE id = ?", (resumed_from_id,)).fetchone()
        )
    else:
        workflow_found = conn.execute(select(WorkflowRow.id).where(WorkflowRow.id == workflow_id)).first()
        execution_found = resumed_from_id is None or (
            conn.execute(select(ExecutionRow.id).where(ExecutionRow.id == resumed_from_id)).first()
        )
    if workflow_found is None:
        raise NotFoundError(f"Workflow {workflow_id} does not exist.")
    if not execution_found:
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
    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        cursor.execute(
            "UPDATE workflow_executions SET resumed_as_id = ?,"
            " status = CASE WHEN status = 'interrupted' THEN 'resumed' ELSE status END"
            " WHERE id = ? AND resumed_as_id IS NULL AND status IN (?, ?, ?, ?)",
            (new_id, execution_id, *RESUMABLE_STATUSES),
        )
        claimed = cursor.rowcount == 1
        found = cursor.execute(
            "SELECT status, resumed_as_id FROM workflow_executions WHERE id = ?", (execution_id,)
        ).fetchone()
    else:
        from sqlalchemy import case, update

        from flowdesk.store.tables import ExecutionRow

        done = conn.execute(
            update(ExecutionRow)
            .where(
                ExecutionRow.id == execution_id,
                ExecutionRow.resumed_as_id.is_(None),
                ExecutionRow.status.in_(RESUMABLE_STATUSES),
            )
            .values(
                resumed_as_id=new_id,
                status=case((ExecutionRow.status == "interrupted", "resumed"), else_=ExecutionRow.status),
            )
        )
        claimed = done.rowcount == 1
        found = conn.execute(
            select(ExecutionRow.status, ExecutionRow.resumed_as_id).where(ExecutionRow.id == execution_id)
        ).first()
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
    from flowdesk.store.tables import ExecutionRow, utcnow

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
    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        names = list(values)
        cursor.execute(
            f"INSERT INTO workflow_executions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) RETURNING id",
            [_encode(k, values[k]) for k in names],
        )
        execution_id = int(cursor.fetchone()[0])
    else:
        from flowdesk.store.bulk import insert_rows

        (execution_id,) = insert_rows(conn, ExecutionRow.__table__, [values])  # type: ignore[arg-type]
    name = f" '{execution_name}'" if execution_name else ""
    add_audit(conn, execution_id, "create", f"Started run {execution_id}{name} of workflow {workflow_id}.")
    return execution_id, now


def update_execution(conn: Any, execution_id: int, fields: dict[str, Any]) -> None:
    """Change columns of one execution row, in the connection's transaction."""
    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        names = list(fields)
        cursor.execute(
            f"UPDATE workflow_executions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
            [*(_encode(n, fields[n]) for n in names), execution_id],
        )
        return
    from flowdesk.store.bulk import update_rows
    from flowdesk.store.tables import ExecutionRow

    update_rows(conn, ExecutionRow.__table__, [{"id": execution_id, **fields}])  # type: ignore[arg-type]


def add_audit(conn: Any, execution_id: int, action: str, summary: str, actor: str | None = None) -> None:
    """One audit row about an execution, in the connection's transaction (by `actor`, else the current one)."""
    from flowdesk.store.audit_trail import current_actor
    from flowdesk.store.tables import AuditRow, utcnow

    row = {
        "occurred_at": utcnow(),
        "entity": "execution",
        "entity_id": execution_id,
        "action": action,
        "summary": summary[:2000],
        "actor": actor or current_actor(),
    }
    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        cursor.execute(
            "INSERT INTO audit_log (occurred_at, entity, entity_id, action, summary, actor)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_time_text(row["occurred_at"]), "execution", execution_id, action, row["summary"], row["actor"]),
        )
        return
    from flowdesk.store.bulk import insert_rows

    insert_rows(conn, AuditRow.__table__, [row])  # type: ignore[arg-type]


_EXECUTION_COLUMNS = frozenset(
    {
        "workflow_id",
        "execution_name",
        "status",
        "input_data",
        "output_data",
        "error_message",
        "current_node",
        "progress",
        "config",
        "environment",
        "runner_pid",
        "runner_host",
        "resumed_from_id",
        "resumed_as_id",
        "parent_execution_id",
        "parent_step",
        "started_at",
        "completed_at",
        "created_at",
    }
)
_JSON_COLUMNS = frozenset({"input_data", "output_data", "config"})
_TIME_COLUMNS = frozenset({"started_at", "completed_at", "created_at"})


def _encode(column: str, value: Any) -> Any:
    # The values the store's column types write on SQLite (see writer.insert_steps_sqlite).
    if column not in _EXECUTION_COLUMNS:
        raise ValueError(f"workflow_executions has no column {column!r}")
    if column in _JSON_COLUMNS:
        return _json_text(value)
    if column in _TIME_COLUMNS:
        return _time_text(value)
    return value


def _sqlite_cursor(conn: Any) -> Any:
    """The DB-API cursor of a SQLite connection (statements run in its open transaction), else None."""
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.driver_connection.cursor()


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


def _run_sql(conn: Any, sql: str, params: dict[str, Any]) -> Any:
    """One statement with :named parameters in the connection's open transaction (on SQLite through
    its DB-API cursor, as the rest of this module); returns the cursor/result."""
    cursor = _sqlite_cursor(conn)
    if cursor is not None:
        return cursor.execute(sql, params)
    from sqlalchemy import text

    return conn.execute(text(sql), params)


def _stamp(conn: Any, moment: datetime) -> Any:
    """A timestamp parameter as the store writes it on this dialect."""
    return _encode("started_at", moment) if conn.dialect.name == "sqlite" else moment


def claim_pending(conn: Any, execution_id: int) -> datetime | None:
    """Move a queued (`pending`) execution to `running` for this process, recording its host and
    pid; None when it is not pending any more (another worker took it, or it was cancelled). One
    conditional UPDATE, so two workers can never both take it."""
    from flowdesk.store.database import this_host
    from flowdesk.store.tables import utcnow

    from .errors import ExecutionLimitReached

    found = _run_sql(
        conn,
        "SELECT workflow_id FROM workflow_executions WHERE id = :id AND status = 'pending'",
        {"id": execution_id},
    ).fetchone()
    if found is None:
        return None
    limit = _concurrency_limit(conn, found[0])  # holds the workflow's row lock until the commit
    if limit is not None:
        running = _run_sql(
            conn,
            "SELECT count(*) FROM workflow_executions WHERE workflow_id = :w AND status IN ('running', 'paused')",
            {"w": found[0]},
        ).fetchone()[0]
        if running >= limit:
            raise ExecutionLimitReached(
                f"workflow {found[0]} already runs {running} execution(s), its max_concurrent_executions"
            )
    now = utcnow()
    done = _run_sql(
        conn,
        "UPDATE workflow_executions SET status = 'running', runner_pid = :pid, runner_host = :host,"
        " started_at = :now WHERE id = :id AND status = 'pending'",
        {"pid": _PID, "host": _host(this_host), "now": _stamp(conn, now), "id": execution_id},
    ).rowcount
    if not done:
        return None
    add_audit(conn, execution_id, "update", f"Run {execution_id} went from pending to running.")
    return now


def _concurrency_limit(conn: Any, workflow_id: int) -> int | None:
    """The workflow's `config.max_concurrent_executions` (None: no limit), read under a row lock on
    the workflow (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE locks already), so the claims of
    every worker on this workflow pass one at a time and the count they check stays true."""
    lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
    row = _run_sql(
        conn, f"SELECT config FROM workflow_definitions WHERE id = :w{lock}", {"w": workflow_id}
    ).fetchone()
    config = row[0] if row is not None else None
    if isinstance(config, str):
        config = json.loads(config)
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
    lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE locks already
    row = _run_sql(
        conn, f"SELECT workflow_id FROM workflow_executions WHERE id = :id{lock}", {"id": execution_id}
    ).fetchone()
    if row is None:
        raise not_resumable(execution_id, None, None)
    created = _insert_execution(conn, row[0], **{**fields, "resumed_from_id": execution_id})
    claim_for_resume(conn, execution_id, created[0])
    return created


def interrupt_dead_run(conn: Any, execution_id: int, host: str, pid: int, reason: str) -> bool:
    """Mark a run `interrupted` if it is still running or paused under the given (dead) runner; one
    conditional UPDATE, so a run whose owner moved on meanwhile is left alone."""
    from flowdesk.store.run_recovery import interrupt_run
    from flowdesk.store.tables import utcnow

    def execute(sql: str, params: dict[str, Any]) -> int:
        return int(_run_sql(conn, sql, params).rowcount)

    if not interrupt_run(execute, execution_id, reason, _stamp(conn, utcnow()), host=host, pid=pid):
        return False
    add_audit(conn, execution_id, "update", reason)
    return True
