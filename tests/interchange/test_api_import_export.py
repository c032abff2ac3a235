"""Export: a definition to a curl command, the library to an OpenAPI 3 document, and the round trips."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flowdesk.domain.models import ApiDefinition, ApiParameter
from flowdesk.interchange.api_export import library_to_openapi, to_curl
from flowdesk.interchange.api_import import import_api_spec, import_curl

FIXTURES = Path(__file__).parent / "fixtures" / "api"

PETS = ApiDefinition(
    name="getPet",
    url="{{env.base_url}}/pets/{{params.petId}}",
    query={"limit": "{{params.limit}}", "tag": ["a b", "c&d"]},
    headers={"Accept": "application/json"},
    auth={"type": "bearer", "token": "{{secrets.api_token}}"},
)
FORM = ApiDefinition(
    name="form",
    method="POST",
    url="https://e.test/form",
    body={"name": "Ann O'Neil", "n": 3},
    content_type="application/x-www-form-urlencoded",
    auth={"type": "basic", "username": "{{secrets.u}}", "password": "{{secrets.p}}"},
    timeout=7.5,
)
MULTIPART = ApiDefinition(
    name="upload",
    method="PUT",
    url="https://e.test/up",
    body={
        "title": "T",
        "note": "@x",
        "file": {"path": '/tmp/r "1".csv', "filename": "r.csv", "content_type": "text/csv"},
    },
    body_type="multipart",
    auth={"type": "api_key", "in": "query", "name": "key", "value": "{{secrets.k}}"},
)
HEAD = ApiDefinition(
    name="head",
    method="HEAD",
    url="https://e.test/",
    auth={"type": "api_key", "in": "header", "name": "X-Key", "value": "{{secrets.k}}"},
)
TEXT = ApiDefinition(
    name="text",
    method="POST",
    url="https://e.test/t",
    body="line1\nline2\x01",
    content_type="text/plain",
    auth={
        "type": "oauth2_client_credentials",
        "token_url": "https://auth.test/token",
        "client_id": "{{secrets.cid}}",
        "client_secret": "{{secrets.cs}}",
        "scopes": ["r"],
    },
)
DELETE = ApiDefinition(name="delete", method="DELETE", url="https://e.test/x", headers={"X-Empty": ""})

CURL = {
    "getPet": "curl --globoff '{{env.base_url}}/pets/{{params.petId}}?limit={{params.limit}}&tag=a%20b&tag=c%26d' \\\n"
    "  -H 'Accept: application/json' \\\n"
    "  -H 'Authorization: Bearer {{secrets.api_token}}'",
    "form": "curl 'https://e.test/form' \\\n"
    "  -H 'Content-Type: application/x-www-form-urlencoded' \\\n"
    "  -u '{{secrets.u}}:{{secrets.p}}' \\\n"
    "  --max-time 7.5 \\\n"
    "  --data-urlencode 'name=Ann O'\\''Neil' \\\n"
    "  --data-urlencode 'n=3'",
    "upload": "curl -X PUT --globoff 'https://e.test/up?key={{secrets.k}}' \\\n"
    "  --form-string 'title=T' \\\n"
    "  --form-string 'note=@x' \\\n"
    '  -F \'file=@"/tmp/r \\"1\\".csv";type=text/csv;filename="r.csv"\'',
    "head": "curl -I 'https://e.test/' \\\n  -H 'X-Key: {{secrets.k}}'",
    "text": "# OAuth2 client credentials: get a token from https://auth.test/token (client id {{secrets.cid}}) "
    "and put it in the Authorization header.\n"
    "curl 'https://e.test/t' \\\n"
    "  -H 'Content-Type: text/plain' \\\n"
    "  -H 'Authorization: Bearer <access token>' \\\n"
    "  --data-raw $'line1\\nline2\\x01'",
    "delete": "curl -X DELETE 'https://e.test/x' \\\n  -H 'X-Empty;'",
}


@pytest.mark.parametrize("api", [PETS, FORM, MULTIPART, HEAD, TEXT, DELETE], ids=lambda a: a.name)
def test_to_curl_exact_command(api):
    assert to_curl(api) == CURL[api.name]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("api", [PETS, FORM, MULTIPART, TEXT], ids=lambda a: a.name)
def test_to_curl_is_valid_bash_with_the_intended_words(api):
    script = "curl() { printf '%s\\0' \"$@\"; }\n" + to_curl(api)
    words = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout.split(b"\0")[:-1]
    reparsed = import_curl("curl " + " ".join("$'" + _ansi(w.decode()) + "'" for w in words)).definitions[0]
    assert reparsed == import_curl(to_curl(api)).definitions[0]


def _ansi(text: str) -> str:
    return "".join(f"\\x{ord(c):02x}" if c in "\\'" or ord(c) < 32 else c for c in text)


def test_to_curl_fills_env_and_params_but_never_secrets():
    command = to_curl(
        PETS,
        resolved={
            "env": {"base_url": "https://pets.test"},
            "params": {"petId": 7},
            "secrets": {"api_token": "SECRET-VALUE"},
        },
    )
    assert command == (
        "curl --globoff 'https://pets.test/pets/7?limit={{params.limit}}&tag=a%20b&tag=c%26d' \\\n"
        "  -H 'Accept: application/json' \\\n"
        "  -H 'Authorization: Bearer {{secrets.api_token}}'"
    )
    assert "SECRET-VALUE" not in command


def test_to_curl_fills_bracketed_names():
    api = ApiDefinition(
        name="x", url='https://e.test/{{params["pet-id"]}}', headers={"X-Id": '{{ env["x-id"] }}'}
    )
    assert to_curl(api, resolved={"params": {"pet-id": "p1"}, "env": {"x-id": 5}}) == (
        "curl 'https://e.test/p1' \\\n  -H 'X-Id: 5'"
    )


@pytest.mark.parametrize("api", [PETS, FORM, MULTIPART, HEAD, DELETE], ids=lambda a: a.name)
def test_definition_to_curl_to_definition_keeps_the_request(api):
    again = import_curl(to_curl(api)).definitions[0]
    assert again.method == api.method
    assert again.timeout == api.timeout
    assert again.content_type == api.content_type
    assert again.body_type == api.body_type
    if api.body_type == "multipart":
        assert again.body == api.body


def test_json_body_round_trip():
    api = ApiDefinition(
        name="POST e.test/items",
        method="POST",
        url="https://e.test/items",
        body={"name": "Ünïcode 'quoted'", "list": [1, 2.5, None, True], "nested": {"a": "{{params.a}}"}},
        content_type="application/json",
        auth={"type": "basic", "username": "u", "password": "p:w"},
    )
    assert import_curl(to_curl(api)).definitions[0] == api


LIBRARY = [
    ApiDefinition(
        name="listPets",
        url="{{env.base_url}}/pets",
        headers={"Accept": "application/json", "X-Trace": "{{params.trace}}", "Cookie": "sid=abc"},
        query={"limit": "{{params.limit}}", "fixed": "1"},
        tags=["pets"],
        description="List them",
        parameters=[ApiParameter(name="limit", location="query", required=True, type="integer", example=10)],
        auth={"type": "bearer", "token": "{{secrets.petsAuth_token}}"},
    ),
    ApiDefinition(
        name="createPet",
        method="POST",
        url="{{env.base_url}}/pets/{{params.owner}}",
        body={"name": "Rex"},
        content_type="application/json",
        tags=["pets", "write"],
        parameters=[ApiParameter(name="name", location="body", required=True, description="Pet name")],
        auth={"type": "basic", "username": "literal-user", "password": "literal-password"},
    ),
    ApiDefinition(
        name="GET e.test/health",
        url="https://e.test/health?verbose=1",
        auth={
            "type": "oauth2_client_credentials",
            "token_url": "https://auth.test/token",
            "client_id": "{{secrets.partner_client_id}}",
            "client_secret": "{{secrets.partner_client_secret}}",
            "scopes": ["a", "b"],
        },
    ),
    ApiDefinition(name="duplicate", url="{{env.base_url}}/pets"),
]


def test_library_to_openapi_exact_document():
    document = library_to_openapi(LIBRARY, environment={"base_url": "https://pets.test/v1"})
    assert document == {
        "openapi": "3.0.3",
        "info": {"title": "flowdesk API library", "version": "1.0.0"},
        "servers": [{"url": "{base_url}", "variables": {"base_url": {"default": "https://pets.test/v1"}}}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "description": "List them",
                    "tags": ["pets"],
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer"},
                            "example": 10,
                        },
                        {
                            "name": "fixed",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "1",
                        },
                        {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "Response", "content": {"application/json": {}}}},
                    "security": [{"petsAuth": []}],
                }
            },
            "/pets/{owner}": {
                "post": {
                    "operationId": "createPet",
                    "tags": ["pets", "write"],
                    "parameters": [
                        {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"name": {"type": "string", "description": "Pet name"}},
                                    "required": ["name"],
                                },
                                "example": {"name": "Rex"},
                            }
                        }
                    },
                    "responses": {"200": {"description": "Response"}},
                    "security": [{"basicAuth": []}],
                }
            },
            "/health": {
                "get": {
                    "operationId": "GET e.test/health",
                    "servers": [{"url": "https://e.test"}],
                    "parameters": [
                        {
                            "name": "verbose",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "1",
                        }
                    ],
                    "responses": {"200": {"description": "Response"}},
                    "security": [{"partner": ["a", "b"]}],
                }
            },
        },
        "tags": [{"name": "pets"}, {"name": "write"}],
        "components": {
            "securitySchemes": {
                "petsAuth": {"type": "http", "scheme": "bearer"},
                "basicAuth": {"type": "http", "scheme": "basic"},
                "partner": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://auth.test/token",
                            "scopes": {"a": "", "b": ""},
                        }
                    },
                },
            }
        },
        "x-flowdesk-skipped": [
            {"name": "duplicate", "reason": "GET /pets is already taken by another definition"}
        ],
    }


def test_openapi_export_never_carries_literal_credentials():
    text = json.dumps(library_to_openapi(LIBRARY))
    for secret in ("literal-user", "literal-password", "sid=abc"):
        assert secret not in text


@pytest.mark.parametrize(
    "name", ["petstore-3.0.yaml", "bookshop-3.1.json", "petstore-swagger-2.0.json", "oddities-3.0.yaml"]
)
def test_openapi_export_then_import_gives_equal_definitions(name):
    first = import_api_spec((FIXTURES / name).read_bytes())
    document = library_to_openapi(first.definitions, environment=first.environment)
    again = import_api_spec(json.dumps(document))
    assert again.format == "openapi 3.0"
    assert again.environment == first.environment
    assert len(again.definitions) == len(first.definitions)
    for a, b in zip(first.definitions, again.definitions, strict=True):
        assert b.model_dump(exclude={"source"}) == a.model_dump(exclude={"source"}), a.name
        assert b.source == f"openapi:flowdesk API library#{a.name}"


def test_exported_document_is_yaml_friendly_and_imports_from_yaml():
    import yaml

    first = import_api_spec((FIXTURES / "petstore-3.0.yaml").read_bytes())
    text = yaml.safe_dump(library_to_openapi(first.definitions, title="Mine"), sort_keys=False)
    again = import_api_spec(text)
    assert again.title == "Mine"
    assert [(d.method, d.url) for d in again.definitions] == [(d.method, d.url) for d in first.definitions]
    assert again.environment == {"base_url": "http://localhost"}
