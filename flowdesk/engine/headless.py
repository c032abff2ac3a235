"""Running workflows without the desktop app: what `flowdesk run` and `flowdesk resume` do.

A workflow file is opened by the services (TransferService.open_file: identical content reuses the
stored workflow) and run; a stored workflow is named by id or name. The report is
the execution with its steps in start order, as the command prints it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .events import EngineEvent


@dataclass
class RunReport:
    """How a headless run ended: the execution row's fields and its step rows."""

    execution_id: int | None
    workflow_id: int | None
    status: str
    output_data: Any
    error_message: str | None
    started_at: str | None
    completed_at: str | None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The object `flowdesk run --json` prints."""
        return {
            "execution_id": self.execution_id,
            "workflow_id": self.workflow_id,
            "status": self.status,
            "output_data": self.output_data,
            "error_message": self.error_message,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "warnings": self.warning_count,
            "steps": self.steps,
        }

    @property
    def warning_count(self) -> int:
        """How many warnings the steps left (unresolved references and the like)."""
        return sum(len(step.get("warnings") or ()) for step in self.steps)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _step_json(log: Any) -> dict[str, Any]:
    return {
        "step_name": log.step_name,
        "node_name": log.node_name,
        "node_type": log.node_type,
        "status": str(log.status),
        "input_data": log.input_data,
        "output_data": log.output_data,
        "error_message": log.error_message,
        "error_type": log.error_type,
        "attempts": log.attempts,
        "warnings": list(log.warnings or []),
        "execution_time": log.execution_time,
        "started_at": _iso(log.started_at),
        "completed_at": _iso(log.completed_at),
    }


async def _report(executor: Any, execution_id: int) -> RunReport:
    execution, logs = await executor.stored_run(execution_id)
    return RunReport(
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        status=str(execution.status),
        output_data=execution.output_data,
        error_message=execution.error_message,
        started_at=_iso(execution.started_at),
        completed_at=_iso(execution.completed_at),
        steps=[_step_json(log) for log in logs],
    )


def run_workflow(
    db: Any,
    workflow_id: int,
    input_data: Any,
    *,
    timeout: float | None = None,
    listener: Callable[[EngineEvent], Any] | None = None,
    environment: str | None = None,
    record: bool = True,
) -> RunReport:
    """Run a stored workflow to its end on a fresh event loop; the report of the execution.

    `environment` names the environment whose variables are `{{env.*}}` (None: the active one).
    `record=False` runs it ephemerally (`flowdesk run --no-record`): no execution row and no step
    rows; the report comes from the run itself and has no execution id.
    """
    config: dict[str, Any] = {}
    if timeout is not None:
        config["timeout"] = timeout
    return asyncio.run(
        _run(
            db,
            lambda ex, name: ex.execute_workflow(
                workflow_id, input_data, config=config, environment_name=name
            ),
            listener,
            environment,
            record,
        )
    )


def submit_workflow(
    db: Any,
    workflow_id: int,
    input_data: Any,
    *,
    queue: str,
    broker: str | None = None,
    timeout: float | None = None,
    environment: str | None = None,
    on_queued: Callable[[int], Any] | None = None,
    wait: bool = False,
) -> tuple[int, RunReport | None]:
    """Hand a stored workflow's run to the workers on `queue` (engine/queue.py); with `wait`, follow
    it to its end and return its report too. `on_queued(id)` is called as soon as it is queued."""
    from flowdesk.services.environments import run_environment_name

    from .executor import WorkflowExecutor

    config: dict[str, Any] = {"queue": queue}
    if timeout is not None:
        config["timeout"] = timeout

    async def submit() -> tuple[int, RunReport | None]:
        name = await asyncio.to_thread(run_environment_name, db, environment)
        executor = WorkflowExecutor(db=db, broker=broker, load_plugins=False)
        try:
            queued: Any = await executor.execute_workflow(
                workflow_id, input_data, config=config, environment_name=name
            )
            if on_queued is not None:
                on_queued(queued.id)
            if not wait:
                return queued.id, None
            await queued.wait()
            return queued.id, await _report(executor, queued.final_id)
        finally:
            await executor.aclose()

    return asyncio.run(submit())


def resume_execution(
    db: Any, execution_id: int, *, listener: Callable[[EngineEvent], Any] | None = None
) -> RunReport:
    """Resume a stopped execution to its end; the report of the new execution."""
    return asyncio.run(_run(db, lambda ex, _name: ex.resume(execution_id), listener))


async def _run(
    db: Any,
    start: Callable[[Any, str | None], Any],
    listener: Callable[[EngineEvent], Any] | None,
    environment: str | None = None,
    record: bool = True,
) -> RunReport:
    from flowdesk.services.environments import run_environment_name, run_values

    from .executor import WorkflowExecutor

    # The environment's variables and the decrypted secrets ({{env.*}}, {{secrets.*}}; secrets masked).
    variables, secrets = await asyncio.to_thread(run_values, db, environment)
    name = await asyncio.to_thread(run_environment_name, db, environment)
    executor = WorkflowExecutor(db=db, secrets=secrets, environment=variables, persist=record)
    if listener is not None:
        executor.subscribe(listener)
    try:
        handle = await start(executor, name)
        await handle.wait()
        if not record:
            return RunReport(
                execution_id=None,
                workflow_id=handle.workflow_id,
                status=handle.status.value,
                output_data=handle.output_data,
                error_message=handle.error_message,
                started_at=_iso(handle.started_at),
                completed_at=_iso(handle.completed_at),
                steps=[_step_json(log) for log in await handle.logs()],
            )
        return await _report(executor, handle.id)
    finally:
        await executor.aclose()
