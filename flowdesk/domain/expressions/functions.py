"""The functions an expression may call by name: values that change on every evaluation (ids, times, random).

They are evaluated when a template is rendered, that is at send time for a request: Postman's dynamic
variables (`{{$guid}}`, `{{$timestamp}}`, `{{$randomInt}}`...) import as calls of these.
"""

from __future__ import annotations

import datetime as _dt
import math
import secrets
import string
import uuid as _uuid
from collections.abc import Callable
from typing import Any

from .values import is_number, text_form, type_name

#: Longest text random_string may build.
MAX_RANDOM_STRING = 10_000
_ALPHANUMERIC = string.ascii_lowercase + string.digits


def _uuid4() -> str:
    return str(_uuid.uuid4())


def _now() -> str:
    """The current UTC time in ISO 8601 with milliseconds: 2026-12-07T05:40:00.123Z."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _timestamp() -> int:
    """Seconds since 1970-01-01 UTC."""
    return int(_dt.datetime.now(_dt.UTC).timestamp())


class FunctionError(Exception):
    """A function given arguments it cannot use: the expression gives null and this warning."""


def _whole(value: Any) -> bool:
    return is_number(value) and math.isfinite(value) and int(value) == value


def _random_int(low: Any, high: Any) -> int:
    """A whole number from low to high, both included."""
    if not (_whole(low) and _whole(high)):
        raise FunctionError(
            f"'random_int(a, b)' needs two whole numbers, got {type_name(low)} and {type_name(high)}"
        )
    low, high = int(low), int(high)
    if low > high:
        raise FunctionError(f"'random_int(a, b)' needs a <= b, got {low} and {high}")
    return low + secrets.randbelow(high - low + 1)


def _random_string(length: Any) -> str:
    """`length` random lower-case letters and digits."""
    if not _whole(length) or not 0 <= length <= MAX_RANDOM_STRING:
        raise FunctionError(f"'random_string(n)' needs a whole number from 0 to {MAX_RANDOM_STRING}")
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(int(length)))


def _join(items: Any, separator: Any) -> str | None:
    """The items' text forms joined by `separator`; null stays null (an optional value not given)."""
    if items is None:
        return None
    if not isinstance(items, list | tuple) or not isinstance(separator, str):
        raise FunctionError(
            f"'join(list, separator)' needs a list and a string, got {type_name(items)} and {type_name(separator)}"
        )
    return separator.join(text_form(item) for item in items)


#: name -> (number of arguments, implementation)
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "uuid": (0, _uuid4),
    "now": (0, _now),
    "timestamp": (0, _timestamp),
    "random_int": (2, _random_int),
    "random_string": (1, _random_string),
    "join": (2, _join),
}
