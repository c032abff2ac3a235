"""Shared checks of the API importer tests: import a fixture, compare every definition field."""

from __future__ import annotations

from pathlib import Path

from flowdesk.interchange.api_import import import_api_spec

FIXTURES = Path(__file__).resolve().parents[1] / "interchange" / "fixtures" / "api"


def import_fixture(name: str):
    """The ApiImportResult of the fixture file `name`."""
    return import_api_spec((FIXTURES / name).read_bytes(), source_name=name)


def definition_fields(definition, exclude: set[str] | frozenset[str] = frozenset()) -> dict:
    """A definition's fields, without ids, timestamps, parameters and the response schema (checked by
    test_api_import_openapi's own test of it); body_type only when it is set."""
    fields = definition.model_dump(
        exclude={"id", "created_at", "updated_at", "parameters", "response_schema", *exclude}
    )
    if fields.get("body_type") is None:
        fields.pop("body_type", None)
    return fields


def parameter_rows(definition) -> list[tuple]:
    """A definition's parameters as comparable tuples."""
    return [(p.name, p.location, p.required, p.type, p.description, p.example) for p in definition.parameters]


def check_definitions(result, expected) -> None:
    """`result` has exactly the definitions of `expected` (name -> (fields, parameter rows)), in order."""
    assert [d.name for d in result.definitions] == list(expected)
    for definition in result.definitions:
        fields, rows = expected[definition.name]
        assert definition_fields(definition) == fields, definition.name
        assert parameter_rows(definition) == rows, definition.name
