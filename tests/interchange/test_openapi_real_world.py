"""OpenAPI and Swagger shapes from widely used public specs (Kubernetes, Stripe, Plaid...), written here: each
operation imports to the request the spec describes, and sending it with the API library's Send to a raw
server on 127.0.0.1 puts the bytes on the wire that the spec's serialisation rules say."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import pytest

from flowdesk.engine.http import HttpClient
from flowdesk.interchange.api_import import import_api_spec
from flowdesk.ui.api_library.trial_request import send_trial
from tests.support.raw_http_server import RawHttpServer

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Shapes", "version": "1"},
    "servers": [{"url": "http://127.0.0.1:1/v1"}],
    "components": {
        "securitySchemes": {
            "clientId": {"type": "apiKey", "in": "header", "name": "PLAID-CLIENT-ID"},
            "secret": {"type": "apiKey", "in": "header", "name": "PLAID-SECRET"},
            "version": {"type": "apiKey", "in": "query", "name": "version"},
            "bearer": {"type": "http", "scheme": "bearer"},
        },
        "schemas": {"Pod": {"type": "object", "properties": {"kind": {"type": "string", "example": "Pod"}}}},
    },
    "paths": {
        "/pods": {
            "post": {
                "operationId": "createPod",
                "requestBody": {"content": {"*/*": {"schema": {"$ref": "#/components/schemas/Pod"}}}},
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/customers": {
            "post": {
                "operationId": "createCustomer",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string", "example": "Ann"},
                                    "address": {
                                        "type": "object",
                                        "example": {"city": "Paris", "line": {"one": "1 rue"}},
                                    },
                                    "expand": {"type": "array", "example": ["sources", "tax"]},
                                    "tags": {"type": "array", "example": ["a", "b"]},
                                    "ids": {"type": "array", "example": [1, 2]},
                                    "items": {"type": "array", "example": [{"price": "p1", "quantity": 2}]},
                                    "meta": {"type": "object", "example": {"k": "v"}},
                                    "flat": {"type": "object", "example": {"x": 1, "y": True}},
                                },
                            },
                            "encoding": {
                                "address": {"style": "deepObject", "explode": True},
                                "expand": {"style": "deepObject", "explode": True},
                                "items": {"style": "deepObject", "explode": True},
                                "ids": {"style": "form", "explode": False},
                                "meta": {"contentType": "application/json"},
                            },
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/files": {
            "post": {
                "operationId": "uploadFile",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "purpose": {"type": "string", "example": "dispute_evidence"},
                                    "file": {"type": "string", "format": "binary"},
                                    "file_link_data": {"type": "object", "example": {"create": True}},
                                },
                            },
                            "encoding": {"file": {"contentType": "image/png"}},
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/accounts": {
            "get": {
                "operationId": "getAccounts",
                "security": [{"clientId": [], "secret": [], "version": []}],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/mixed": {
            "get": {
                "operationId": "mixed",
                "security": [{"clientId": [], "bearer": []}],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/search": {
            "get": {
                "operationId": "search",
                "parameters": [
                    {"name": "ids", "in": "query", "explode": False, "schema": {"type": "array"}},
                    {"name": "tags", "in": "query", "style": "pipeDelimited", "schema": {"type": "array"}},
                    {"name": "words", "in": "query", "style": "spaceDelimited", "schema": {"type": "array"}},
                    {"name": "many", "in": "query", "schema": {"type": "array"}},
                    {
                        "name": "filter",
                        "in": "query",
                        "style": "deepObject",
                        "explode": True,
                        "schema": {"type": "object", "properties": {"status": {}, "min-age": {}}},
                    },
                    {
                        "name": "point",
                        "in": "query",
                        "schema": {"type": "object", "properties": {"x": {}, "y": {}}},
                    },
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}

SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Old", "version": "1"},
    "host": "127.0.0.1:1",
    "schemes": ["http"],
    "consumes": ["*/*"],
    "paths": {
        "/things": {
            "post": {
                "operationId": "addThing",
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                    },
                    {"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "collectionFormat": "pipes",
                        "items": {},
                    },
                    {"name": "all", "in": "query", "type": "array", "collectionFormat": "multi", "items": {}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


@pytest.fixture(scope="module")
def raw_server():
    server = RawHttpServer().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def imported():
    return import_api_spec(json.dumps(SPEC), source_name="shapes.json")


def _named(result, name):
    return next(d for d in result.definitions if d.name == name)


def _send(definition, server, params=None, secrets=None):
    async def run():
        async with HttpClient() as client:
            trial = await send_trial(
                client,
                definition,
                environment={"base_url": server.url + "/v1"},
                secrets=secrets or {},
                params=params or {},
            )
            assert trial.error == "", trial.error
            return server.next_request()

    return asyncio.run(run())


def test_wildcard_body_with_a_json_schema_is_json(imported, raw_server):
    pod = _named(imported, "createPod")
    assert (pod.body, pod.content_type) == ({"kind": "Pod"}, "application/json")
    got = _send(pod, raw_server)
    assert got.header("content-type") == "application/json" and json.loads(got.body) == {"kind": "Pod"}


def test_form_body_follows_encoding_style_and_explode(imported, raw_server):
    customer = _named(imported, "createCustomer")
    assert customer.body == {
        "name": "Ann",
        "address[city]": "Paris",
        "address[line][one]": "1 rue",
        "expand[0]": "sources",
        "expand[1]": "tax",
        "tags": ["a", "b"],
        "ids": "1,2",
        "items[0][price]": "p1",
        "items[0][quantity]": 2,
        "meta": '{"k":"v"}',
        "x": 1,
        "y": "true",
    }
    got = _send(customer, raw_server)
    assert got.header("content-type") == "application/x-www-form-urlencoded"
    assert parse_qsl(got.body.decode()) == [
        ("name", "Ann"),
        ("address[city]", "Paris"),
        ("address[line][one]", "1 rue"),
        ("expand[0]", "sources"),
        ("expand[1]", "tax"),
        ("tags", "a"),
        ("tags", "b"),
        ("ids", "1,2"),
        ("items[0][price]", "p1"),
        ("items[0][quantity]", "2"),
        ("meta", '{"k":"v"}'),
        ("x", "1"),
        ("y", "true"),
    ]


def test_multipart_body_has_file_parts_given_as_parameters(imported):
    upload = _named(imported, "uploadFile")
    assert (upload.body_type, upload.content_type) == ("multipart", None)
    assert upload.body == {
        "purpose": "dispute_evidence",
        "file": {"path": "{{params.file}}", "content_type": "image/png"},
        "file_link_data": '{"create":true}',
    }
    assert [(p.name, p.type) for p in upload.parameters if p.location == "body"] == [
        ("purpose", "string"),
        ("file", "file"),
        ("file_link_data", "object"),
    ]


def test_security_schemes_needed_together_are_all_sent(imported, raw_server):
    accounts = _named(imported, "getAccounts")
    assert accounts.auth == {
        "type": "api_key",
        "in": "header",
        "name": "PLAID-CLIENT-ID",
        "value": "{{secrets.clientId}}",
    }
    assert accounts.headers == {"PLAID-SECRET": "{{secrets.secret}}"}
    assert accounts.query == {"version": "{{secrets.version}}"}
    got = _send(accounts, raw_server, secrets={"clientId": "cid", "secret": "sec", "version": "2020-09-14"})
    assert (got.header("plaid-client-id"), got.header("plaid-secret")) == ("cid", "sec")
    assert got.query == [("version", "2020-09-14")]
    mixed = _named(imported, "mixed")
    assert mixed.auth == {"type": "bearer", "token": "{{secrets.bearer_token}}"}
    assert mixed.headers == {"PLAID-CLIENT-ID": "{{secrets.clientId}}"}


def test_query_parameters_follow_style_and_explode(imported, raw_server):
    search = _named(imported, "search")
    assert search.query == {
        "ids": '{{ join(params.ids, ",") }}',
        "tags": '{{ join(params.tags, "|") }}',
        "words": '{{ join(params.words, " ") }}',
        "filter[status]": "{{params.filter.status}}",
        "filter[min-age]": '{{params.filter["min-age"]}}',
        "x": "{{params.point.x}}",
        "y": "{{params.point.y}}",
    }
    params = {
        "ids": [1, 2, 3],
        "tags": ["a", "b"],
        "words": ["x", "y"],
        "many": ["m", "n"],
        "filter": {"status": "open", "min-age": 3},
        "point": {"x": 1, "y": 2},
    }
    got = _send(search, raw_server, params=params)
    assert sorted(got.query) == sorted(
        [
            ("ids", "1,2,3"),
            ("tags", "a|b"),
            ("words", "x y"),
            ("filter[status]", "open"),
            ("filter[min-age]", "3"),
            ("x", "1"),
            ("y", "2"),
            ("many", "m"),
            ("many", "n"),
        ]
    )
    # optional parameters left out are left out of the request
    got = _send(search, raw_server, params={"ids": ["7"]})
    assert got.query == [("ids", "7")]


def test_swagger_wildcard_consumes_and_collection_formats(raw_server):
    result = import_api_spec(json.dumps(SWAGGER), source_name="old.json")
    (thing,) = result.definitions
    assert (thing.body, thing.content_type) == ({"a": 0}, "application/json")
    assert thing.query == {"ids": '{{ join(params.ids, ",") }}', "tags": '{{ join(params.tags, "|") }}'}
    got = _send(thing, raw_server, params={"ids": ["a", "b"], "tags": ["c", "d"], "all": ["e", "f"]})
    assert sorted(got.query) == sorted([("ids", "a,b"), ("tags", "c|d"), ("all", "e"), ("all", "f")])
