"""Property tests: whatever the input, the importers give a result or a FlowdeskError, never another exception."""

from __future__ import annotations

import json
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.domain.errors import FlowdeskError
from flowdesk.interchange.api_export import library_to_openapi, to_curl
from flowdesk.interchange.api_import import ApiImportResult, import_api_spec, import_curl

# FLOWDESK_FUZZ_EXAMPLES=3000 for a longer hunt by hand; CI keeps the default.
_SETTINGS = settings(
    max_examples=int(os.environ.get("FLOWDESK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
# Keys that the importers look at, so random documents reach deep into them.
_KEYS = st.sampled_from(
    [
        "$ref", "type", "properties", "items", "allOf", "oneOf", "anyOf", "example", "examples", "enum",
        "parameters", "requestBody", "content", "schema", "in", "name", "required", "security", "servers",
        "url", "variables", "default", "responses", "application/json", "operationId", "tags", "get", "post",
        "item", "request", "header", "body", "mode", "raw", "auth", "event", "variable", "key", "value",
        "formData", "host", "path", "query", "urlencoded", "graphql", "bearer", "apikey", "flows",
        "clientCredentials", "tokenUrl", "securitySchemes", "components", "definitions", "schemas",
    ]
)  # fmt: skip
_REFS = st.sampled_from(
    [
        "#/components/schemas/A",
        "#/definitions/A",
        "#/paths",
        "#",
        "#/x~1y",
        "other.yaml#/A",
        "#/components/schemas",
    ]
)
_shaped = st.recursive(
    st.one_of(_scalars, _REFS),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(_KEYS, st.text(max_size=5)), children, max_size=5),
    ),
    max_leaves=40,
)


def _must_not_crash(content) -> None:
    try:
        result = import_api_spec(content)
    except FlowdeskError as err:
        assert str(err).strip()
        return
    assert isinstance(result, ApiImportResult)
    for definition in result.definitions:
        json.dumps(definition.model_dump(mode="json"))  # everything imported is plain JSON
        to_curl(definition)
    json.dumps(library_to_openapi(result.definitions))


@_SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(content):
    _must_not_crash(content)


@_SETTINGS
@given(_json)
def test_random_json(value):
    _must_not_crash(json.dumps(value))


@_SETTINGS
@given(_json)
def test_random_yaml(value):
    _must_not_crash(yaml.safe_dump(value))


@_SETTINGS
@given(st.text(max_size=200))
def test_random_text(text):
    _must_not_crash(text)


@_SETTINGS
@given(_shaped, _shaped)
def test_random_openapi_shaped_documents(paths, components):
    for head in ({"openapi": "3.0.0"}, {"openapi": "3.1.0"}, {"swagger": "2.0", "definitions": components}):
        _must_not_crash(
            json.dumps({**head, "info": {"title": "T"}, "paths": paths, "components": components})
        )


@_SETTINGS
@given(_shaped, _shaped)
def test_random_postman_shaped_collections(items, auth):
    for schema in ("v2.0.0", "v2.1.0"):
        document = {
            "info": {
                "name": "C",
                "schema": f"https://schema.getpostman.com/json/collection/{schema}/collection.json",
            },
            "item": items if isinstance(items, list) else [items],
            "auth": auth,
            "variable": auth,
        }
        _must_not_crash(json.dumps(document))


_WORDS = st.sampled_from(
    [
        "-X", "POST", "-H", "'A: b'", "-d", "'{\"a\": 1}'", "--data-urlencode", "q=x y", "-u", "u:p", "-G",
        "-F", "f=v", "--compressed", "-k", "-L", "-b", "c=1", "$'\\x41'", "\\\n", "'", '"', "https://e.test/a?b=c",
        "--json", "-I", "--url", "e.test", "-sSL", "-XPUT", "|", "#", "--max-time", "3", "@f",
        ";", "&&", "\n", "curl", "-T", "-", "@-", "<<EOF\n", "\nEOF\n", "<<<", "--url-query", "-r", "0-9",
        "--no-get", "--sil", "--dig", "--digest", "'a=@x;type=t/x'", "'n=\"q\"'", "-F", "--requ", "-H", "Bogus",
        "2>&1", ">", "out",
    ]
)  # fmt: skip


@_SETTINGS
@given(st.lists(_WORDS, max_size=12))
def test_random_curl_commands(words):
    command = "curl " + " ".join(words)
    try:
        result = import_curl(command)
    except FlowdeskError as err:
        assert str(err).strip()
        return
    for index, definition in enumerate(result.definitions):
        again = import_curl(to_curl(definition)).definitions[0]
        if index:  # a later command's name may carry " (2)": the export of it alone does not
            again = again.model_copy(update={"name": definition.name})
        assert again == definition
