"""Sub-workflow checks against the workflow library: `subworkflow_problems(db, graph)` reports each
SUBWORKFLOW node whose workflow is not stored, and calls that go round in a cycle (A → B → A), as
located problems (flowdesk/domain/subworkflow_calls.py does the walking). `extra` graphs (the
`workflows` a file carries) are looked at before the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flowdesk.domain.errors import ConflictError, NotFoundError
from flowdesk.domain.models import Problem, WorkflowGraph
from flowdesk.domain.subworkflow_calls import call_problems, calls

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


def subworkflow_problems(db: Any, graph: WorkflowGraph, extra: Iterable[WorkflowGraph] = ()) -> list[Problem]:
    """Missing sub-workflows and cycles of sub-workflow calls of `graph` (none when it calls none)."""
    if next(calls(graph), None) is None:
        return []
    return call_problems(graph, graph_lookup(db, extra))
