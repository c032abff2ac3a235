"""SUBWORKFLOW: runs another stored workflow as a run of its own, linked to this step.

Config: `workflow` (the child's id or name), `version` (optional: the number of a saved version, run
instead of the current graph), `input` (the child's input: a template object, rendered with this
step's scope), `wait` (default true: the step waits for the child and outputs its END output; false:
the step starts the child and goes on at once, outputting `{"execution_id", "workflow", "status":
"started"}`), `timeout` (seconds the child may run, instead of its workflow's own timeout; when
this run times out first, the child is cancelled with it).

The child is an execution of its own (its own row and step rows) whose `parent_execution_id` and
`parent_step` name this run and step (store migration 0009). A failed, timed-out or cancelled child
fails this step with the child's error (its error type kept); cancelling this run cancels the child,
waited for or not. Each child run is one level deeper than its parent: a run that would go deeper
than the limit (default 10; `max_subworkflow_depth` in the top workflow's config) fails the step,
naming the chain of workflows that led there, instead of recursing until memory runs out.

The child inherits this run's secrets and environment variables. Stepping into the node
(`ExecutionHandle.step_into`, the debugger's F11) starts the child step by step (paused), to be
driven through its own handle while this step waits for it. The link travels in the child's run
options under `subworkflow` (`parent_execution_id`, `parent_step`, `depth`, `depth_limit`, `chain`),
which `subworkflow_link` turns into the row's columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure

REUSABLE = False  # resume runs the child again (its own run was a separate execution)
LINK_KEY = "subworkflow"
DEFAULT_DEPTH_LIMIT = 10
DEPTH_LIMIT_KEY = "max_subworkflow_depth"


def subworkflow_link(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The execution row's parent columns from a child run's options ({} for a top-level run)."""
    link = run_config.get(LINK_KEY)
    if not isinstance(link, Mapping):
        return {}
    parent = link.get("parent_execution_id")
    step = link.get("parent_step")
    return {
        "parent_execution_id": parent if isinstance(parent, int) else None,
        "parent_step": str(step) if step is not None else None,
    }


def depth_limit(workflow_config: Mapping[str, Any], link: Mapping[str, Any]) -> int:
    """The depth limit of a run: its top run's, else its workflow's `max_subworkflow_depth`, else 10."""
    for raw in (link.get("depth_limit"), workflow_config.get(DEPTH_LIMIT_KEY)):
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return raw
    return DEFAULT_DEPTH_LIMIT


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


def _seconds(ctx: NodeContext) -> float | None:
    raw = ctx.config.get("timeout")
    if raw in (None, "", 0):
        timeout = None
    else:
        try:
            timeout = float(ctx.render(raw) if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise NodeFailure(f"SUBWORKFLOW timeout must be a number of seconds, not {raw!r}") from None
        if timeout <= 0:
            raise NodeFailure(f"SUBWORKFLOW timeout must be more than 0 seconds, not {raw!r}")
    return timeout  # the parent's own timeout cancels the child with the parent (see handle)


def _reference(ctx: NodeContext) -> int | str:
    raw = ctx.config.get("workflow")
    value = ctx.render(raw) if isinstance(raw, str) else raw
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise NodeFailure("SUBWORKFLOW needs a workflow: the id or name of a stored workflow", error_type="other")


async def _version_graph(executor: Any, reference: int | str, number: Any) -> Any:
    """The graph of saved version `number` of the workflow `reference` (id or name)."""
    from flowdesk.services.versions import VersionService, document_to_graph
    from flowdesk.services.workflows import WorkflowService

    db = await executor.database()
    workflow = await asyncio.to_thread(WorkflowService(db).find_workflow, reference)
    assert workflow.id is not None  # a stored workflow
    versions = await asyncio.to_thread(VersionService(db).list_versions, workflow.id)
    found = next((v for v in versions if str(v.number) == str(number).strip()), None)
    if found is None:
        raise NodeFailure(f"workflow '{workflow.name}' has no saved version {number}", error_type="other")
    full = await asyncio.to_thread(VersionService(db).get_version, found.id)
    return document_to_graph(full.snapshot or {}, workflow.id)


def _cancel_with_parent(executor: Any, parent_id: int | None, child: Any) -> None:
    """A child not waited for is still cancelled with its parent run (`wait: false`)."""
    if parent_id is None or child.done:
        return
    from ..events import ExecutionFinished

    def follow(event: Any) -> None:
        if not isinstance(event, ExecutionFinished):
            return
        if event.execution_id == child.id:
            unsubscribe()
        elif event.execution_id == parent_id:
            unsubscribe()
            if event.status in ("cancelled", "interrupted") and not child.done:
                child.cancel(f"its parent run {parent_id} was {event.status}")

    unsubscribe = executor.subscribe(follow)


async def handle(ctx: NodeContext) -> Any:
    """Start the child run; output its END output (wait) or its id (no wait)."""
    from flowdesk.domain.errors import FlowdeskError

    run = ctx.runtime
    executor = getattr(run, "executor", None)
    if executor is None:
        raise NodeFailure("a SUBWORKFLOW step runs only under a WorkflowExecutor, which starts its child run")
    reference = _reference(ctx)
    link = run.run_config.get(LINK_KEY) if isinstance(run.run_config.get(LINK_KEY), Mapping) else {}
    depth = int(link.get("depth", 0)) + 1
    limit = depth_limit(ctx.workflow_config, link)
    chain = [*link.get("chain", [ctx.graph.workflow.name]), str(reference)]
    if depth > limit:
        raise NodeFailure(
            f"the sub-workflow '{reference}' would run {depth} levels deep, past the limit of {limit}"
            f" ({DEPTH_LIMIT_KEY} in the top workflow's config): {' → '.join(chain)}",
            error_type="other",
        )
    raw_input = ctx.config.get("input")
    input_data = ctx.render(raw_input) if raw_input is not None else {}
    wait = _flag(ctx.config.get("wait", True))
    timeout = _seconds(ctx)
    version = ctx.config.get("version")
    child_config: dict[str, Any] = {
        "async": True,
        LINK_KEY: {
            "parent_execution_id": ctx.execution.id,
            "parent_step": ctx.step_name,
            "depth": depth,
            "depth_limit": limit,
            "chain": chain,
        },
    }
    if timeout is not None:
        child_config["timeout"] = timeout
    ctx.inputs = {
        "workflow": reference,
        "version": version,
        "input": input_data,
        "wait": wait,
        "timeout": timeout,
    }
    step_into = bool(run.step_into) and wait  # the debugger's F11: the child starts paused
    run.step_into = False
    options = {
        "config": child_config,
        "secrets": run.secrets,
        "environment": run.environment,
        "step_by_step": step_into,
    }
    try:
        if version in (None, ""):
            child = await executor.execute_workflow(reference, input_data, **options)
        else:
            graph = await _version_graph(executor, reference, version)
            child = await executor.execute_graph(graph, input_data, persist=True, **options)
    except FlowdeskError as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise NodeFailure(
            f"the sub-workflow '{reference}' could not start: {message}", error_type="other"
        ) from exc
    ctx.record_metric("child_execution_id", child.id)
    if not wait:
        _cancel_with_parent(executor, ctx.execution.id, child)
        return {"execution_id": child.id, "workflow": str(reference), "status": "started"}
    try:
        await child.wait()
    except asyncio.CancelledError:
        child.cancel(f"its parent run {ctx.execution.id} was cancelled")
        await asyncio.shield(child.wait())
        raise
    if child.status.value != "completed":
        raise NodeFailure(
            f"the sub-workflow '{reference}' (run {child.id}) {child.status.value}: {child.error_message}",
            error_type=child.error_type or "other",
            output={"execution_id": child.id, "status": child.status.value},
        )
    return child.output_data
