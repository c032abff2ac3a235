"""Checks of a workflow's SUBWORKFLOW calls that need the other workflows: a called workflow that
does not exist, and calls that go round in a cycle (A → B → A), each in one located sentence.

Pure: the caller says how a reference (an id or a name) finds a workflow's graph — the database
(services/subworkflows.py), or the `workflows` a file carries. A reference written as a template
(`{{input.which}}`) is only known at run time and is not followed; the run-time depth limit
(engine/handlers/subworkflow.py) stops what this cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .enums import NodeType, Severity
from .execution_handlers import handler_workflow
from .models import Problem, WorkflowGraph

SUBWORKFLOW = NodeType.SUBWORKFLOW.value

Lookup = Callable[[int | str], WorkflowGraph | None]
"""A workflow's graph by id or name, or None when there is none."""

WorkflowTypes = Mapping[str, int | str]
"""Custom node types whose handler names a stored workflow: type name → that workflow (id or name)."""


def workflow_types(handlers: Mapping[str, str | None]) -> dict[str, int | str]:
    """The custom types (by name, with their execution_handler text) that run a stored workflow,
    each with the workflow's id (digits) or name."""
    found: dict[str, int | str] = {}
    for type_name, handler in handlers.items():
        target = handler_workflow(handler)
        if target:
            found[type_name] = int(target) if target.isdigit() else target
    return found


def reference_of(config: Any) -> int | str | None:
    """The workflow a SUBWORKFLOW config names, or None (none, or a template known only at run time)."""
    if not isinstance(config, dict):
        return None
    value = config.get("workflow")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip() and "{{" not in value:
        return value.strip()
    return None


def calls(graph: WorkflowGraph, types: WorkflowTypes | None = None) -> Iterator[tuple[int, str, int | str]]:
    """(node index, node name, reference) of each SUBWORKFLOW node naming a workflow, and of each
    node of a custom type in `types` (its handler's workflow)."""
    for index, node in enumerate(graph.nodes):
        if node.node_type == SUBWORKFLOW:
            reference = reference_of(node.config)
            if reference is not None:
                yield index, node.name, reference
        elif types and node.node_type in types:
            yield index, node.name, types[node.node_type]


def _same(graph: WorkflowGraph, reference: int | str) -> bool:
    workflow = graph.workflow
    if isinstance(reference, int) or reference.isdigit():
        return workflow.id is not None and workflow.id == int(reference)
    return workflow.name == reference


def call_problems(
    graph: WorkflowGraph, lookup: Lookup, *, report_missing: bool = True, types: WorkflowTypes | None = None
) -> list[Problem]:
    """A problem per SUBWORKFLOW node whose workflow is missing (unless `report_missing` is false:
    the lookup does not see every workflow) or whose calls lead back in a cycle; likewise per node
    of a custom type in `types` whose calls lead back in a cycle."""
    problems: list[Problem] = []
    for index, name, reference in calls(graph, types):
        by_type = graph.nodes[index].node_type != SUBWORKFLOW
        cycle: list[str] | None
        if _same(graph, reference):
            cycle = [graph.workflow.name, graph.workflow.name]
        else:
            child = lookup(reference)
            if child is None:
                if report_missing and not by_type:
                    problems.append(_problem(index, name, f"no workflow has the id or name '{reference}'"))
                continue
            cycle = _cycle_from(child, graph, lookup, types)
        if cycle is not None:
            problems.append(
                _problem(
                    index,
                    name,
                    f"the sub-workflow calls go round in a cycle: {' → '.join(cycle)}",
                    by_type=by_type,
                )
            )
    return problems


def _problem(index: int, node: str, message: str, *, by_type: bool = False) -> Problem:
    """An error at the `workflow` field of the SUBWORKFLOW node `node` (nodes[index]), or at the
    `node_type` of a node whose custom type runs a workflow (`by_type`)."""
    return Problem(
        severity=Severity.ERROR,
        message=message,
        node=node,
        key="node_type" if by_type else "workflow",
        path=f"nodes[{index}].node_type" if by_type else f"nodes[{index}].config.workflow",
    )


def _cycle_from(
    start: WorkflowGraph, top: WorkflowGraph, lookup: Lookup, types: WorkflowTypes | None = None
) -> list[str] | None:
    """The chain of workflow names from `top` through `start` back to a workflow already on the
    chain (a cycle), or None. Each workflow is followed once."""
    seen: set[str] = set()
    path: list[WorkflowGraph] = [top, start]

    def key(g: WorkflowGraph) -> str:
        return f"id:{g.workflow.id}" if g.workflow.id is not None else f"name:{g.workflow.name}"

    def visit(current: WorkflowGraph) -> list[str] | None:
        seen.add(key(current))
        for _index, _name, reference in calls(current, types):
            back = next((g for g in path if _same(g, reference)), None)
            if back is not None:
                names = [g.workflow.name for g in path[path.index(back) :]]
                prefix = [g.workflow.name for g in path[: path.index(back)]]
                return [*prefix, *names, back.workflow.name]
            child = lookup(reference)
            if child is None or key(child) in seen:
                continue
            path.append(child)
            found = visit(child)
            if found is not None:
                return found
            path.pop()
        return None

    return visit(start)
