"""Writing the audit trail: one `audit_log` row per create/update/delete, inside the caller's transaction.

Each row names its actor. A door says who acts with `acting_as(name)` (the REST server does, per request,
with the token's user); without it the actor is the operating-system user running the app or the CLI.
The actor travels in a context variable, so it follows a request into the worker thread that serves it
(`asyncio.to_thread` and Starlette's thread pool copy the context).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Literal

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .tables import AuditRow, utcnow
from .value_text import time_text

AuditAction = Literal["create", "update", "delete"]

_ACTOR: ContextVar[str | None] = ContextVar("flowdesk_audit_actor", default=None)


@cache
def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in the environment or the password database
        return "unknown"


def current_actor() -> str:
    """Who the audit rows written now are attributed to."""
    return _ACTOR.get() or _os_user()


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Attribute the audit rows written inside the block to `actor` (None: the OS user)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def set_actor(actor: str | None) -> None:
    """Attribute the audit rows written from now on in this context to `actor` (a request's scope)."""
    _ACTOR.set(actor)


def insert_audit(
    conn: Connection,
    entity: str,
    entity_id: int | None,
    action: str,
    summary: str,
    actor: str | None = None,
) -> None:
    """The one audit insert: a row in the connection's open transaction, by `actor`, else the current one.
    On SQLite through the driver's cursor (the engine's transactions drive SQLite directly, and it is
    the cheapest statement there), elsewhere through store/bulk.py."""
    occurred_at = utcnow()
    summary = summary[:2000]
    actor = actor or current_actor()
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.cursor().execute(  # type: ignore[union-attr]
            "INSERT INTO audit_log (occurred_at, entity, entity_id, action, summary, actor)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (time_text(occurred_at), entity, entity_id, action, summary, actor),
        )
        return
    from .bulk import insert_rows

    row = {
        "occurred_at": occurred_at,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "summary": summary,
        "actor": actor,
    }
    insert_rows(conn, AuditRow.__table__, [row])  # type: ignore[arg-type]


def record_audit(
    session: Session, entity: str, entity_id: int | None, action: AuditAction, summary: str
) -> None:
    """Add one audit row to the session's transaction (so it commits or rolls back with the write)."""
    insert_audit(session.connection(), entity, entity_id, action, summary)
