"""Small pieces every router uses: running a service call off the event loop, and scope checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from flowdesk.domain.models import Workflow
from flowdesk.services.users import User

from ..auth import check_scope, runtime_of

T = TypeVar("T")


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a synchronous service call in a worker thread (the request's context, so its actor, goes along)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def db_of(request: Request) -> Any:
    return runtime_of(request).db


async def check_workflow_scope(request: Request, user: User, workflow_id: int) -> None:
    """403 when the workflow lies outside the user's tags; nothing to look up for a user without a
    tag limit (the call that follows says 404 if the workflow does not exist)."""
    if user.tags is not None:
        await workflow_in_scope(request, user, workflow_id)


async def workflow_in_scope(request: Request, user: User, workflow_id: int) -> Workflow:
    """The workflow, after checking the user may see it (404 if missing, 403 outside the user's tags)."""
    from flowdesk.services.workflows import WorkflowService

    workflow = await off_loop(WorkflowService(db_of(request)).get_workflow, workflow_id)
    check_scope(user, workflow)
    return workflow
