"""How the store keeps time, for the monitor's queries.

On SQLite timestamps are naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff', SQLAlchemy's SQLite format),
so they compare as strings and `julianday()` reads them; on PostgreSQL they are `timestamp with time
zone`. Durations computed in SQL are exact to the millisecond on both (dialect.py).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive input is taken as UTC): a PostgreSQL time parameter."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_db_time(value: datetime) -> str:
    """`value` as the store writes it on SQLite: naive UTC text with microseconds (naive input is UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


def from_db_time(text: str | datetime | None) -> datetime | None:
    """A stored timestamp as a timezone-aware UTC datetime (None stays None)."""
    if text is None:
        return None
    value = text if isinstance(text, datetime) else datetime.fromisoformat(str(text))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def seconds(value: float | None) -> float | None:
    """A duration from SQL, rounded to the millisecond it is exact to."""
    return None if value is None else round(float(value), 3)
