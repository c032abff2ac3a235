"""OpenAPI 3.0 (YAML) and 3.1 (JSON) fixtures imported field by field, and the oddities real specs have."""

from __future__ import annotations

import json

import pytest

from flowdesk.interchange.api_import import import_api_spec
from tests.support.api_import_checks import FIXTURES
from tests.support.api_import_checks import check_definitions as _check
from tests.support.api_import_checks import import_fixture as _import

# Every field of every definition, checked against petstore-3.0.yaml by hand.
EXPECTED_30 = {
    "listPets": (
        {
            "name": "listPets",
            "method": "GET",
            "url": "{{env.base_url}}/pets",
            "headers": {"X-Request-ID": '{{params["X-Request-ID"]}}', "Accept": "application/json"},
            "query": {"status": "{{params.status}}"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.bearerAuth_token}}"},
            "description": "List pets\n\nPages through every pet.",
            "tags": ["pets"],
            "source": "openapi:Fixture Petstore#listPets",
        },
        [
            ("X-Request-ID", "header", True, "string", "Correlation id", None),
            ("limit", "query", False, "integer", "How many pets per page", 20),
            ("status", "query", True, "string", "", "sold"),
        ],
    ),
    "createPet": (
        {
            "name": "createPet",
            "method": "POST",
            "url": "{{env.base_url}}/pets",
            "headers": {"X-Request-ID": '{{params["X-Request-ID"]}}', "Accept": "application/json"},
            "query": {},
            "body": {
                "name": "Fido",
                "tag": "string",
                "status": "available",
                "birthday": "2024-01-01",
                "owner": "user@example.com",
                "category": {"id": 1, "name": "dogs"},
                "photos": ["https://example.com"],
                "kind": {"barks": True},
            },
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.bearerAuth_token}}"},
            "description": "Add a pet",
            "tags": ["pets"],
            "source": "openapi:Fixture Petstore#createPet",
        },
        [
            ("X-Request-ID", "header", True, "string", "Correlation id", None),
            ("name", "body", True, "string", "The pet's name", "Fido"),
            ("tag", "body", False, "string", "", None),
            ("status", "body", False, "string", "", None),
            ("birthday", "body", False, "string", "", None),
            ("owner", "body", False, "string", "", None),
            ("category", "body", False, "object", "", None),
            ("photos", "body", False, "array", "", None),
            ("kind", "body", False, "object", "", None),
        ],
    ),
    "getPet": (
        {
            "name": "getPet",
            "method": "GET",
            "url": "{{env.base_url}}/pets/{{params.petId}}",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.bearerAuth_token}}"},
            "description": "One pet by id.",
            "tags": ["pets"],
            "source": "openapi:Fixture Petstore#getPet",
        },
        [("petId", "path", True, "integer", "The pet's id", 42)],
    ),
    "updatePet": (
        {
            "name": "updatePet",
            "method": "PUT",
            "url": "{{env.base_url}}/pets/{{params.petId}}",
            "headers": {},
            "query": {},
            "body": {"name": "Rex", "tag": "dog", "status": "available"},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {
                "type": "basic",
                "username": "{{secrets.basicAuth_username}}",
                "password": "{{secrets.basicAuth_password}}",
            },
            "description": "",
            "tags": ["pets"],
            "source": "openapi:Fixture Petstore#updatePet",
        },
        [
            ("petId", "path", True, "integer", "The pet's id", 42),
            ("name", "body", True, "string", "The pet's name", "Fido"),
            ("tag", "body", False, "string", "", None),
            ("status", "body", False, "string", "", None),
            ("birthday", "body", False, "string", "", None),
            ("owner", "body", False, "string", "", None),
            ("category", "body", False, "object", "", None),
            ("photos", "body", False, "array", "", None),
            ("kind", "body", False, "object", "", None),
        ],
    ),
    "deletePet": (
        {
            "name": "deletePet",
            "method": "DELETE",
            "url": "{{env.base_url}}/pets/{{params.petId}}",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "api_key", "in": "header", "name": "X-API-Key", "value": "{{secrets.api_key}}"},
            "description": "",
            "tags": ["pets", "admin"],
            "source": "openapi:Fixture Petstore#deletePet",
        },
        [("petId", "path", True, "integer", "The pet's id", 42)],
    ),
    "uploadPhoto": (
        {
            "name": "uploadPhoto",
            "method": "POST",
            "url": "{{env.base_url}}/pets/{{params.petId}}/photo",
            "headers": {},
            "query": {},
            "body": {"caption": "At the beach", "taken": "2024-01-01T00:00:00Z"},
            "content_type": "application/x-www-form-urlencoded",
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": ["pets"],
            "source": "openapi:Fixture Petstore#uploadPhoto",
        },
        [
            ("petId", "path", True, "integer", "The pet's id", 42),
            ("caption", "body", True, "string", "Shown under the photo", "At the beach"),
            ("taken", "body", False, "string", "", None),
        ],
    ),
    "getStats": (
        {
            "name": "getStats",
            "method": "GET",
            "url": "{{env.base_url}}/stats",
            "headers": {"Accept": "text/csv"},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.petstore.test/oauth/token",
                "client_id": "{{secrets.oauth_client_id}}",
                "client_secret": "{{secrets.oauth_client_secret}}",
                "scopes": ["stats:read"],
            },
            "description": "",
            "tags": ["admin"],
            "source": "openapi:Fixture Petstore#getStats",
        },
        [("X-Tenant", "header", False, "string", "", None)],
    ),
    "createReport": (
        {
            "name": "createReport",
            "method": "POST",
            "url": "{{env.base_url}}/reports",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": "application/xml",
            "timeout": 30.0,
            # the first alternative, browserLogin, is now signed in to in the browser (PKCE)
            "auth": {
                "type": "oauth2_authorization_code",
                "flow": "code",
                "authorization_url": "https://auth.petstore.test/authorize",
                "token_url": "https://auth.petstore.test/oauth/token",
                "client_id": "{{secrets.browserLogin_client_id}}",
                "scopes": [],
            },
            "description": "",
            "tags": ["admin"],
            "source": "openapi:Fixture Petstore#createReport",
        },
        [("title", "body", False, "string", "", None)],
    ),
}
PROBLEMS_30 = [
    ("GET /pets", "cookie parameter 'session' is not supported; it was left out"),
    ("POST /reports", "the request body is application/xml without a text example; the body was left empty"),
]
NOTES_30 = []
ENV_30 = {"base_url": "https://eu.petstore.test/v2"}
SECRETS_30 = {}


EXPECTED_31 = {
    "searchBooks": (
        {
            "name": "searchBooks",
            "method": "GET",
            "url": "{{env.base_url}}/books",
            "headers": {"Accept": "application/vnd.bookshop+json"},
            "query": {"q": "{{params.q}}"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "Search the catalogue",
            "tags": ["catalogue"],
            "source": "openapi:Bookshop#searchBooks",
        },
        [
            ("q", "query", True, "string", "", "dune"),
            ("year", "query", False, "integer", "", None),
            ("fields", "query", False, "array", "", None),
            ("filter", "query", False, "object", "", None),
        ],
    ),
    "addBook": (
        {
            "name": "addBook",
            "method": "POST",
            "url": "{{env.base_url}}/books",
            "headers": {},
            "query": {},
            "body": {
                "isbn": "978-0441013593",
                "title": "string",
                "subtitle": "string",
                "edition": 1,
                "price": 0.5,
                "published": "2024-01-01",
                "authors": [{"name": "string", "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}],
                "format": "hardcover",
            },
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "api_key", "in": "query", "name": "api_key", "value": "{{secrets.shopKey}}"},
            "description": "",
            "tags": ["catalogue", "admin"],
            "source": "openapi:Bookshop#addBook",
        },
        [
            ("isbn", "body", True, "string", "", "978-0441013593"),
            ("title", "body", True, "string", "Full title", None),
            ("subtitle", "body", False, "string", "", None),
            ("edition", "body", False, "integer", "", None),
            ("price", "body", False, "number", "", None),
            ("published", "body", False, "string", "", None),
            ("authors", "body", False, "array", "", None),
            ("format", "body", False, "string", "", None),
        ],
    ),
    "getBook": (
        {
            "name": "getBook",
            "method": "GET",
            "url": "https://mirror.bookshop.test/books/{{params.isbn}}",
            "headers": {"Accept": "application/json"},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Bookshop#getBook",
        },
        [("isbn", "path", True, "string", "", "978-0441013593")],
    ),
    "patchBook": (
        {
            "name": "patchBook",
            "method": "PATCH",
            "url": "{{env.base_url}}/books/{{params.isbn}}",
            "headers": {},
            "query": {},
            "body": {"price": 9.99},
            "content_type": "application/merge-patch+json",
            "timeout": 30.0,
            "auth": {"type": "api_key", "in": "query", "name": "api_key", "value": "{{secrets.shopKey}}"},
            "description": "",
            "tags": [],
            "source": "openapi:Bookshop#patchBook",
        },
        [("isbn", "path", True, "string", "", None), ("price", "body", False, "number", "", None)],
    ),
    "placeOrder": (
        {
            "name": "placeOrder",
            "method": "POST",
            "url": "{{env.base_url}}/orders",
            "headers": {},
            "query": {},
            "body": "3 x 978-0441013593",
            "content_type": "text/plain",
            "timeout": 30.0,
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.bookshop.test/token",
                "client_id": "{{secrets.partnerOAuth_client_id}}",
                "client_secret": "{{secrets.partnerOAuth_client_secret}}",
                "scopes": ["orders:write", "orders:read"],
            },
            "description": "Orders go through the payment provider.",
            "tags": [],
            "source": "openapi:Bookshop#placeOrder",
        },
        [],
    ),
}
PROBLEMS_31 = []
NOTES_31 = [
    "'getBook' uses its own server https://mirror.bookshop.test; its URL names that server, not base_url.",
    "1 webhook(s) were not imported: they are calls the API makes, not calls to it.",
]
ENV_31 = {"base_url": "https://api.bookshop.test"}
SECRETS_31 = {}


EXPECTED_ODD = {
    "GET /health": (
        {
            "name": "GET /health",
            "method": "GET",
            "url": "{{env.base_url}}/health",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#GET /health",
        },
        [],
    ),
    "GET /items": (
        {
            "name": "GET /items",
            "method": "GET",
            "url": "{{env.base_url}}/items",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "List all items",
            "tags": [],
            "source": "openapi:Odd API (v2)#GET /items",
        },
        [],
    ),
    "createItem": (
        {
            "name": "createItem",
            "method": "POST",
            "url": "{{env.base_url}}/items",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#createItem",
        },
        [],
    ),
    "replaceItem": (
        {
            "name": "replaceItem",
            "method": "PUT",
            "url": "{{env.base_url}}/items/{{params.itemId}}",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#replaceItem",
        },
        [("itemId", "path", True, "string", "", None)],
    ),
    "createTree": (
        {
            "name": "createTree",
            "method": "POST",
            "url": "{{env.base_url}}/trees",
            "headers": {},
            "query": {},
            "body": {"label": "string", "children": []},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#createTree",
        },
        [
            ("label", "body", False, "string", "", None),
            ("parent", "body", False, "object", "", None),
            ("children", "body", False, "array", "", None),
        ],
    ),
    "createTree (GET /trees/{treeId})": (
        {
            "name": "createTree (GET /trees/{treeId})",
            "method": "GET",
            "url": "{{env.base_url}}/trees/{{params.treeId}}",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#GET /trees/{treeId}",
        },
        [("treeId", "path", True, "string", "", None)],
    ),
    "loopRef": (
        {
            "name": "loopRef",
            "method": "GET",
            "url": "{{env.base_url}}/loop",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "openapi:Odd API (v2)#loopRef",
        },
        [],
    ),
}
PROBLEMS_ODD = [
    (
        "",
        "The server URL '/api/v3' is relative; base_url was set to '/api/v3', so change it to a full URL (https://host...) in the environment.",
    ),
    (
        "POST /items",
        "$ref '#/components/schemas/Missing' cannot be resolved (nothing in the document has that path); what it describes was left out",
    ),
    (
        "PUT /items/{itemId}",
        "$ref '#/components/parameters/NoSuchParam' cannot be resolved (nothing in the document has that path); what it describes was left out",
    ),
    (
        "PUT /items/{itemId}",
        "path parameter 'itemId' is used in the path but not declared; it was added as a string",
    ),
    (
        "PUT /items/{itemId}",
        "$ref 'shared.yaml#/components/schemas/Item' cannot be resolved (it points outside this document, which is not followed); what it describes was left out",
    ),
    (
        "GET /trees/{treeId}",
        "operationId 'createTree' is used by another operation too; this one is named 'createTree (GET /trees/{treeId})'",
    ),
    ("GET /trees/{treeId}", "security scheme 'ghostScheme' is not defined in the document; no auth was set"),
    (
        "GET /loop",
        "$ref '#/components/parameters/LoopA' cannot be resolved (it refers to itself); what it describes was left out",
    ),
]
NOTES_ODD = [
    "The document repeats keys; the last value of each was kept: 'title' at line 8, 'summary' at line 20.",
    "'#/components/schemas/TreeNode' refers to itself; example bodies stop at its first repeat.",
    "2 operation(s) have no operationId; they are named by method and path.",
]
ENV_ODD = {"base_url": "/api/v3"}
SECRETS_ODD = {}


def test_openapi_30_yaml_every_field():
    result = _import("petstore-3.0.yaml")
    assert result.format == "openapi 3.0"
    assert result.title == "Fixture Petstore"
    _check(result, EXPECTED_30)
    assert result.environment == ENV_30
    assert result.secrets == SECRETS_30
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_30
    assert result.notes == NOTES_30


def test_openapi_31_json_every_field():
    result = _import("bookshop-3.1.json")
    assert result.format == "openapi 3.1"
    _check(result, EXPECTED_31)
    assert result.environment == ENV_31
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_31
    assert result.notes == NOTES_31


def test_the_first_2xx_json_answer_s_schema_is_kept_with_its_references_inlined():
    """What an ASSERT after a call checks by default (docs/semantics.md §2.9)."""
    schemas = {d.name: d.response_schema for d in _import("petstore-3.0.yaml").definitions}
    assert {name for name, schema in schemas.items() if schema is not None} == {
        "listPets",
        "createPet",
        "getPet",
    }
    assert schemas["listPets"]["type"] == "array" and schemas["listPets"]["items"] == schemas["getPet"]
    assert schemas["getPet"]["allOf"][0]["required"] == ["id"]
    assert "$ref" not in json.dumps(schemas)
    books = {d.name: d.response_schema for d in _import("bookshop-3.1.json").definitions}
    assert books["searchBooks"] == {"type": "array"}
    assert books["getBook"]["required"] == ["isbn", "title"]
    assert books["getBook"]["properties"]["subtitle"]["type"] == ["string", "null"]
    assert books["addBook"] is None  # its 2xx answer declares no JSON body


def test_oddities_import_what_they_can_and_report_the_rest():
    result = _import("oddities-3.0.yaml")
    assert result.format == "openapi 3.0"
    _check(result, EXPECTED_ODD)
    assert result.environment == ENV_ODD
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_ODD
    assert result.notes == NOTES_ODD


def test_oddity_messages_read_as_sentences():
    result = _import("oddities-3.0.yaml")
    text = [str(p) for p in result.problems]
    assert text[0].startswith("The server URL '/api/v3' is relative")
    assert "POST /items: $ref '#/components/schemas/Missing' cannot be resolved" in text[1]


def test_same_file_as_bytes_str_and_utf8_bom_give_the_same_definitions():
    raw = (FIXTURES / "petstore-3.0.yaml").read_bytes()
    a = import_api_spec(raw)
    b = import_api_spec(raw.decode("utf-8"))
    c = import_api_spec(b"\xef\xbb\xbf" + raw)
    assert a.definitions == b.definitions == c.definitions


def test_reimport_gives_the_same_sources():
    first = _import("petstore-3.0.yaml")
    second = _import("petstore-3.0.yaml")
    assert [d.source for d in first.definitions] == [d.source for d in second.definitions]
    assert len({d.source for d in first.definitions}) == len(first.definitions)


@pytest.mark.parametrize(
    ("servers", "base_url", "problem"),
    [
        ("servers: [{url: 'https://api.test/v1/'}]", "https://api.test/v1", None),
        (
            "servers: [{url: '{scheme}://{host}/x', variables: {scheme: {default: http}, host: {default: h.test}}}]",
            "http://h.test/x",
            None,
        ),
        ("servers: [{url: '/'}]", "", "The server URL '/' is relative"),
        ("servers: []", None, "The document names no server"),
    ],
)
def test_server_urls(servers, base_url, problem):
    text = f"openapi: 3.0.0\ninfo: {{title: T, version: '1'}}\n{servers}\npaths: {{/a: {{get: {{responses: {{}}}}}}}}\n"
    result = import_api_spec(text)
    assert result.environment.get("base_url") == base_url
    messages = [p.message for p in result.problems]
    if problem is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(problem)
    assert result.definitions[0].url == "{{env.base_url}}/a"


def test_an_operation_that_is_not_a_mapping_is_skipped_and_the_rest_imported():
    text = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get: 5\n    post: {operationId: ok}\n"
    result = import_api_spec(text)
    assert [d.name for d in result.definitions] == ["ok"]
    assert [(p.where, p.message) for p in result.problems] == [
        ("", "The document names no server; set base_url in the environment to the API's address."),
        ("GET /a", "the operation is not a mapping; it was skipped"),
    ]


def test_no_paths_is_a_problem_not_an_error():
    result = import_api_spec(
        '{"openapi": "3.1.0", "info": {"title": "Empty"}, "servers": [{"url": "https://e.test"}]}'
    )
    assert result.definitions == []
    assert [p.message for p in result.problems] == [
        "The document has no 'paths', so there is nothing to import."
    ]


def test_swagger_2_keeps_the_response_schema_too():
    spec = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "127.0.0.1",
        "paths": {
            "/pets/{id}": {
                "get": {
                    "operationId": "getPet",
                    "produces": ["application/json"],
                    "parameters": [{"name": "id", "in": "path", "required": True, "type": "integer"}],
                    "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
                }
            }
        },
        "definitions": {
            "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
        },
    }
    (definition,) = import_api_spec(json.dumps(spec)).definitions
    assert definition.response_schema == {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    }
