"""Swagger 2.0: host + basePath + schemes, body and formData parameters, produces/consumes, auth."""

from __future__ import annotations

from flowdesk.interchange.api_import import import_api_spec
from tests.support.api_import_checks import check_definitions as _check
from tests.support.api_import_checks import import_fixture as _import

EXPECTED_SW = {
    "addPet": (
        {
            "name": "addPet",
            "method": "POST",
            "url": "{{env.base_url}}/pet",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": {
                "category": {"id": 0, "name": "string"},
                "name": "doggie",
                "photoUrls": ["string"],
                "status": "available",
            },
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://classic.petstore.test/oauth/token",
                "client_id": "{{secrets.petstore_auth_client_id}}",
                "client_secret": "{{secrets.petstore_auth_client_secret}}",
                "scopes": ["write:pets"],
            },
            "description": "Add a new pet to the store",
            "tags": ["pet"],
            "source": "openapi:Fixture Petstore Classic#addPet",
        },
        [
            ("category", "body", False, "object", "", None),
            ("name", "body", True, "string", "", "doggie"),
            ("photoUrls", "body", True, "array", "", None),
            ("status", "body", False, "string", "pet status in the store", None),
        ],
    ),
    "findPetsByStatus": (
        {
            "name": "findPetsByStatus",
            "method": "GET",
            "url": "{{env.base_url}}/pet/findByStatus",
            "headers": {"Accept": "application/json"},
            "query": {"status": "{{params.status}}"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "api_key", "in": "query", "name": "api_key", "value": "{{secrets.api_key}}"},
            "description": "",
            "tags": ["pet"],
            "source": "openapi:Fixture Petstore Classic#findPetsByStatus",
        },
        [
            ("status", "query", True, "array", "Status values", None),
            ("X-Trace", "header", False, "string", "", "abc123"),
        ],
    ),
    "getPetById": (
        {
            "name": "getPetById",
            "method": "GET",
            "url": "{{env.base_url}}/pet/{{params.petId}}",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            # the first alternative, legacy_login, is Swagger's implicit flow: signed in to in the browser
            "auth": {
                "type": "oauth2_authorization_code",
                "flow": "implicit",
                "authorization_url": "https://classic.petstore.test/oauth/authorize",
                "client_id": "{{secrets.legacy_login_client_id}}",
                "scopes": [],
            },
            "description": "",
            "tags": ["pet"],
            "source": "openapi:Fixture Petstore Classic#getPetById",
        },
        [("petId", "path", True, "integer", "ID of pet", None)],
    ),
    "updatePetWithForm": (
        {
            "name": "updatePetWithForm",
            "method": "POST",
            "url": "{{env.base_url}}/pet/{{params.petId}}",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": {"name": "string", "status": "available", "age": 3},
            "content_type": "application/x-www-form-urlencoded",
            "timeout": 30.0,
            "auth": {"type": "api_key", "in": "query", "name": "api_key", "value": "{{secrets.api_key}}"},
            "description": "",
            "tags": ["pet"],
            "source": "openapi:Fixture Petstore Classic#updatePetWithForm",
        },
        [
            ("petId", "path", True, "integer", "ID of pet", None),
            ("name", "body", False, "string", "Updated name", None),
            ("status", "body", True, "string", "", None),
            ("age", "body", False, "integer", "", 3),
        ],
    ),
    "uploadFile": (
        {
            "name": "uploadFile",
            "method": "POST",
            "url": "{{env.base_url}}/pet/{{params.petId}}/uploadImage",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": {"additionalMetadata": "string", "file": {"path": "{{params.file}}"}},
            "body_type": "multipart",
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Fixture Petstore Classic#uploadFile",
        },
        [
            ("petId", "path", True, "integer", "", None),
            ("additionalMetadata", "body", False, "string", "", None),
            ("file", "body", False, "file", "", None),
        ],
    ),
}
PROBLEMS_SW = []
NOTES_SW = []
ENV_SW = {"base_url": "https://classic.petstore.test:8443/v1"}
SECRETS_SW = {}


def test_swagger_20_every_field():
    result = _import("petstore-swagger-2.0.json")
    assert result.format == "swagger 2.0"
    assert result.title == "Fixture Petstore Classic"
    _check(result, EXPECTED_SW)
    assert result.environment == ENV_SW
    assert result.secrets == SECRETS_SW
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_SW
    assert result.notes == NOTES_SW


def test_swagger_without_host_has_a_relative_base_url():
    result = import_api_spec(
        '{"swagger": "2.0", "info": {"title": "T"}, "basePath": "/api", "paths": {"/x": {"get": {}}}}'
    )
    assert result.environment == {"base_url": "/api"}
    assert result.problems[0].message.startswith(
        "The document names no host, so the server URL '/api' is relative"
    )
    assert result.definitions[0].url == "{{env.base_url}}/x"
    assert result.definitions[0].name == "GET /x"


def test_swagger_without_schemes_assumes_https_with_a_note():
    result = import_api_spec('{"swagger": "2.0", "info": {"title": "T"}, "host": "h.test", "paths": {}}')
    assert result.environment == {"base_url": "https://h.test"}
    assert result.notes == ["The document lists no schemes; https was assumed for base_url."]
