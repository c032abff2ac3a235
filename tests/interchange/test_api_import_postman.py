"""Postman collections v2.1 and v2.0: folders, variables, bodies, auth, scripts, field by field."""

from __future__ import annotations

from flowdesk.interchange.api_import import import_api_spec
from tests.support.api_import_checks import FIXTURES
from tests.support.api_import_checks import check_definitions as _check
from tests.support.api_import_checks import import_fixture as _import

EXPECTED_21 = {
    "List tasks": (
        {
            "name": "List tasks",
            "method": "GET",
            "url": "{{env.baseUrl}}/tasks",
            "headers": {"Accept": "application/json"},
            "query": {"limit": "{{env.pageSize}}", "done": "false", "tag": ["a", "b"]},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.accessToken}}"},
            "description": "All tasks, newest first",
            "tags": ["Tasks"],
            "source": "postman:Team Tasks#Tasks/List tasks",
        },
        [],
    ),
    "Create task": (
        {
            "name": "Create task",
            "method": "POST",
            "url": "{{env.baseUrl}}/tasks",
            "headers": {},
            "query": {},
            "body": {"title": "Write tests", "owner": "{{env.userId}}", "id": "{{ uuid() }}"},
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.accessToken}}"},
            "description": "",
            "tags": ["Tasks"],
            "source": "postman:Team Tasks#Tasks/Create task",
        },
        [],
    ),
    "Add comment": (
        {
            "name": "Add comment",
            "method": "POST",
            "url": "{{env.baseUrl}}/tasks/{{params.taskId}}/comments",
            "headers": {},
            "query": {},
            "body": {"text": "Looks good", "notify": "true"},
            "content_type": "application/x-www-form-urlencoded",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.accessToken}}"},
            "description": "",
            "tags": ["Tasks/Comments"],
            "source": "postman:Team Tasks#Tasks/Comments/Add comment",
        },
        [("taskId", "path", True, "string", "", "17")],
    ),
    "Add comment (2)": (
        {
            "name": "Add comment (2)",
            "method": "POST",
            "url": "{{env.baseUrl}}/tasks/{{params.taskId}}/comments",
            "headers": {},
            "query": {},
            "body": {"text": "With a picture", "picture": {"path": "/home/me/cat.png"}},
            "body_type": "multipart",
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.accessToken}}"},
            "description": "",
            "tags": ["Tasks/Comments"],
            "source": "postman:Team Tasks#Tasks/Comments/Add comment (2)",
        },
        [("taskId", "path", True, "string", "", None)],
    ),
    "Purge": (
        {
            "name": "Purge",
            "method": "DELETE",
            "url": "{{env.baseUrl}}/admin/purge",
            "headers": {},
            "query": {"before": "2024-01-01"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {
                "type": "api_key",
                "in": "header",
                "name": "X-Admin-Key",
                "value": "{{secrets.adminKey}}",
            },
            "description": "",
            "tags": ["Admin"],
            "source": "postman:Team Tasks#Admin/Purge",
        },
        [],
    ),
    "Health": (
        {
            "name": "Health",
            "method": "GET",
            "url": "https://status.example.test/health",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": ["Admin"],
            "source": "postman:Team Tasks#Admin/Health",
        },
        [],
    ),
    "Legacy login": (
        {
            "name": "Legacy login",
            "method": "POST",
            "url": "{{env.baseUrl}}/legacy/login",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "basic", "username": "admin", "password": "hunter2"},
            "description": "",
            "tags": ["Admin"],
            "source": "postman:Team Tasks#Admin/Legacy login",
        },
        [],
    ),
    "Sign with AWS": (
        {
            "name": "Sign with AWS",
            "method": "GET",
            "url": "{{env.baseUrl}}/admin/aws",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {
                "type": "aws_sigv4",
                "access_key": "",
                "secret_key": "",
                "region": "us-east-1",
                "service": "",
            },
            "description": "",
            "tags": ["Admin"],
            "source": "postman:Team Tasks#Admin/Sign with AWS",
        },
        [],
    ),
    "Search (GraphQL)": (
        {
            "name": "Search (GraphQL)",
            "method": "POST",
            "url": "{{env.baseUrl}}/graphql",
            "headers": {},
            "query": {},
            "body": {
                "query": "query Tasks($q: String!) { tasks(q: $q) { id title } }",
                "variables": {"q": "{{env.term}}"},
            },
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.accessToken}}"},
            "description": "",
            "tags": [],
            "source": "postman:Team Tasks#Search (GraphQL)",
        },
        [],
    ),
    "Token": (
        {
            "name": "Token",
            "method": "GET",
            "url": "{{env.baseUrl}}/me",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.example.test/token",
                "client_id": "{{secrets.clientId}}",
                "client_secret": "{{secrets.clientSecret}}",
                "scopes": ["tasks:read", "tasks:write"],
            },
            "description": "",
            "tags": [],
            "source": "postman:Team Tasks#Token",
        },
        [],
    ),
}
PROBLEMS_21 = [
    (
        "Tasks/Comments/Add comment",
        "another request in the same folder is also named 'Add comment'; this one is 'Add comment (2)'",
    ),
    (
        "Admin/Sign with AWS",
        "AWS Signature v4 auth has no access_key, secret_key, service; set it in the definition's auth",
    ),
]
NOTES_21 = [
    "Postman scripts are ignored: the collection has a pre-request script.",
    "Postman scripts are ignored: 'List tasks' has a test script.",
    "'Admin/Legacy login' has its credentials written in the collection; they were kept as given, but could be moved to {{secrets.*}}.",
    "These variables are used but not defined in the collection; set them in an environment: term, userId.",
    "These secrets are used by auth but have no value in the collection; create them: adminKey, clientId, clientSecret.",
    "Variables used as auth values became secrets, not environment variables: accessToken.",
]
ENV_21 = {"baseUrl": "https://tasks.example.test/api", "pageSize": "25"}
SECRETS_21 = {"accessToken": "tok-123"}


EXPECTED_20 = {
    "Daily forecast": (
        {
            "name": "Daily forecast",
            "method": "GET",
            "url": "https://{{env.host}}/v1/forecast",
            "headers": {"Accept": "application/json", "X-Units": "metric"},
            "query": {"city": "Paris", "days": "3"},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": {"type": "bearer", "token": "{{secrets.weatherToken}}"},
            "description": "Three days ahead",
            "tags": ["Forecast"],
            "source": "postman:Weather v2.0#Forecast/Daily forecast",
        },
        [],
    ),
    "Station report": (
        {
            "name": "Station report",
            "method": "POST",
            "url": "https://{{env.host}}/v1/stations",
            "headers": {},
            "query": {},
            "body": "<report><t>21.5</t></report>",
            "content_type": "application/xml",
            "timeout": 30.0,
            "auth": {
                "type": "basic",
                "username": "{{secrets.stationUser}}",
                "password": "{{secrets.stationPass}}",
            },
            "description": "",
            "tags": ["Forecast"],
            "source": "postman:Weather v2.0#Forecast/Station report",
        },
        [],
    ),
    "Ping": (
        {
            "name": "Ping",
            "method": "GET",
            "url": "https://{{env.host}}/ping",
            "headers": {},
            "query": {},
            "body": None,
            "content_type": None,
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "postman:Weather v2.0#Ping",
        },
        [],
    ),
    "Bad JSON": (
        {
            "name": "Bad JSON",
            "method": "PUT",
            "url": "https://{{env.host}}/v1/bad",
            "headers": {},
            "query": {},
            "body": '{"broken": tru',
            "content_type": "application/json",
            "timeout": 30.0,
            "auth": None,
            "description": "",
            "tags": [],
            "source": "postman:Weather v2.0#Bad JSON",
        },
        [],
    ),
}
PROBLEMS_20 = [("Bad JSON", "the raw body is marked as JSON but is not valid JSON; it was kept as text")]
NOTES_20 = [
    "These secrets are used by auth but have no value in the collection; create them: stationPass, stationUser, weatherToken."
]
ENV_20 = {"host": "weather.example.test"}
SECRETS_20 = {}


def test_postman_21_every_field():
    result = _import("collection-v2.1.json")
    assert result.format == "postman 2.1"
    assert result.title == "Team Tasks"
    _check(result, EXPECTED_21)
    assert result.environment == ENV_21
    assert result.secrets == SECRETS_21
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_21
    assert result.notes == NOTES_21


def test_postman_20_every_field():
    result = _import("collection-v2.0.json")
    assert result.format == "postman 2.0"
    _check(result, EXPECTED_20)
    assert result.environment == ENV_20
    assert result.secrets == SECRETS_20
    assert [(p.where, p.message) for p in result.problems] == PROBLEMS_20
    assert result.notes == NOTES_20


def test_secret_values_never_reach_the_environment():
    result = _import("collection-v2.1.json")
    assert "tok-123" not in repr(result.environment)
    assert all("tok-123" not in repr(d.model_dump()) for d in result.definitions)


def test_collection_wrapped_by_the_postman_api_is_unwrapped():
    text = (FIXTURES / "collection-v2.0.json").read_text()
    result = import_api_spec('{"collection": ' + text + "}")
    assert result.format == "postman 2.0"
    assert [d.name for d in result.definitions] == list(EXPECTED_20)


def test_sources_are_stable_and_unique():
    first = _import("collection-v2.1.json")
    second = _import("collection-v2.1.json")
    sources = [d.source for d in first.definitions]
    assert sources == [d.source for d in second.definitions]
    assert len(set(sources)) == len(sources)


def test_null_auth_inherits_and_noauth_stops_inheritance():
    collection = {
        "info": {
            "name": "c",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}"}]},
        "item": [
            {"name": "inherits", "request": {"auth": None, "url": "https://e.test/a"}},
            {"name": "none", "request": {"auth": {"type": "noauth"}, "url": "https://e.test/b"}},
            {
                "name": "folder",
                "auth": None,
                "item": [{"name": "deep", "request": {"url": "https://e.test/c"}}],
            },
        ],
    }
    import json

    result = import_api_spec(json.dumps(collection))
    assert [d.auth for d in result.definitions] == [
        {"type": "bearer", "token": "{{secrets.t}}"},
        None,
        {"type": "bearer", "token": "{{secrets.t}}"},
    ]
    assert result.notes == [
        "These secrets are used by auth but have no value in the collection; create them: t."
    ]
