"""The text the store writes into JSON columns, per database.

SQLite keeps JSON as plain text, so Python's `json.dumps` output goes in as it is, `NaN` and
`Infinity` included (Python reads them back). PostgreSQL's `json` type accepts only standard JSON
and refuses those two words, which would make a whole write fail; there they are written as `null`,
as JavaScript's `JSON.stringify` does. Both keep non-ASCII text as it is (`ensure_ascii=False`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any


def dumps(value: Any) -> str:
    """JSON text of `value` as SQLite stores it."""
    return json.dumps(value, ensure_ascii=False)


def dumps_standard(value: Any) -> str:
    """JSON text of `value` that PostgreSQL's `json` type accepts: NaN and +/-Infinity become null."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:  # a non-finite float somewhere (or a circular reference, raised again below)
        return json.dumps(_finite(value, set()), ensure_ascii=False, allow_nan=False)


def _finite(value: Any, seen: set[int]) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list | tuple):
        if id(value) in seen:
            raise ValueError("Circular reference detected")
        seen.add(id(value))
        if isinstance(value, dict):
            result: Any = {k: _finite(v, seen) for k, v in value.items()}
        else:
            result = [_finite(v, seen) for v in value]
        seen.discard(id(value))
        return result
    return value


def serializer_for(backend: str) -> Callable[[Any], str]:
    """The JSON serializer of a backend ("sqlite", "postgresql")."""
    return dumps_standard if backend == "postgresql" else dumps


def column_text(value: Any, serialize: Callable[[Any], str] = dumps) -> str | None:
    """A JSON column's stored text (None is SQL NULL); empty containers skip the serializer."""
    if value is None:
        return None
    if not value and type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return serialize(value)
