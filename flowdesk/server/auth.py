"""Who is calling, and may they: bearer tokens, roles and tag scopes, as FastAPI dependencies.

`require(Permission.RUN)` in a route's dependencies answers 401 for a missing or wrong token and 403,
naming the missing permission, for a user whose role does not grant it. The caller's name becomes the
actor of every audit row the request writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from flowdesk.domain.models import Workflow
from flowdesk.services.users import Permission, Role, User
from flowdesk.store.audit_trail import set_actor

ANONYMOUS = User(id=0, name="anonymous", role=Role.ADMIN)

_WHAT = {
    Permission.READ: "read",
    Permission.EDIT: "change workflows, API definitions and environments",
    Permission.RUN: "run, cancel, resume or step executions",
    Permission.ADMIN: "manage node types, users, tokens and secrets",
}


def runtime_of(request: Request) -> Any:
    """The ServerRuntime of the app serving `request`."""
    return request.app.state.runtime


async def current_user(request: Request) -> User:
    """The user the request's token belongs to (ANONYMOUS while auth is off); 401 otherwise."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    runtime = runtime_of(request)
    if not await runtime.refresh_auth():
        user = ANONYMOUS
    else:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401,
                "This server needs an API token: send 'Authorization: Bearer <token>' "
                "(an admin makes one with 'flowdesk token create USER').",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = await runtime.token_user(token.strip())
        if found is None:
            raise HTTPException(
                401,
                "The API token is not valid (unknown or revoked).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = found
    request.state.user = user
    set_actor(user.name)
    return user


def require(permission: Permission) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the caller, who must hold `permission` (403 naming it otherwise)."""

    async def dependency(request: Request) -> User:
        user = await current_user(request)
        if not user.can(permission):
            raise HTTPException(
                403,
                f"User '{user.name}' ({user.role.value}) may not {_WHAT[permission]}: "
                f"that needs the '{permission.value}' permission.",
            )
        return user

    dependency.__name__ = f"require_{permission.value}"
    return dependency


def check_scope(user: User, workflow: Workflow) -> None:
    """403 when the workflow lies outside the tags the user is limited to."""
    if not user.may_see_tags(workflow.tags):
        raise HTTPException(
            403,
            f"User '{user.name}' is limited to workflows tagged {', '.join(user.tags or [])}; "
            f"workflow {workflow.id} is not.",
        )


may_read = require(Permission.READ)  # `user = await may_read(request)`: Reader, checked in a route's body

# Route parameters: `user: Reader` is the caller, who may read; Editor, Runner and Admin likewise.
Reader = Annotated[User, Depends(may_read)]
Editor = Annotated[User, Depends(require(Permission.EDIT))]
Runner = Annotated[User, Depends(require(Permission.RUN))]
Admin = Annotated[User, Depends(require(Permission.ADMIN))]
Caller = Annotated[User, Depends(current_user)]
