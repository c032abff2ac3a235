"""How hot paths (the engine's step rows, store/run_rows.py) encode values for SQLite: JSON text and UTC
times as the store's column types write them (tests/engine/test_writer.py reads both back and compares).

JSON is written by orjson (ten times faster than the json module for a typical response; compact,
UTF-8, NaN and infinities as null). What orjson refuses (a set, bytes, an object, an integer over
64 bits) is first made JSON-safe (`json_safe`) and written by the json module, so nothing a node
outputs can stop its step from being recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def json_safe(value: Any) -> Any:
    """A JSON-able copy of `value` (dates as ISO text, bytes as UTF-8 text, other unknown objects as
    their str, sets and tuples as lists, keys as text)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def json_text(value: Any) -> str | None:
    """A JSON column's text; None is SQL NULL."""
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError: not JSON as it stands
        return json.dumps(json_safe(value), ensure_ascii=False)


_SECOND: tuple[int, str] = (-1, "")
"""The last whole second `time_text` wrote for a UTC time, and its text (one tuple, swapped whole, so
the loop and the writer thread never see a second with another second's text)."""


def time_text(value: Any) -> str | None:
    """A UTCDateTime column's text on SQLite: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff"."""
    global _SECOND
    if value is None:
        return None
    tz = value.tzinfo
    if tz is UTC:  # the engine's own times: "YYYY-MM-DD HH:MM:SS" written once a second, not per row
        moment = value.timestamp()
        if moment < 0:  # before 1970: int() would round towards the next second
            return value.isoformat(" ", "microseconds")[:26]
        second = int(moment)
        last = _SECOND
        if last[0] != second:
            last = _SECOND = (second, value.isoformat(" ", "seconds")[:19])
        return f"{last[1]}.{value.microsecond:06d}"
    if tz is not None:
        value = value.replace(tzinfo=None) if tz is UTC else value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")
