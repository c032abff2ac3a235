"""The SQL of the response cache kept across runs (`cache: {"persist": true}`) and of its hit rate.

Each function takes a SQLAlchemy Connection (the engine's writer transaction, or a service's
session connection). Rows are found by `key`, the SHA-256 of a request's cache key: the request
itself (its URL, headers, body, any secret in them) is never a column. An expired row is never
answered and is deleted by the next store or clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, text

from flowdesk.domain.response_cache import HIT_METRIC

from .tables import TABLES

_CACHE = TABLES["response_cache"]
_TOTALS = "monitor_metric_totals"


def find_entry(conn: Connection, key: str, now: datetime) -> dict[str, Any] | None:
    """The unexpired row of `key`, or None."""
    row = conn.execute(select(_CACHE).where(_CACHE.c.key == key, _CACHE.c.expires_at > now)).first()
    return None if row is None else dict(row._mapping)


def store_entry(conn: Connection, values: dict[str, Any]) -> None:
    """Keep one answer (replacing the row of its key), and drop rows that have expired."""
    conn.execute(
        delete(_CACHE).where((_CACHE.c.key == values["key"]) | (_CACHE.c.expires_at <= values["stored_at"]))
    )
    conn.execute(_CACHE.insert().values(**values))


def clear_entries(conn: Connection, workflow_id: int | None = None) -> int:
    """Delete the cached answers (of one workflow, or all); how many rows went."""
    stmt = delete(_CACHE)
    if workflow_id is not None:
        stmt = stmt.where(_CACHE.c.workflow_id == workflow_id)
    return int(conn.execute(stmt).rowcount or 0)


def count_entries(conn: Connection, workflow_id: int | None = None) -> int:
    """How many answers are kept (of one workflow, or all), expired ones included."""
    stmt = select(func.count()).select_from(_CACHE)
    if workflow_id is not None:
        stmt = stmt.where(_CACHE.c.workflow_id == workflow_id)
    return int(conn.execute(stmt).scalar_one())


def hit_rates(conn: Connection, workflow_id: int) -> dict[str, dict[str, Any]]:
    """{node name: {"lookups", "hits", "rate"}} of the workflow's nodes whose steps looked in the cache
    and, under "", the whole workflow's; from the running metric totals the monitor keeps per node
    (migration 0003's triggers), so over every recorded step (those totals have no period)."""
    rows = conn.execute(
        text(
            f"SELECT n.name, t.count, t.total FROM {_TOTALS} AS t JOIN workflow_nodes AS n ON n.id = t.node_id"
            " WHERE n.workflow_id = :workflow_id AND t.name = :metric AND t.count > 0 ORDER BY n.name"
        ),
        {"workflow_id": workflow_id, "metric": HIT_METRIC},
    )
    figures = {name: _rate(int(count), int(total)) for name, count, total in rows}
    lookups = sum(f["lookups"] for f in figures.values())
    if lookups:
        figures[""] = _rate(lookups, sum(f["hits"] for f in figures.values()))
    return figures


def _rate(lookups: int, hits: int) -> dict[str, Any]:
    return {"lookups": lookups, "hits": hits, "rate": hits / lookups}
