"""Postman collections shaped like the ones people share: each request imports to one flowdesk can send, and
sending it with the API library's Send to a raw server on 127.0.0.1 gives the request Postman sends."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid

import pytest

from flowdesk.engine.http import HttpClient
from flowdesk.interchange.api_import import import_api_spec
from flowdesk.ui.api_library.trial_request import send_trial
from tests.support.raw_http_server import RawHttpServer


def _collection(port: int) -> dict:
    host = f"127.0.0.1:{port}"
    return {
        "info": {
            "name": "Shapes",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "pw", "value": "s3cret"}, {"key": "user", "value": "ann"}],
        "item": [
            {"name": "No scheme", "request": {"method": "GET", "url": f"{host}/get?a=1"}},
            {"name": "Protocol-relative", "request": {"method": "POST", "url": f"//{host}/post"}},
            {"name": "No URL", "request": {"method": "GET"}},
            {"name": "Empty URL", "request": {"method": "GET", "url": {"raw": ""}}},
            {
                "name": "Credentials in URL",
                "request": {"method": "GET", "url": f"http://{{{{user}}}}:{{{{pw}}}}@{host}/basic"},
            },
            {
                "name": "Dynamic",
                "request": {
                    "method": "POST",
                    "header": [{"key": "X-Request-Id", "value": "{{$guid}}"}],
                    "body": {
                        "mode": "raw",
                        "raw": '{"at": "{{$isoTimestamp}}", "n": {{$randomInt}}, "ts": {{$timestamp}}}',
                        "options": {"raw": {"language": "json"}},
                    },
                    "url": f"http://{host}/dyn",
                },
            },
            {
                "name": "Path variable",
                "request": {
                    "method": "DELETE",
                    "url": {
                        "raw": f"http://{host}/items/:itemId",
                        "protocol": "http",
                        "host": ["127", "0", "0", "1"],
                        "port": str(port),
                        "path": ["items", ":itemId"],
                        "variable": [{"key": "itemId", "value": "42"}],
                    },
                },
            },
            {
                "name": "OAuth1",
                "request": {
                    "method": "GET",
                    "auth": {
                        "type": "oauth1",
                        "oauth1": [
                            {"key": "consumerKey", "value": "ck"},
                            {"key": "consumerSecret", "value": "{{pw}}"},
                        ],
                    },
                    "url": f"http://{host}/o1",
                },
            },
            {
                "name": "Hawk",
                "request": {
                    "method": "GET",
                    "auth": {"type": "hawk", "hawk": [{"key": "authId", "value": "id1"}]},
                    "url": f"http://{host}/hawk",
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def raw_server():
    server = RawHttpServer().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def imported(raw_server):
    text = json.dumps(_collection(raw_server.port))
    return import_api_spec(text, source_name="shapes.postman_collection.json")


def _send(definition, server, result):
    async def run():
        async with HttpClient() as client:
            trial = await send_trial(
                client, definition, environment=result.environment, secrets=result.secrets
            )
            assert trial.error == "", trial.error
            return server.next_request()

    return asyncio.run(run())


def test_requests_without_a_url_are_skipped_with_a_problem(imported):
    names = [d.name for d in imported.definitions]
    assert "No URL" not in names and "Empty URL" not in names
    assert ("No URL", "the request has no URL; it was skipped") in [
        (p.where, p.message) for p in imported.problems
    ]
    assert ("Empty URL", "the request has no URL; it was skipped") in [
        (p.where, p.message) for p in imported.problems
    ]
    assert len(names) == 7


def _named(imported, name):
    return next(d for d in imported.definitions if d.name == name)


def test_scheme_less_urls_get_http_as_postman_sends_them(imported, raw_server):
    plain = _named(imported, "No scheme")
    assert plain.url == f"http://127.0.0.1:{raw_server.port}/get"
    got = _send(plain, raw_server, imported)
    assert (got.method, got.path, got.query) == ("GET", "/get", [("a", "1")])
    relative = _named(imported, "Protocol-relative")
    assert relative.url == f"http://127.0.0.1:{raw_server.port}/post"
    assert _send(relative, raw_server, imported).method == "POST"
    assert "'No scheme': the URL has no scheme; http:// was added, as Postman sends it." in imported.notes


def test_credentials_in_the_url_become_basic_auth_with_the_variables_kept(imported, raw_server):
    definition = _named(imported, "Credentials in URL")
    assert definition.url == f"http://127.0.0.1:{raw_server.port}/basic"
    assert definition.auth == {"type": "basic", "username": "{{secrets.user}}", "password": "{{secrets.pw}}"}
    got = _send(definition, raw_server, imported)
    assert got.header("authorization") == "Basic " + base64.b64encode(b"ann:s3cret").decode()


def test_dynamic_variables_are_evaluated_at_send_time(imported, raw_server):
    definition = _named(imported, "Dynamic")
    assert definition.headers == {"X-Request-Id": "{{ uuid() }}"}
    assert definition.body == '{"at": "{{ now() }}", "n": {{ random_int(0, 1000) }}, "ts": {{ timestamp() }}}'
    first = _send(definition, raw_server, imported)
    second = _send(definition, raw_server, imported)
    assert uuid.UUID(first.header("x-request-id")).version == 4
    assert first.header("x-request-id") != second.header("x-request-id")
    body = json.loads(first.body)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["at"])
    assert 0 <= body["n"] <= 1000 and isinstance(body["ts"], int)


def test_path_variables_are_parameters_with_postman_values_as_examples(imported, raw_server):
    definition = _named(imported, "Path variable")
    assert definition.url == f"http://127.0.0.1:{raw_server.port}/items/{{{{params.itemId}}}}"
    assert [(p.name, p.location, p.example) for p in definition.parameters] == [("itemId", "path", "42")]

    async def run():
        async with HttpClient() as client:
            await send_trial(client, definition, environment={}, secrets={}, params={"itemId": "42"})
            return raw_server.next_request()

    got = asyncio.run(run())
    assert (got.method, got.path) == ("DELETE", "/items/42")


def test_unsupported_auth_keeps_its_settings_and_says_it_is_not_sent(imported, raw_server):
    oauth1 = _named(imported, "OAuth1")
    assert oauth1.auth == {
        "type": "none",
        "not_sent": {"type": "oauth1", "consumerKey": "ck", "consumerSecret": "{{secrets.pw}}"},
    }
    hawk = _named(imported, "Hawk")
    assert hawk.auth == {"type": "none", "not_sent": {"type": "hawk", "authId": "id1"}}
    problems = {(p.where, p.message) for p in imported.problems}
    for where, label in (("OAuth1", "OAuth 1.0"), ("Hawk", "Hawk")):
        assert (
            where,
            f"not sent: flowdesk does not sign {label} requests yet; the request goes without auth and the "
            "settings are kept in the definition's auth (under 'not_sent')",
        ) in problems
    got = _send(oauth1, raw_server, imported)
    assert got.header("authorization") is None


def test_aws_signature_v4_imports_to_the_signed_auth_type():
    collection = {
        "info": {
            "name": "AWS",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": "awsSecret", "value": "s3"}],
        "item": [
            {
                "name": "Invoke",
                "request": {
                    "method": "POST",
                    "auth": {
                        "type": "awsv4",
                        "awsv4": [
                            {"key": "accessKey", "value": "AKIDEXAMPLE"},
                            {"key": "secretKey", "value": "{{awsSecret}}"},
                            {"key": "region", "value": "eu-west-1"},
                            {"key": "service", "value": "execute-api"},
                            {"key": "sessionToken", "value": "{{awsToken}}"},
                        ],
                    },
                    "url": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/run",
                },
            }
        ],
    }
    result = import_api_spec(json.dumps(collection))
    assert result.definitions[0].auth == {
        "type": "aws_sigv4",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "{{secrets.awsSecret}}",
        "region": "eu-west-1",
        "service": "execute-api",
        "session_token": "{{secrets.awsToken}}",
    }
    assert result.secrets == {"awsSecret": "s3"}
    assert result.problems == []
