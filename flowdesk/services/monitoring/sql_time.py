"""How the store keeps time in SQLite, and the duration expression the monitor's index is built on.

Timestamps are naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff', SQLAlchemy's SQLite format), so they
compare as strings and `julianday()` reads them. SQLite's date functions count whole milliseconds,
so durations computed in SQL are exact to the millisecond.
"""

from __future__ import annotations

from datetime import UTC, datetime

#: A run's duration in seconds. Must stay textually identical to the expression indexed by the
#: monitoring migration (ix_workflow_executions_workflow_id_status_duration), or SQLite ignores the index.
DURATION_SQL = "((julianday(completed_at) - julianday(started_at)) * 86400.0)"

#: The monitoring migration's covering indexes, named in `INDEXED BY` so that SQLite's planner cannot
#: pick the narrower (workflow_id, started_at) index and read a table row per run instead.
BY_STATUS_DURATION = "INDEXED BY ix_workflow_executions_workflow_id_status_duration"
BY_STARTED_STATUS_DURATION = "INDEXED BY ix_workflow_executions_workflow_id_started_at_status_duration"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_db_time(value: datetime) -> str:
    """`value` as the store writes it: naive UTC text with microseconds (naive input is taken as UTC)."""
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
