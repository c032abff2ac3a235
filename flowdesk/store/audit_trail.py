"""Writing the audit trail: one `audit_log` row per create/update/delete, inside the caller's transaction."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .tables import AuditRow, utcnow

AuditAction = Literal["create", "update", "delete"]


def record_audit(
    session: Session, entity: str, entity_id: int | None, action: AuditAction, summary: str
) -> None:
    """Add one audit row to the session's transaction (so it commits or rolls back with the write)."""
    session.execute(
        insert(AuditRow).values(
            occurred_at=utcnow(), entity=entity, entity_id=entity_id, action=action, summary=summary[:2000]
        )
    )
