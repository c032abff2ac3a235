"""How the engine's hot paths encode values for SQLite, exactly as the store's column types do."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any


def json_text(value: Any) -> str | None:
    """A JSON column's text: json.dumps(ensure_ascii=False); None is SQL NULL."""
    if value is None:
        return None
    if not value and type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return json.dumps(value, ensure_ascii=False)


def time_text(value: Any) -> str | None:
    """A UTCDateTime column's text on SQLite: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff"."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")
