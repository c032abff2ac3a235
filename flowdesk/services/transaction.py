"""Joining a caller's transaction or opening a new one: how services compose into one write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from flowdesk.store import Database


@contextmanager
def transaction(
    db: Database, session: Session | None = None, *, read_only: bool = False
) -> Iterator[Session]:
    """Yield `session` as is when the caller already has one (its transaction decides), else a new one.

    This lets e.g. the import service create APIs and a workflow graph in one all-or-nothing transaction.
    """
    if session is not None:
        yield session
        return
    with db.session(read_only=read_only) as own:
        yield own
