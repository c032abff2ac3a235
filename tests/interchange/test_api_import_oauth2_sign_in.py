"""OAuth2 authorization code and implicit flows imported from OpenAPI 3, Swagger 2 and Postman as the
`oauth2_authorization_code` auth (a browser sign-in), and written back by the OpenAPI export."""

from __future__ import annotations

import json

from flowdesk.interchange.api_export import library_to_openapi
from flowdesk.interchange.api_import import import_api_spec

CODE = {"authorizationUrl": "https://login.test/authorize", "tokenUrl": "https://login.test/token"}


def openapi(schemes: dict, security: list) -> str:
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "Sign-in", "version": "1"},
            "servers": [{"url": "https://api.test"}],
            "paths": {"/me": {"get": {"operationId": "me", "security": security, "responses": {}}}},
            "components": {"securitySchemes": schemes},
        }
    )


def only(text: str):
    result = import_api_spec(text)
    (definition,) = result.definitions
    return definition, [p.message for p in result.problems]


def test_openapi_authorization_code_becomes_a_browser_sign_in_with_its_scopes():
    schemes = {
        "login": {"type": "oauth2", "flows": {"authorizationCode": {**CODE, "scopes": {"a": "", "b": ""}}}}
    }
    definition, problems = only(openapi(schemes, [{"login": ["a", "b"]}]))
    assert definition.auth == {
        "type": "oauth2_authorization_code",
        "flow": "code",
        "authorization_url": "https://login.test/authorize",
        "token_url": "https://login.test/token",
        "client_id": "{{secrets.login_client_id}}",
        "scopes": ["a", "b"],
    }
    assert problems == []


def test_openapi_implicit_and_the_choice_between_flows():
    implicit = {
        "login": {
            "type": "oauth2",
            "flows": {"implicit": {"authorizationUrl": CODE["authorizationUrl"], "scopes": {}}},
        }
    }
    definition, _ = only(openapi(implicit, [{"login": []}]))
    assert (definition.auth["flow"], "token_url" in definition.auth) == ("implicit", False)
    both = {
        "login": {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {**CODE, "scopes": {}},
                "clientCredentials": {"tokenUrl": CODE["tokenUrl"], "scopes": {}},
            },
        }
    }
    definition, _ = only(openapi(both, [{"login": []}]))
    assert definition.auth["type"] == "oauth2_client_credentials"  # no browser needed: preferred


def test_the_password_flow_is_still_reported():
    password = {
        "login": {"type": "oauth2", "flows": {"password": {"tokenUrl": CODE["tokenUrl"], "scopes": {}}}}
    }
    definition, problems = only(openapi(password, [{"login": []}]))
    assert definition.auth is None
    assert any(
        "security scheme 'login' is OAuth2 with flow password; flowdesk supports client credentials, "
        "authorization code and implicit, so no auth was set" in p
        for p in problems
    )


def test_swagger_access_code_is_the_authorization_code_flow():
    spec = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1"},
        "host": "api.test",
        "securityDefinitions": {
            "login": {"type": "oauth2", "flow": "accessCode", **CODE, "scopes": {"read": ""}}
        },
        "paths": {"/me": {"get": {"operationId": "me", "security": [{"login": ["read"]}], "responses": {}}}},
    }
    definition, _ = only(json.dumps(spec))
    assert definition.auth["type"] == "oauth2_authorization_code" and definition.auth["scopes"] == ["read"]
    assert definition.auth["token_url"] == CODE["tokenUrl"]


def postman(oauth2: list) -> str:
    return json.dumps(
        {
            "info": {
                "name": "P",
                "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            },
            "item": [
                {
                    "name": "me",
                    "request": {
                        "method": "GET",
                        "url": "https://api.test/me",
                        "auth": {"type": "oauth2", "oauth2": oauth2},
                    },
                }
            ],
        }
    )


def test_postman_authorization_code_with_pkce_and_implicit():
    fields = [
        {"key": "grant_type", "value": "authorization_code_with_pkce"},
        {"key": "authUrl", "value": "{{authBase}}/authorize"},
        {"key": "accessTokenUrl", "value": "{{authBase}}/token"},
        {"key": "clientId", "value": "{{clientId}}"},
        {"key": "scope", "value": "read write"},
        {"key": "challengeAlgorithm", "value": "S256"},
    ]
    definition, problems = only(postman(fields))
    assert definition.auth == {
        "type": "oauth2_authorization_code",
        "flow": "code",
        "authorization_url": "{{env.authBase}}/authorize",
        "token_url": "{{env.authBase}}/token",
        "client_id": "{{secrets.clientId}}",
        "scopes": ["read", "write"],
    }
    assert problems == []
    implicit = [
        {"key": "grant_type", "value": "implicit"},
        {"key": "authUrl", "value": "https://login.test/authorize"},
        {"key": "clientId", "value": "{{clientId}}"},
    ]
    definition, _ = only(postman(implicit))
    assert definition.auth["flow"] == "implicit" and "token_url" not in definition.auth


def test_postman_authorization_code_without_a_token_url_says_so():
    fields = [
        {"key": "grant_type", "value": "authorization_code"},
        {"key": "authUrl", "value": "https://login.test/authorize"},
        {"key": "clientId", "value": "{{clientId}}"},
        {"key": "clientSecret", "value": "{{clientSecret}}"},
    ]
    definition, problems = only(postman(fields))
    assert definition.auth["client_secret"] == "{{secrets.clientSecret}}"
    assert any("OAuth2 sign-in auth has no token_url; set it in the definition's auth" in p for p in problems)


def test_the_openapi_export_imports_back_to_the_same_sign_in():
    schemes = {"login": {"type": "oauth2", "flows": {"authorizationCode": {**CODE, "scopes": {"a": ""}}}}}
    definition, _ = only(openapi(schemes, [{"login": ["a"]}]))
    again, problems = only(json.dumps(library_to_openapi([definition])))
    assert again.auth == definition.auth and problems == []
