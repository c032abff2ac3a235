"""How flowdesk names things in JSON documents: where a value is (`json_path`), what kind of JSON
value it is (`json_type`, the JSON Schema word) and how a sentence says so (`json_kind`). One place,
so a problem's path reads the same from validation, the file reader and a run's input check, and an
importer and an exporter agree on a value's type."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def json_path(path: Iterable[str | int]) -> str:
    """`("nodes", 2, "config", "my key")` -> `nodes[2].config["my key"]`.

    Identifier keys are dotted; any other key is written as a JSON string in brackets (double quotes,
    JSON escapes, non-ASCII kept), so the path can be read back with the file's own quoting.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


_EXACT = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
}


def json_type(value: Any) -> str:
    """The JSON Schema type of a value: boolean, integer, number, string, object, array or null
    ("string" for anything else, as a JSON document would write it)."""
    exact = _EXACT.get(type(value))
    if exact is not None:  # the common case, without the abstract-class checks below (validation
        return exact  # asks this for every config value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "string"


_KIND_WORDS = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "a number",
    "number": "a number",
    "string": "a string",
    "object": "an object",
    "array": "a list",
}


def json_type_name(value: Any) -> str:
    """`json_type`, except that a value JSON has no type for is named by its Python type ("bytes"),
    for messages about values handed in from Python."""
    kind = json_type(value)
    return type(value).__name__ if kind == "string" and not isinstance(value, str) else kind


def json_kind(value: Any) -> str:
    """What a value is, for a sentence: "null", "a boolean", "a number", "a string", "an object",
    "a list" (else the Python type's name)."""
    kind = json_type_name(value)
    return _KIND_WORDS.get(kind, kind)
