"""Sample bodies built from JSON schemas: examples first, refs, allOf/oneOf, formats, depth and cycles."""

from __future__ import annotations

import pytest

from flowdesk.interchange.api_import.references import RefResolver, UnresolvedRef
from flowdesk.interchange.api_import.schema_example import MAX_DEPTH, SchemaExampler, schema_type


def _example(schema, root=None):
    unresolved: list[str] = []
    cycles: list[str] = []
    exampler = SchemaExampler(
        RefResolver(root or {}), on_unresolved=lambda e: unresolved.append(e.ref), on_cycle=cycles.append
    )
    return exampler.example(schema), unresolved, cycles


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "example": "given", "default": "d"}, "given"),
        ({"type": "string", "default": "d", "enum": ["e"]}, "d"),
        ({"type": "string", "enum": ["first", "second"]}, "first"),
        ({"const": 3}, 3),
        ({"type": "string", "examples": ["from 3.1"]}, "from 3.1"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "format": "uuid"}, "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ({"type": "string", "format": "email"}, "user@example.com"),
        ({"type": "string", "format": "ipv4"}, "192.0.2.1"),
        ({"type": "string", "format": "made-up"}, "string"),
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "number"}, 0),
        ({"type": "boolean"}, True),
        ({"type": "null"}, None),
        ({"type": ["null", "integer"]}, 0),
        ({"type": "array", "items": {"type": "integer"}}, [0]),
        (
            {"properties": {"a": {"type": "string"}, "b": {"readOnly": True, "type": "string"}}},
            {"a": "string"},
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 0),
        ({"anyOf": [{"type": "string", "format": "date"}]}, "2024-01-01"),
        (
            {
                "allOf": [
                    {"properties": {"a": {"type": "integer"}}},
                    {"properties": {"b": {"type": "boolean"}}},
                ]
            },
            {"a": 0, "b": True},
        ),
        ({}, "string"),
        ("not a schema", None),
    ],
)
def test_sample_values(schema, expected):
    assert _example(schema)[0] == expected


def test_refs_are_followed_and_broken_ones_reported():
    root = {"components": {"schemas": {"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}
    value, unresolved, _ = _example(
        {
            "type": "object",
            "properties": {
                "pet": {"$ref": "#/components/schemas/Pet"},
                "lost": {"$ref": "#/components/schemas/Nope"},
                "far": {"$ref": "https://elsewhere.test/schema.json"},
            },
        },
        root,
    )
    assert value == {"pet": {"id": 0}, "lost": None, "far": None}
    assert unresolved == ["#/components/schemas/Nope", "https://elsewhere.test/schema.json"]


def test_cycles_stop_at_the_first_repeat():
    root = {
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "next": {"$ref": "#/definitions/Node"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                },
            },
            "A": {"allOf": [{"$ref": "#/definitions/B"}]},
            "B": {"allOf": [{"$ref": "#/definitions/A"}], "properties": {"b": {"type": "string"}}},
        }
    }
    value, _, cycles = _example({"$ref": "#/definitions/Node"}, root)
    assert value == {"value": 0, "children": []}
    assert set(cycles) == {"#/definitions/Node"}
    value, _, cycles = _example({"$ref": "#/definitions/A"}, root)
    assert value == {"b": "string"}


def test_depth_is_limited():
    schema: dict = {"type": "string"}
    for _ in range(MAX_DEPTH + 5):
        schema = {"type": "object", "properties": {"x": schema}}
    value, _, _ = _example(schema)
    depth = 0
    while isinstance(value, dict) and "x" in value:
        value = value["x"]
        depth += 1
    assert depth == MAX_DEPTH and value is None


def test_wide_dag_stays_small():
    # 20 levels where each level refers to the next twice: 2**20 paths, but the sample stays bounded.
    root = {
        "d": {
            f"L{i}": {"properties": {"a": {"$ref": f"#/d/L{i + 1}"}, "b": {"$ref": f"#/d/L{i + 1}"}}}
            for i in range(20)
        }
    }
    value, _, _ = _example({"$ref": "#/d/L0"}, root)
    assert len(repr(value)) < 200_000


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("#/a/b~1c", None),
        ("#/a/missing", "nothing in the document has that path"),
        ("other.yaml#/a", "it points outside this document, which is not followed"),
        ("#nope", "it is not a JSON pointer"),
        ("#/list/1", None),
    ],
)
def test_json_pointers(ref, reason):
    resolver = RefResolver({"a": {"b/c": 1}, "list": ["x", "y"]})
    if reason is None:
        assert resolver.lookup(ref) in (1, "y")
    else:
        with pytest.raises(UnresolvedRef) as info:
            resolver.lookup(ref)
        assert info.value.reason == reason


def test_schema_type_words():
    assert schema_type({"type": ["string", "null"]}) == "string"
    assert schema_type({"enum": [True]}) == "boolean"
    assert schema_type({"items": {}}) == "array"
    assert schema_type(None) == "string"
