"""Running workflows and following runs: execute, executions and their steps, the debugger's controls,
and live events (WebSocket and Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response, StreamingResponse

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.domain.errors import NotFoundError
from flowdesk.services.executions import ExecutionService
from flowdesk.services.users import Permission, User

from ..auth import Reader, Runner, current_user, may_read, runtime_of
from ..runtime import execution_view, handle_view
from ..schemas import (
    MAX_ID,
    Breakpoints,
    ExecuteRequest,
    ExecutionPage,
    ExecutionStarted,
    ExecutionView,
    PathId,
    ResumeRequest,
    StepView,
)
from .common import check_workflow_scope, db_of, off_loop, workflow_in_scope

router = APIRouter(tags=["executions"])


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False, allow_nan=False)


async def _execution_in_scope(request: Request, user: User, execution_id: int) -> dict[str, Any]:
    view = await runtime_of(request).get_execution(execution_id)
    await check_workflow_scope(request, user, view["workflow_id"])
    return view


@router.post(
    "/workflows/{workflow_id}/execute",
    summary="Run a workflow",
    responses={
        200: {"model": ExecutionView, "description": "The run has ended (config.async false)."},
        202: {"model": ExecutionStarted, "description": "The run was started (config.async true)."},
    },
)
async def execute(workflow_id: PathId, body: ExecuteRequest, request: Request, user: Runner) -> Any:
    """Without `config.async` the answer comes when the run ends (or pauses, with step_by_step or
    breakpoints), with the execution; with it, at once: `{"execution_id", "status"}` (202)."""
    await check_workflow_scope(request, user, workflow_id)
    runtime = runtime_of(request)
    handle = await runtime.execute(
        workflow_id,
        input_data=body.input_data,
        execution_name=body.execution_name,
        config=body.config,
        step_by_step=body.step_by_step,
        breakpoints=body.breakpoints,
        environment=body.environment,
    )
    if body.config.get("async"):
        return JSONResponse({"execution_id": handle.id, "status": handle.status.value}, status_code=202)
    if getattr(handle, "queue", None):  # run by a worker: its final execution, as the database holds it
        return await runtime.get_execution(handle.final_id)
    if handle.done:  # what the database now holds, without reading it back
        return handle_view(handle, body.config, body.environment)
    return await runtime.get_execution(handle.id)


@router.get("/executions", response_model=ExecutionPage, summary="List runs, newest first")
async def list_executions(
    request: Request,
    user: Reader,
    workflow_id: int | None = Query(None, ge=1, le=MAX_ID),
    status: ExecutionStatus | None = Query(None, description="Only runs in this state."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> Any:
    if workflow_id is not None:
        await workflow_in_scope(request, user, workflow_id)
    runtime = runtime_of(request)
    found = await off_loop(
        ExecutionService(db_of(request)).list_executions,
        workflow_id=workflow_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    if user.tags is not None:
        from flowdesk.services.workflows import WorkflowService

        allowed = {
            w.id
            for w in await off_loop(WorkflowService(db_of(request)).list_workflows)
            if user.may_see_tags(w.tags)
        }
        found = [e for e in found if e.workflow_id in allowed]
    items = [execution_view(e, runtime.handle(e.id)) for e in found]
    return {"items": items, "limit": limit, "offset": offset}


# What clients poll, so the cheapest route of all: on a router of its own that the app tries first (one
# pattern to match, not the dozens before it), the caller checked in the body (FastAPI solving a
# dependency costs about as much as the read), the answer JSON already and kept while the database
# has not changed (ServerRuntime.execution_answer), so FastAPI does not validate it again.
polled = APIRouter(tags=["executions"])


@polled.get("/executions/{execution_id}", response_model=ExecutionView, summary="Get a run")
async def get_execution(execution_id: PathId, request: Request) -> Any:
    user = await may_read(request)
    workflow_id, body = await runtime_of(request).execution_answer(execution_id)
    await check_workflow_scope(request, user, workflow_id)
    return Response(body, media_type="application/json")


@router.get("/executions/{execution_id}/steps", response_model=list[StepView], summary="A run's steps")
async def get_steps(execution_id: PathId, request: Request, user: Reader) -> Any:
    await _execution_in_scope(request, user, execution_id)
    await runtime_of(request).executor.flush()
    logs = await off_loop(ExecutionService(db_of(request)).get_logs, execution_id)
    return [log.model_dump(mode="json") for log in logs]


@router.get("/executions/{execution_id}/logs", response_model=list[StepView], summary="A run's steps (alias)")
async def get_logs(execution_id: PathId, request: Request, user: Reader) -> Any:
    return await get_steps(execution_id, request, user)


@router.post("/executions/{execution_id}/cancel", response_model=ExecutionView, summary="Cancel a run")
async def cancel(execution_id: PathId, request: Request, user: Runner) -> Any:
    await _execution_in_scope(request, user, execution_id)
    runtime = runtime_of(request)
    if runtime.handle(execution_id) is None and runtime.settings.workers_broker:
        # Not running here: a queued run, or one on a worker (told over the broker, within a second).
        from flowdesk.engine.queue import cancel_queued

        await cancel_queued(
            runtime.db, runtime.settings.workers_broker, execution_id, f"cancelled by {user.name}"
        )
        return await runtime.get_execution(execution_id)
    handle = runtime.live_handle(execution_id)
    handle.cancel(f"cancelled by {user.name}")
    await handle.wait()
    return await runtime.get_execution(execution_id)


@router.post(
    "/executions/{execution_id}/resume",
    status_code=202,
    response_model=ExecutionStarted,
    summary="Resume a stopped run",
)
async def resume(
    execution_id: PathId,
    request: Request,
    user: Runner,
    body: ResumeRequest | None = None,
) -> Any:
    """Runs the stopped execution again as a new one, reusing every step that succeeded."""
    await _execution_in_scope(request, user, execution_id)
    handle = await runtime_of(request).resume(execution_id, (body.config if body else None))
    return JSONResponse({"execution_id": handle.id, "status": handle.status.value}, status_code=202)


@router.post(
    "/executions/{execution_id}/step", response_model=ExecutionView, summary="Run the next node, then pause"
)
async def step(execution_id: PathId, request: Request, user: Runner) -> Any:
    await _execution_in_scope(request, user, execution_id)
    runtime = runtime_of(request)
    await runtime.live_handle(execution_id).step()
    return await runtime.get_execution(execution_id)


@router.post(
    "/executions/{execution_id}/continue", response_model=ExecutionView, summary="Continue a paused run"
)
async def continue_run(execution_id: PathId, request: Request, user: Runner) -> Any:
    await _execution_in_scope(request, user, execution_id)
    runtime = runtime_of(request)
    await runtime.live_handle(execution_id).resume()
    return await runtime.get_execution(execution_id)


@router.post("/executions/{execution_id}/pause", response_model=ExecutionView, summary="Pause a run")
async def pause(execution_id: PathId, request: Request, user: Runner) -> Any:
    await _execution_in_scope(request, user, execution_id)
    runtime = runtime_of(request)
    runtime.live_handle(execution_id).pause()
    return await runtime.get_execution(execution_id)


@router.put(
    "/executions/{execution_id}/breakpoints", response_model=Breakpoints, summary="Set a run's breakpoints"
)
async def set_breakpoints(execution_id: PathId, body: Breakpoints, request: Request, user: Runner) -> Any:
    await _execution_in_scope(request, user, execution_id)
    handle = runtime_of(request).live_handle(execution_id)
    handle.set_breakpoints(body.breakpoints)
    return {"breakpoints": sorted(body.breakpoints)}


# -- live events ----------------------------------------------------------------------------------------


async def _stream(request: Request, execution_id: int | None) -> AsyncIterator[dict[str, Any]]:
    """The events a subscriber sees: the current state first, then events until the run ends."""
    runtime = request.app.state.runtime
    sub = runtime.hub.subscribe(execution_id)
    try:
        state = await runtime.state_of(execution_id)
        if execution_id is not None and state is None:
            raise NotFoundError(f"Execution {execution_id} does not exist.")
        yield {"type": "state", "execution_id": execution_id, "state": state}
        if execution_id is not None and state is not None and runtime.handle(execution_id) is None:
            return  # the run has ended (or runs elsewhere): its state is all there is to say
        while True:
            item = await sub.next()
            if item is None:
                return
            yield item
    finally:
        sub.close()


@router.get(
    "/executions/{execution_id}/events",
    summary="A run's live events (Server-Sent Events; the same URL speaks WebSocket)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def execution_events_sse(execution_id: PathId, request: Request, user: Reader) -> StreamingResponse:
    await _execution_in_scope(request, user, execution_id)
    return _sse(request, execution_id)


@router.get(
    "/events",
    summary="Every run's live events (Server-Sent Events; the same URL speaks WebSocket)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def all_events_sse(request: Request, user: Reader) -> StreamingResponse:
    return _sse(request, None)


def _sse(request: Request, execution_id: int | None) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        async for item in _stream(request, execution_id):
            yield f"event: {item['type']}\ndata: {_dumps(item)}\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.websocket("/executions/{execution_id}/events")
async def execution_events_ws(websocket: WebSocket, execution_id: PathId) -> None:
    await _websocket(websocket, execution_id)


@router.websocket("/events")
async def all_events_ws(websocket: WebSocket) -> None:
    await _websocket(websocket, None)


async def _websocket(websocket: WebSocket, execution_id: int | None) -> None:
    """Accept, then check the token and the run: a refusal closes with 4401 (no or bad token),
    4403 (not permitted) or 4404 (no such run) and the sentence as the close reason."""
    from fastapi import HTTPException

    await websocket.accept()
    try:
        user = await current_user(websocket)  # type: ignore[arg-type]
        if not user.can(Permission.READ):
            raise HTTPException(403, f"User '{user.name}' may not read.")
        if execution_id is not None:
            view = await websocket.app.state.runtime.get_execution(execution_id)
            await check_workflow_scope(websocket, user, view["workflow_id"])  # type: ignore[arg-type]
    except HTTPException as err:
        await websocket.close(code=4401 if err.status_code == 401 else 4403, reason=str(err.detail)[:120])
        return
    except NotFoundError as err:
        await websocket.close(code=4404, reason=str(err)[:120])
        return
    try:
        async for item in _stream(websocket, execution_id):  # type: ignore[arg-type]
            await websocket.send_text(_dumps(item))
        await websocket.close()
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
        pass
