"""How values behave in expressions: truthiness, text form, equality, ordering, membership."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_NUMERIC_TEXT = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")


def is_number(value: Any) -> bool:
    """int or float, but not bool (true is not 1 here)."""
    return (type(value) is int or type(value) is float) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    )


_SCALARS = frozenset({str, int, float, bool})
_PLAIN = frozenset({str, int, float, bool, list, tuple, dict})


def truthy(value: Any) -> bool:
    """null, false, 0, "", [] and {} are false; everything else is true."""
    if value is True:
        return True
    if value is None or value is False:
        return False
    if type(value) in _PLAIN:
        return bool(value)
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    if isinstance(value, Mapping):
        return len(value) > 0
    return True


def to_json(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is; anything JSON does not know is written as its str()."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # a circular or absurdly deep structure from the host
        return "[unprintable: nested too deeply]"


def text_form(value: Any) -> str:
    """How a value reads inside text: null -> "", true/false, numbers as JSON, objects as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if math.isfinite(value):
            return repr(value)
        return to_json(value)
    if isinstance(value, (int, float)):
        return to_json(value)
    if isinstance(value, (list, tuple, dict, Mapping)):
        return to_json(value if not isinstance(value, Mapping) or isinstance(value, dict) else dict(value))
    return str(value)


def as_number(value: Any) -> int | float | None:
    """The number a numeric string stands for ("60", " 1.5 "), else None."""
    if isinstance(value, str) and len(value) < 100 and _NUMERIC_TEXT.fullmatch(value):
        number = float(value)
        if number.is_integer() and "." not in value and "e" not in value.lower():
            return int(number) if abs(number) < 2**53 else number
        return number
    return None


def equals(left: Any, right: Any) -> bool:
    """Equality that never raises; a number equals a string spelling the same number."""
    kind = type(left)
    if kind is type(right) and kind in _SCALARS:
        return bool(left == right)
    try:
        return _equals(left, right)
    except RecursionError:  # structures nested deeper than Python can walk: call them unequal
        return False


def _equals(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    left_num = is_number(left)
    right_num = is_number(right)
    if left_num and right_num:
        return bool(left == right)
    if left_num and isinstance(right, str):
        other = as_number(right)
        return other is not None and left == other
    if right_num and isinstance(left, str):
        other = as_number(left)
        return other is not None and right == other
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, str) or isinstance(right, str):
        return isinstance(left, str) and isinstance(right, str) and left == right
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(_equals(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(_equals(left[k], right[k]) for k in left)
    try:
        return bool(left == right)
    except Exception:  # an exotic object from the host: unequal, never an error
        return False


def order(left: Any, right: Any) -> tuple[Any, Any] | None:
    """The pair to compare with < <= > >=, or None when the two are unordered (result false)."""
    left_num = is_number(left)
    right_num = is_number(right)
    if left_num and right_num:
        return left, right
    if left_num and isinstance(right, str):
        other = as_number(right)
        return None if other is None else (left, other)
    if right_num and isinstance(left, str):
        other = as_number(left)
        return None if other is None else (other, right)
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return None


def member(item: Any, container: Any) -> bool:
    """`item in container`: substring of a string, element of a list, key of an object."""
    if isinstance(container, str):
        if isinstance(item, str):
            return item in container
        if is_number(item) or isinstance(item, bool):
            return text_form(item) in container
        return False
    if isinstance(container, (list, tuple)):
        return any(equals(item, element) for element in container)
    if isinstance(container, Mapping):
        if isinstance(item, str):
            return item in container
        if is_number(item):
            return item in container or text_form(item) in container
        return False
    return False


def is_empty(value: Any) -> bool:
    """null, "", [] and {} are empty (0 and false are not)."""
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) == 0
    return False


def type_name(value: Any) -> str:
    """The user's word for a value's type, for warnings."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "a value"
