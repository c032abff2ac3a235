"""Response schemas of large documents: a $ref is expanded once per document, cycles and long chains
of references neither fail an operation nor keep a schema too deep to check (response_schema.py)."""

from __future__ import annotations

import json

import jsonschema

from flowdesk.interchange.api_import import import_api_spec, references
from flowdesk.interchange.api_import.response_schema import MAX_DEPTH


def _document(schemas: dict, answers: list[dict], *, method: str = "get") -> str:
    paths = {
        f"/r{k}": {
            method: {
                "operationId": f"op{k}",
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": answer}}}
                },
            }
        }
        for k, answer in enumerate(answers)
    }
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "T", "version": "1"},
            "servers": [{"url": "https://t.test"}],
            "components": {"schemas": schemas},
            "paths": paths,
        }
    )


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _chain(length: int, prefix: str = "S") -> dict:
    """S0 -> S1 -> ... each an object with a name and (but the last) a `next`."""
    return {
        f"{prefix}{i}": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                **({"next": _ref(f"{prefix}{i + 1}")} if i + 1 < length else {}),
            },
        }
        for i in range(length)
    }


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def test_a_reference_used_by_many_operations_is_followed_once(monkeypatch):
    looked_up: list[str] = []
    lookup = references.RefResolver.lookup

    def counting(self, ref):
        looked_up.append(ref)
        return lookup(self, ref)

    monkeypatch.setattr(references.RefResolver, "lookup", counting)
    result = import_api_spec(_document(_chain(30), [_ref(f"S{k % 30}") for k in range(100)]))
    assert len(result.definitions) == 100 and result.problems == []
    # each of the 30 schemas once, not once per operation and level (1,650 lookups before)
    assert sorted(looked_up) == sorted(f"#/components/schemas/S{i}" for i in range(30))
    schemas = {d.name: d.response_schema for d in result.definitions}
    first = schemas["op0"]
    for _ in range(29):
        assert first["type"] == "object" and first["properties"]["name"] == {"type": "string"}
        first = first["properties"]["next"]
    assert "next" not in first["properties"]  # S29, the end of the chain
    assert schemas["op30"] == schemas["op0"] and schemas["op31"] == schemas["op1"]
    assert "$ref" not in json.dumps(schemas)


def test_a_web_of_references_imports_every_operation():
    """300 schemas each referring to two others (the shape that took every operation down with a
    RecursionError before): each operation is imported; its schema, too large inlined, is not kept."""
    schemas = {
        f"W{i}": {
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": _ref(f"W{(i + 1) % 300}"),
                "c": {"type": "array", "items": _ref(f"W{(i + 7) % 300}")},
            },
        }
        for i in range(300)
    }
    result = import_api_spec(_document(schemas, [_ref(f"W{k}") for k in range(40)]))
    assert [d.name for d in result.definitions] == [f"op{k}" for k in range(40)]
    assert result.problems == []
    assert all(d.response_schema is None for d in result.definitions)


def test_a_tree_refers_to_itself_and_is_kept_cut_at_the_repeat():
    schemas = {
        "Tree": {
            "type": "object",
            "properties": {"value": _ref("Leaf"), "children": {"type": "array", "items": _ref("Tree")}},
        },
        "Leaf": {"type": "integer", "nullable": True},
    }
    (definition,) = import_api_spec(_document(schemas, [_ref("Tree")])).definitions
    assert definition.response_schema == {
        "type": "object",
        "properties": {
            "value": {"type": ["integer", "null"], "nullable": True},
            "children": {"type": "array", "items": {}},
        },
    }


def test_a_chain_nested_deeper_than_max_depth_is_not_kept_and_one_within_it_is_checked():
    long, short = 150, 40  # each link of the chain is two levels: properties, then next
    result = import_api_spec(_document({**_chain(long), **_chain(short, "T")}, [_ref("S0"), _ref("T0")]))
    deep, shallow = (d.response_schema for d in result.definitions)
    assert result.problems == []
    assert deep is None  # 300 levels: a validator would recurse past Python's limit checking it
    assert shallow is not None and _depth(shallow) <= MAX_DEPTH
    answer: dict = {"name": "last"}
    for i in range(short - 1):
        answer = {"name": f"n{i}", "next": answer}
    jsonschema.validate(answer, shallow)


def test_an_unresolved_reference_inside_a_shared_schema_is_reported_for_each_operation():
    schemas = {
        "Pet": {"type": "object", "properties": {"owner": _ref("Owner")}},
        "Owner": {"type": "object", "properties": {"address": _ref("Missing")}},
    }
    result = import_api_spec(_document(schemas, [_ref("Pet"), _ref("Pet"), _ref("Owner")]))
    reported = [(p.where, p.message) for p in result.problems]
    missing = "$ref '#/components/schemas/Missing' cannot be resolved"
    assert [where for where, message in reported if missing in message] == ["GET /r0", "GET /r1", "GET /r2"]
    pet = result.definitions[0].response_schema
    assert pet == {
        "type": "object",
        "properties": {"owner": {"type": "object", "properties": {"address": {}}}},
    }
