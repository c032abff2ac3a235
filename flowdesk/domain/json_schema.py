"""The JSON Schema words flowdesk shares: a value's JSON type, and a schema's type in one word.

Node configs (node_config.py) and the API importers' sample builder (schema_example.py) both ask
"which JSON type is this value?"; the answer lives here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")


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
    """The JSON Schema type of a Python value ("integer", "object", ...); its class name when none fits."""
    exact = _EXACT.get(type(value))
    if exact is not None:  # the common case, without the abstract-class checks below
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def declared_types(schema: Mapping[str, Any]) -> list[str]:
    """The types a schema's `type` keyword allows, as a list (empty when it names none)."""
    types = schema.get("type")
    if isinstance(types, str):
        return [types]
    return [t for t in types or () if isinstance(t, str)]
