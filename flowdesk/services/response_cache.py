"""The response cache kept in the database: find and keep answers (for engine/response_cache.py),
clear them (all, or one workflow's), count them. The monitor's hit rate: MonitorQueries.cache_hit_rates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowdesk.store import Database
from flowdesk.store import response_cache as sql


class ResponseCacheService:
    """Use cases of the database's response cache."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, key: str, now: datetime) -> dict[str, Any] | None:
        """The unexpired kept answer of a cache key, as its row, or None."""
        with self.db.session(read_only=True) as session:
            return sql.find_entry(session.connection(), key, now)

    def keep(self, values: dict[str, Any]) -> None:
        """Keep one answer (a row of store/response_cache.py), replacing its key's."""
        with self.db.session() as session:
            sql.store_entry(session.connection(), values)

    def clear(self, workflow_id: int | None = None) -> int:
        """Delete the kept answers (of one workflow, or all); how many there were."""
        with self.db.session() as session:
            return sql.clear_entries(session.connection(), workflow_id)

    def count(self, workflow_id: int | None = None) -> int:
        """How many answers are kept (of one workflow, or all)."""
        with self.db.session(read_only=True) as session:
            return sql.count_entries(session.connection(), workflow_id)
