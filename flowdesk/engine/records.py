"""The engine's own short database paths (run on the ExecutionWriter thread).

Starting a run is one transaction: check the workflow's `updated_at`, reuse the graph loaded for it
before when unchanged (every edit of a workflow touches `updated_at`), insert the execution row and
its audit row. This keeps a START -> END run at well under two milliseconds of database time.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from flowdesk.domain.errors import NotFoundError
from flowdesk.domain.models import WorkflowGraph


class GraphCache:
    """Graphs loaded from the database (and their compiled plans), valid while `updated_at` matches."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
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
        from flowdesk.store.tables import WorkflowRow

        updated = session.execute(select(WorkflowRow.updated_at).where(WorkflowRow.id == workflow_id)).first()
        if updated is None:
            raise NotFoundError(f"Workflow {workflow_id} does not exist.")
        with self._lock:
            hit = self._graphs.get(workflow_id)
        if hit is not None and hit[0] == updated[0]:
            return hit
        entry = [updated[0], read_graph(session, workflow_id), None]
        with self._lock:
            if len(self._graphs) >= self.size:
                self._graphs.clear()
            self._graphs[workflow_id] = entry
        return entry


def load_graph(db: Any, cache: GraphCache, workflow_id: int) -> WorkflowGraph:
    """The graph of a stored workflow (cached while unchanged)."""
    with db.session(read_only=True) as session:
        return cache.lookup(session, workflow_id)[1]


def start_run(
    db: Any, cache: GraphCache, workflow_id: int, **fields: Any
) -> tuple[WorkflowGraph, Any, int | None, Any]:
    """One transaction: the workflow's graph and, when its plan is already known (validated), the new
    execution row too. Returns (graph, plan or None, execution id or None, started_at)."""
    with db.session() as session:
        _, graph, plan = cache.lookup(session, workflow_id)
        if plan is None:
            return graph, None, None, None
        execution_id, started_at = _insert_execution(session, workflow_id, **fields)
        return graph, plan, execution_id, started_at


def create_execution(
    db: Any,
    workflow_id: int,
    *,
    execution_name: str | None,
    input_data: Any,
    config: dict[str, Any],
    status: str,
    resumed_from_id: int | None,
) -> tuple[int, datetime]:
    """Insert a running execution row (runner pid/host recorded) with its audit row; (id, started_at)."""
    from flowdesk.store.tables import ExecutionRow, WorkflowRow

    with db.session() as session:
        if session.execute(select(WorkflowRow.id).where(WorkflowRow.id == workflow_id)).first() is None:
            raise NotFoundError(f"Workflow {workflow_id} does not exist.")
        if resumed_from_id is not None and (
            session.execute(select(ExecutionRow.id).where(ExecutionRow.id == resumed_from_id)).first() is None
        ):
            raise NotFoundError(f"Execution {resumed_from_id} does not exist.")
        return _insert_execution(
            session,
            workflow_id,
            execution_name=execution_name,
            input_data=input_data,
            config=config,
            status=status,
            resumed_from_id=resumed_from_id,
        )


def _insert_execution(
    session: Any,
    workflow_id: int,
    *,
    execution_name: str | None,
    input_data: Any,
    config: dict[str, Any],
    status: str,
    resumed_from_id: int | None,
) -> tuple[int, datetime]:
    from flowdesk.store.audit_trail import record_audit
    from flowdesk.store.database import this_host
    from flowdesk.store.tables import ExecutionRow, utcnow

    now = utcnow()
    table = ExecutionRow.__table__
    execution_id = session.execute(
        insert(table)
        .values(
            workflow_id=workflow_id,
            execution_name=execution_name,
            status=status,
            input_data=input_data,
            config=config,
            progress=0.0,
            runner_pid=os.getpid(),
            runner_host=this_host(),
            resumed_from_id=resumed_from_id,
            started_at=now,
            created_at=now,
        )
        .returning(table.c.id)
    ).scalar_one()
    name = f" '{execution_name}'" if execution_name else ""
    record_audit(
        session,
        "execution",
        execution_id,
        "create",
        f"Started run {execution_id}{name} of workflow {workflow_id}.",
    )
    return execution_id, now
