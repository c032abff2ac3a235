"""Users and their tokens (admin), the caller's own identity, and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from flowdesk.services.audit import AuditService
from flowdesk.services.users import UserService

from ..auth import Admin, Caller, Reader
from ..schemas import ISO_TIME, MAX_ID, PathId, TokenCreate, UserCreate, query_time
from .common import db_of, off_loop

router = APIRouter()


@router.get("/me", tags=["users"], summary="Who the token belongs to, and what they may do")
async def me(user: Caller) -> Any:
    from flowdesk.services.users import ROLE_PERMISSIONS

    return {
        **user.model_dump(mode="json"),
        "permissions": sorted(p.value for p in ROLE_PERMISSIONS[user.role]),
    }


@router.get("/users", tags=["users"], summary="List users")
async def list_users(request: Request, user: Admin) -> Any:
    return [u.model_dump(mode="json") for u in await off_loop(UserService(db_of(request)).list_users)]


@router.post("/users", status_code=201, tags=["users"], summary="Add a user")
async def add_user(body: UserCreate, request: Request, user: Admin) -> Any:
    added = await off_loop(UserService(db_of(request)).add_user, body.name, body.role, body.tags)
    return added.model_dump(mode="json")


@router.delete("/users/{name}", status_code=204, tags=["users"], summary="Remove a user and their tokens")
async def delete_user(name: str, request: Request, user: Admin) -> Response:
    await off_loop(UserService(db_of(request)).delete_user, name)
    return Response(status_code=204)


@router.post("/users/{name}/tokens", status_code=201, tags=["users"], summary="Create a token (shown once)")
async def create_token(
    name: str,
    request: Request,
    user: Admin,
    body: TokenCreate | None = None,
) -> Any:
    token, info = await off_loop(UserService(db_of(request)).create_token, name, body.label if body else "")
    return {"token": token, **info.model_dump(mode="json")}


@router.get("/tokens", tags=["users"], summary="List tokens (never their values)")
async def list_tokens(
    request: Request,
    user: Admin,
    user_name: str | None = Query(None, alias="user"),
) -> Any:
    return [
        t.model_dump(mode="json") for t in await off_loop(UserService(db_of(request)).list_tokens, user_name)
    ]


@router.delete("/tokens/{token_id}", tags=["users"], summary="Revoke a token")
async def revoke_token(token_id: PathId, request: Request, user: Admin) -> Any:
    return (await off_loop(UserService(db_of(request)).revoke_token, token_id)).model_dump(mode="json")


@router.get("/audit", tags=["audit"], summary="The audit log, newest first")
async def audit(
    request: Request,
    user: Reader,
    entity: str | None = Query(None, description="workflow, node, connection, execution, api, user..."),
    entity_id: int | None = Query(None, ge=1, le=MAX_ID),
    workflow_id: int | None = Query(
        None, ge=1, le=MAX_ID, description="Shorthand for entity=workflow&entity_id=N."
    ),
    actor: str | None = Query(None),
    since: str | None = Query(
        None, pattern=ISO_TIME, description="Only entries at or after this time (ISO 8601)."
    ),
    until: str | None = Query(
        None, pattern=ISO_TIME, description="Only entries before this time (ISO 8601)."
    ),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> Any:
    if workflow_id is not None:
        entity, entity_id = "workflow", workflow_id
    entries = await off_loop(
        AuditService(db_of(request)).list_entries,
        entity=entity,
        entity_id=entity_id,
        limit=limit,
        offset=offset,
        actor=actor,
        since=query_time(since, "since"),
        until=query_time(until, "until"),
    )
    return [e.model_dump(mode="json") for e in entries]
