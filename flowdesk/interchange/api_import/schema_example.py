"""A sample value built from a JSON schema, for request bodies that come without an example.

Rules: an `example` (or 3.1 `examples[0]`, `default`, `const`, first `enum` value) wins; `$ref` is followed;
`allOf` parts are merged; `oneOf`/`anyOf` take the first option; `format` gives a plausible string; objects
get every property that is not readOnly; arrays get one item. Depth is limited and cycles stop at the
first repeat, so any schema gives a finite value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowdesk.domain.json_names import json_type

from .references import RefResolver, UnresolvedRef

MAX_DEPTH = 8
MAX_VALUES = 2000

_FORMAT_SAMPLES: dict[str, Any] = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com",
    "url": "https://example.com",
    "iri": "https://example.com",
    "uri-reference": "/example",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "c3RyaW5n",
    "binary": "",
    "password": "********",
    "duration": "P1D",
}

_TYPE_SAMPLES: dict[str, Any] = {"string": "string", "integer": 0, "number": 0, "boolean": True, "null": None}


def schema_type(schema: Any) -> str:
    """The schema's type in one word ("string", "integer", "object", ...), "string" when unknown."""
    if not isinstance(schema, dict):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str) and kind:
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if "const" in schema:
        return json_type(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return json_type(schema["enum"][0])
    return "string"


def declared_example(schema: Any) -> Any:
    """The example a schema declares itself (`example`, or 3.1's `examples[0]`), else None."""
    if not isinstance(schema, dict):
        return None
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    return None


class SchemaExampler:
    """Builds sample values from schemas of one document, reporting refs it cannot follow."""

    def __init__(
        self,
        resolver: RefResolver,
        on_unresolved: Callable[[UnresolvedRef], None] | None = None,
        on_cycle: Callable[[str], None] | None = None,
    ) -> None:
        self.resolver = resolver
        self.on_unresolved = on_unresolved or (lambda err: None)
        self.on_cycle = on_cycle or (lambda ref: None)
        self._count = 0

    def example(self, schema: Any) -> Any:
        """A sample value for `schema` (None when the schema says nothing usable)."""
        self._count = 0
        return self._value(schema, 0, ())

    def resolve(self, schema: Any, stack: tuple[str, ...] = ()) -> tuple[Any, tuple[str, ...]]:
        """Follow `$ref`s; returns (None, stack) for a broken or cyclic ref after reporting it."""
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if ref in stack:
                self.on_cycle(str(ref))
                return None, stack
            try:
                target = self.resolver.lookup(ref)
            except UnresolvedRef as err:
                self.on_unresolved(err)
                return None, stack
            stack = (*stack, ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if isinstance(target, dict) and siblings else target
        return schema, stack

    def _value(self, schema: Any, depth: int, stack: tuple[str, ...]) -> Any:
        self._count += 1
        if depth >= MAX_DEPTH or self._count > MAX_VALUES:
            return None
        schema, stack = self.resolve(schema, stack)
        if not isinstance(schema, dict):
            return None
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        if isinstance(schema.get("allOf"), list):
            return self._all_of(schema, depth, stack)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self._value(options[0], depth + 1, stack)
        kind = schema_type(schema)
        if kind == "object":
            return self._object(schema, depth, stack)
        if kind == "array":
            item = self._value(schema.get("items"), depth + 1, stack)
            return [] if item is None else [item]
        if kind == "string":
            fmt = schema.get("format")
            return _FORMAT_SAMPLES.get(fmt, "string") if isinstance(fmt, str) else "string"
        if kind in ("integer", "number"):
            minimum = schema.get("minimum")
            return minimum if isinstance(minimum, int | float) and not isinstance(minimum, bool) else 0
        return _TYPE_SAMPLES.get(kind)

    def _object(self, schema: dict[str, Any], depth: int, stack: tuple[str, ...]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return result
        for name, prop in properties.items():
            if self._count >= MAX_VALUES:
                break  # the sample is as big as it gets: the other properties would all be left empty
            if _cyclic(prop, stack):
                self.on_cycle(str(prop["$ref"]))
                continue
            resolved, inner = self.resolve(prop, stack)
            if isinstance(resolved, dict) and resolved.get("readOnly") is True:
                continue
            result[name] = self._value(resolved, depth + 1, inner)
        return result

    def _all_of(self, schema: dict[str, Any], depth: int, stack: tuple[str, ...]) -> Any:
        merged = merge_all_of(schema, self, stack)
        return self._value(merged, depth + 1, stack)


def _cyclic(prop: Any, stack: tuple[str, ...]) -> bool:
    return isinstance(prop, dict) and prop.get("$ref") in stack


def merge_all_of(schema: dict[str, Any], exampler: SchemaExampler, stack: tuple[str, ...] = ()) -> dict:
    """One schema from `allOf` parts: properties merged, required lists joined (later parts win)."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[str] = list(merged.get("required") or [])
    for part in schema.get("allOf") or []:
        resolved, inner = exampler.resolve(part, stack)
        if not isinstance(resolved, dict):
            continue
        if isinstance(resolved.get("allOf"), list):
            resolved = merge_all_of(resolved, exampler, inner)
        if isinstance(resolved.get("properties"), dict):
            properties.update(resolved["properties"])
        if isinstance(resolved.get("required"), list):
            required.extend(r for r in resolved["required"] if r not in required)
        for key, value in resolved.items():
            if key not in ("properties", "required") and key not in merged:
                merged[key] = value
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged
