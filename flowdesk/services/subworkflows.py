"""Sub-workflow checks against the workflow library: `subworkflow_problems(db, graph)` reports each
SUBWORKFLOW node whose workflow is not stored, and calls that go round in a cycle (A → B → A), as
located problems (flowdesk/domain/subworkflow_calls.py does the walking). `extra` graphs (the
`workflows` a file carries) are looked at before the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowdesk.domain.errors import ConflictError, NotFoundError
from flowdesk.domain.models import Problem, WorkflowGraph
from flowdesk.domain.subworkflow_calls import call_problems, calls, workflow_types

from .workflows import WorkflowService


def graph_lookup(db: Any = None, extra: Iterable[WorkflowGraph] = ()) -> Any:
    """A lookup of graphs by id or name: the `extra` graphs first, then the stored workflows."""
    carried = {g.workflow.name: g for g in extra}
    found: dict[int | str, WorkflowGraph | None] = {}

    def lookup(reference: int | str) -> WorkflowGraph | None:
        if isinstance(reference, str) and reference in carried:
            return carried[reference]
        if reference in found:
            return found[reference]
        graph = None
        if db is not None:
            service = WorkflowService(db)
            try:
                workflow = service.find_workflow(reference)
            except (NotFoundError, ConflictError):
                workflow = None
            if workflow is not None and workflow.id is not None:
                graph = service.load_graph(workflow.id)
        found[reference] = graph
        return graph

    return lookup


def subworkflow_problems(
    db: Any,
    graph: WorkflowGraph,
    extra: Iterable[WorkflowGraph] = (),
    handlers: Mapping[str, str | None] | None = None,
) -> list[Problem]:
    """Missing sub-workflows and cycles of sub-workflow calls of `graph` (none when it calls none);
    without a database (`db` None) only cycles among the `extra` graphs. Nodes of custom types whose
    handler runs a stored workflow are calls too: `handlers` (type name → execution_handler) names
    them, else the database's registered types do."""
    if handlers is None:
        handlers = registered_handlers(db) if db is not None else {}
    types = workflow_types(handlers)
    if next(calls(graph, types), None) is None:
        return []
    return call_problems(graph, graph_lookup(db, extra), report_missing=db is not None, types=types)


def registered_handlers(db: Any) -> dict[str, str | None]:
    """The execution_handler of each custom node type registered in `db`, by type name."""
    from .node_types import NodeTypeService

    return {
        name: descriptor.handler
        for name, descriptor in NodeTypeService(db).known_types().items()
        if descriptor.handler is not None
    }


def child_runs(db: Any, execution_id: int) -> list[Any]:
    """The runs SUBWORKFLOW steps of `execution_id` started, oldest first (the index of 0007)."""
    from sqlalchemy import select

    from flowdesk.store.mapping import execution_from_row
    from flowdesk.store.tables import ExecutionRow

    table = ExecutionRow.__table__
    with db.session(read_only=True) as session:
        rows = session.connection().execute(
            select(table).where(table.c.parent_execution_id == execution_id).order_by(table.c.id)
        )
        return [execution_from_row(row) for row in rows]


def child_counts(db: Any, execution_ids: Iterable[int]) -> dict[int, int]:
    """How many child runs each of `execution_ids` started (absent: none)."""
    from sqlalchemy import func, select

    from flowdesk.store.tables import ExecutionRow

    ids = list(execution_ids)
    if not ids:
        return {}
    column = ExecutionRow.__table__.c.parent_execution_id
    with db.session(read_only=True) as session:
        rows = session.connection().execute(
            select(column, func.count()).where(column.in_(ids)).group_by(column)
        )
        return {int(parent): int(count) for parent, count in rows}


def called_workflows(db: Any, graph: WorkflowGraph) -> list[WorkflowGraph]:
    """Every stored workflow `graph` calls through SUBWORKFLOW nodes, directly or further down,
    each once, callees before their callers (the order an import stores them in); `graph` itself
    and workflows that do not exist are left out."""
    lookup = graph_lookup(db)
    seen: set[Any] = {graph.workflow.id if graph.workflow.id is not None else graph.workflow.name}
    ordered: list[WorkflowGraph] = []

    def visit(current: WorkflowGraph) -> None:
        for _index, _name, reference in calls(current):
            child = lookup(reference)
            if child is None:
                continue
            key = child.workflow.id if child.workflow.id is not None else child.workflow.name
            if key in seen:
                continue
            seen.add(key)
            visit(child)
            ordered.append(child)

    visit(graph)
    return ordered
