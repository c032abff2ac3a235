"""Format detection from content alone, and plain sentences for inputs that are no API document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.domain.errors import FlowdeskError, InvalidInputError
from flowdesk.interchange.api_import import ApiSpecSyntaxError, import_api_spec

FIXTURES = Path(__file__).parent / "fixtures" / "api"
_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("petstore-3.0.yaml", "openapi 3.0"),
        ("bookshop-3.1.json", "openapi 3.1"),
        ("oddities-3.0.yaml", "openapi 3.0"),
        ("petstore-swagger-2.0.json", "swagger 2.0"),
        ("collection-v2.1.json", "postman 2.1"),
        ("collection-v2.0.json", "postman 2.0"),
    ],
)
def test_detects_each_fixture(name, expected):
    assert import_api_spec((FIXTURES / name).read_bytes()).format == expected


def test_json_spec_written_as_yaml_and_yaml_spec_written_as_json_are_the_same():
    as_json = json.loads((FIXTURES / "bookshop-3.1.json").read_text())
    import yaml

    as_yaml = yaml.safe_dump(as_json, sort_keys=False)
    a = import_api_spec(json.dumps(as_json))
    b = import_api_spec(as_yaml)
    assert a.format == b.format == "openapi 3.1"
    assert a.definitions == b.definitions


def test_postman_collection_without_schema_url_is_taken_as_21():
    result = import_api_spec(
        '{"info": {"name": "No schema"}, "item": [{"name": "r", "request": "https://e.test"}]}'
    )
    assert result.format == "postman 2.1"
    assert result.definitions[0].url == "https://e.test"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_PNG, "The input is a PNG image, not an OpenAPI, Swagger or Postman document."),
        (b"%PDF-1.7\n%\xe2\xe3", "The input is a PDF document, not an OpenAPI, Swagger or Postman document."),
        (b"PK\x03\x04zip", "The input is a ZIP archive, not an OpenAPI, Swagger or Postman document."),
        (b"", "The input is empty."),
        ("  \n\t ", "The input is empty."),
        (b"\xff\xfeo\x00p\x00\x00\xd8", "The input is not valid UTF-16 text (byte 6)."),
        (b"ok\xc3\x28", "The input is not UTF-8 text (byte 2 cannot be read); it may be a binary file."),
        (
            "a\x00b",
            "The input contains NUL characters; it looks like a binary file, not an OpenAPI, Swagger or Postman document.",
        ),
        (
            "just some words",
            "The input is not an OpenAPI 3, Swagger 2.0 or Postman v2 document: it is plain text, not a mapping of keys.",
        ),
        (
            "- a\n- b\n",
            "The input is not an OpenAPI 3, Swagger 2.0 or Postman v2 document: it is a list, not a mapping of keys.",
        ),
        (
            "42",
            "The input is not an OpenAPI 3, Swagger 2.0 or Postman v2 document: it is a single value, not a mapping of keys.",
        ),
        (
            '{"name": "x", "version": 1}',
            "The input is not an OpenAPI 3, Swagger 2.0 or Postman v2 document: it has none of the keys 'openapi', "
            "'swagger' or 'info' with 'item'.",
        ),
        (
            "openapi: 4.0.0\n",
            "The input is OpenAPI version '4.0.0', which is not supported (3.0 and 3.1 are).",
        ),
        ('{"swagger": "1.2"}', "The input is Swagger version '1.2', which is not supported (2.0 is)."),
        (
            '{"id": "x", "name": "c", "order": [], "requests": []}',
            "The input is a Postman v1 collection, which is not supported; export it from Postman as v2.1.",
        ),
        (
            '{"id": "e", "name": "dev", "values": [], "_postman_variable_scope": "environment"}',
            "The input is a Postman environment, not a collection; import the collection and create the "
            "environment's variables by hand.",
        ),
        (
            '{"log": {"version": "1.2", "entries": []}}',
            "The input is a HAR file, which is not supported; copy a request as cURL instead.",
        ),
    ],
)
def test_not_an_api_document_gets_one_plain_sentence(content, message):
    with pytest.raises(InvalidInputError) as info:
        import_api_spec(content)
    assert str(info.value) == message


def test_source_name_is_named_in_the_sentence():
    with pytest.raises(InvalidInputError) as info:
        import_api_spec(_PNG, source_name="logo.png")
    assert str(info.value) == "'logo.png' is a PNG image, not an OpenAPI, Swagger or Postman document."


# PyYAML words its errors differently with and without libyaml; line and column are the same.
@pytest.mark.parametrize(
    ("content", "line", "column", "messages"),
    [
        (
            '{\n  "openapi": "3.0.0",\n  "info": {,}\n}',
            3,
            12,
            ["The JSON is malformed: Expecting property name enclosed in double quotes."],
        ),
        ('{"openapi": "3.0.0"', 1, 20, ["The JSON is malformed: Expecting ',' delimiter."]),
        (
            "openapi: 3.0.0\ninfo:\n  title: [unclosed\n",
            4,
            1,
            [
                "The YAML is malformed: expected ',' or ']', but got '<stream end>'.",
                "The YAML is malformed: did not find expected ',' or ']'.",
            ],
        ),
        (
            "openapi: 3.0.0\npaths:\n  /a: {get: x}: y\n",
            3,
            15,
            [
                "The YAML is malformed: mapping values are not allowed here.",
                "The YAML is malformed: mapping values are not allowed in this context.",
            ],
        ),
        (
            "openapi: 3.0.0\n\tinfo: x\n",
            2,
            1,
            [
                "The YAML is malformed: found character '\\t' that cannot start any token.",
                "The YAML is malformed: found a tab character that violates indentation.",
            ],
        ),
    ],
)
def test_syntax_errors_report_line_and_column(content, line, column, messages):
    with pytest.raises(ApiSpecSyntaxError) as info:
        import_api_spec(content, source_name="spec.txt")
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert err.message in messages
    assert str(err) == f"spec.txt, line {line}, column {column}: {err.message}"
    assert isinstance(err, InvalidInputError)


def test_control_character_in_yaml_is_located():
    with pytest.raises(ApiSpecSyntaxError) as info:
        import_api_spec("openapi: 3.0.0\ninfo: x\x01\n")
    assert (
        str(info.value)
        == "line 2, column 8: The text holds a control character (#x0001) that YAML does not allow."
    )


def test_deeply_nested_json_is_refused_plainly():
    with pytest.raises(FlowdeskError) as info:
        import_api_spec("[" * 100_000 + "]" * 100_000)
    assert str(info.value) == "The input is nested too deeply to read."


def test_yaml_alias_to_itself_does_not_loop():
    result = import_api_spec("openapi: 3.0.0\ninfo: {title: T}\npaths: &p\n  /a:\n    get: {x-self: *p}\n")
    assert [d.name for d in result.definitions] == ["GET /a"]


def test_yaml_dates_and_integer_keys_become_plain_values():
    text = (
        "openapi: 3.0.0\ninfo: {title: T}\nservers: [{url: 'https://e.test'}]\npaths:\n  /a:\n    post:\n"
        "      requestBody:\n        content:\n          application/json:\n            example: {day: 2024-05-01, 7: seven}\n"
        "      responses: {200: {description: ok, content: {application/json: {}}}}\n"
    )
    definition = import_api_spec(text).definitions[0]
    assert definition.body == {"day": "2024-05-01", "7": "seven"}
    assert definition.headers == {"Accept": "application/json"}
