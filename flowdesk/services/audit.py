"""The audit trail: every service write adds one row (entity, id, create/update/delete, a summary).

Writing happens inside each write's own transaction through `record_audit`; `AuditService` reads it.
Step-by-step run records (execution logs, progress updates) are not audited one by one: they are
themselves a log, and auditing them would double every step row. Run creation, final status changes,
interruption and deletion are audited.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from flowdesk.store import Database
from flowdesk.store.audit_trail import AuditAction, acting_as, current_actor, record_audit
from flowdesk.store.tables import AuditRow

__all__ = ["AuditAction", "AuditEntry", "AuditService", "acting_as", "current_actor", "record_audit"]


class AuditEntry(BaseModel):
    """One row of the audit trail."""

    id: int
    occurred_at: datetime
    entity: str
    entity_id: int | None
    action: str
    summary: str
    actor: str | None = None


class AuditService:
    """Reads the audit trail, newest first."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_entries(
        self,
        entity: str | None = None,
        entity_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Audit rows, newest first, optionally for one entity kind (and one id), one actor, and a time
        range (`since` inclusive, `until` exclusive)."""
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit).offset(offset)
        if entity is not None:
            stmt = stmt.where(AuditRow.entity == entity)
        if entity_id is not None:
            stmt = stmt.where(AuditRow.entity_id == entity_id)
        if actor is not None:
            stmt = stmt.where(AuditRow.actor == actor)
        if since is not None:
            stmt = stmt.where(AuditRow.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(AuditRow.occurred_at < until)
        with self.db.session(read_only=True) as session:
            return [
                AuditEntry(
                    id=r.id,
                    occurred_at=r.occurred_at,
                    entity=r.entity,
                    entity_id=r.entity_id,
                    action=r.action,
                    summary=r.summary,
                    actor=r.actor,
                )
                for r in session.scalars(stmt)
            ]

    def count(self) -> int:
        """How many audit rows there are."""
        from sqlalchemy import func

        with self.db.session(read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
