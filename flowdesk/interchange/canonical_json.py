"""The canonical text of a JSON value: what `json.dumps(v, sort_keys=True, indent=2, ensure_ascii=False,
allow_nan=False)` writes, about twice as fast.

With `indent` set, the standard library falls back from its C encoder to a generator-based Python
one; a 2,000-node workflow then takes some 200 ms to write. This writer appends to one list in a
plain recursive function and encodes strings with the C `encode_basestring`. A property test holds
it equal to `json.dumps` on random values.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps_canonical"]


def _key(key: Any) -> str:
    # The same key conversions json.dumps makes.
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def dumps_canonical(value: Any) -> str:
    """Sorted keys, two-space indent, non-ASCII kept, no NaN/Infinity; no trailing newline."""
    out: list[str] = []
    append = out.append
    encode = encode_basestring

    def dump(item: Any, indent: str) -> None:
        if isinstance(item, str):
            append(encode(item))
        elif item is None:
            append("null")
        elif item is True:
            append("true")
        elif item is False:
            append("false")
        elif isinstance(item, int):
            append(int.__repr__(item))
        elif isinstance(item, float):
            append(_float(item))
        elif isinstance(item, dict):
            if not item:
                append("{}")
                return
            inner = indent + "  "
            separator = ",\n" + inner
            append("{\n" + inner)
            try:
                keys = sorted(item)  # as json.dumps does: the keys themselves, converted afterwards
            except TypeError:
                keys = sorted(item, key=_key)
            for n, key in enumerate(keys):
                if n:
                    append(separator)
                append(encode(key if type(key) is str else _key(key)))
                append(": ")
                child = item[key]
                if type(child) is str:  # the common leaf, without a call
                    append(encode(child))
                else:
                    dump(child, inner)
            append("\n" + indent + "}")
        elif isinstance(item, (list, tuple)):
            if not item:
                append("[]")
                return
            inner = indent + "  "
            separator = ",\n" + inner
            append("[\n" + inner)
            for n, child in enumerate(item):
                if n:
                    append(separator)
                if type(child) is str:
                    append(encode(child))
                else:
                    dump(child, inner)
            append("\n" + indent + "]")
        else:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")

    dump(value, "")
    return "".join(out)
