"""The API_CALL node through the WorkflowExecutor against the local server.

Graphs START -> API_CALL -> END run in memory (`execute_graph`); the last test stores a workflow
and an API definition in a real SQLite database and runs it with `execute_workflow`.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from flowdesk.domain.models import ApiDefinition, ApiParameter, Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.engine.http import HttpClient
from tests.support.api_call_runs import api_call_graph, execute, output
from tests.support.waiting import eventually, until

SECRET = "s3cr3t-token-value"


def api(server, **fields) -> ApiDefinition:
    fields.setdefault("name", "test api")
    fields.setdefault("url", f"{server.url}/anything")
    return ApiDefinition(id=fields.pop("id", 1), **fields)


# -- request building ---------------------------------------------------------------------------


def test_inline_get_with_output_mapping(http_server):
    config = {
        "method": "GET",
        "url": f"{http_server.url}/users/{{{{input.user_id}}}}",
        "output_mapping": {"name": "response.data.name", "ok": "response.status == 200"},
    }
    handle, step, _ = execute(config, {"user_id": 4})
    assert handle.status == "completed"
    out = output(handle)
    assert out["response"]["status"] == 200 and out["response"]["data"]["id"] == 4
    assert (out["name"], out["ok"]) == ("User 4", True)
    assert step["input_data"]["url"] == f"{http_server.url}/users/4"


def test_parameters_fill_templates_and_the_rest_go_to_the_query_for_get(http_server):
    definition = api(http_server, method="GET", url=f"{http_server.url}/anything/{{{{params.kind}}}}")
    config = {"api_id": 1, "parameters": {"kind": "pets", "limit": "{{input.n}}", "flag": True}}
    handle, _, _ = execute(config, {"n": 5}, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert echoed["path"] == "/anything/pets"
    assert echoed["query"] == {"limit": "5", "flag": "true"}
    assert echoed["json"] is None


def test_unused_parameters_are_merged_into_the_json_body_for_post(http_server):
    definition = api(http_server, method="POST", body={"name": "{{params.name}}", "kind": "cat"})
    config = {"api_id": 1, "parameters": {"name": "Tom", "age": 3, "owner": {"id": 1}}}
    handle, _, _ = execute(config, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert echoed["json"] == {"name": "Tom", "kind": "cat", "age": 3, "owner": {"id": 1}}
    assert echoed["query"] == {}


def test_a_whole_template_passes_a_typed_value_into_the_body(http_server):
    config = {"method": "PATCH", "url": f"{http_server.url}/anything", "body": {"data": "{{input.update}}"}}
    handle, _, _ = execute(config, {"update": {"a": [1, 2], "b": None}})
    assert output(handle)["response"]["data"]["json"] == {"data": {"a": [1, 2], "b": None}}


def test_declared_parameter_locations_win_over_the_method_rule(http_server):
    definition = api(
        http_server,
        method="POST",
        url=f"{http_server.url}/anything/{{petId}}",
        parameters=[
            ApiParameter(name="petId", location="path"),
            ApiParameter(name="X-Trace", location="header"),
            ApiParameter(name="dry_run", location="query"),
            ApiParameter(name="name", location="body"),
        ],
    )
    config = {"api_id": 1, "parameters": {"petId": "a b", "X-Trace": "t1", "dry_run": "yes", "name": "Tom"}}
    handle, _, _ = execute(config, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert echoed["path"] == "/anything/a b"
    assert echoed["headers"]["x-trace"] == "t1"
    assert echoed["query"] == {"dry_run": "yes"}
    assert echoed["json"] == {"name": "Tom"}


def test_node_headers_query_and_body_merge_over_the_definitions(http_server):
    definition = api(
        http_server,
        method="PUT",
        url=f"{http_server.url}/anything?from_url=1",
        headers={"X-A": "api", "X-B": "api"},
        query={"a": "api", "b": "api"},
        body={"x": "api", "y": "api"},
    )
    config = {
        "api_id": 1,
        "headers": {"X-B": "node", "X-C": "{{input.c}}"},
        "query": {"b": "node"},
        "body": {"y": "node", "z": "node"},
    }
    handle, _, _ = execute(config, {"c": "from input"}, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert (echoed["headers"]["x-a"], echoed["headers"]["x-b"], echoed["headers"]["x-c"]) == (
        "api",
        "node",
        "from input",
    )
    assert echoed["query"] == {"from_url": "1", "a": "api", "b": "node"}
    assert echoed["json"] == {"x": "api", "y": "node", "z": "node"}


def test_inline_method_and_url_win_over_the_definitions(http_server):
    definition = api(http_server, method="GET", url=f"{http_server.url}/json")
    config = {"api_id": 1, "method": "DELETE", "url": f"{http_server.url}/anything/override"}
    handle, _, _ = execute(config, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert (echoed["method"], echoed["path"]) == ("DELETE", "/anything/override")


def test_raw_text_body_with_the_definitions_content_type(http_server):
    definition = api(
        http_server, method="POST", body="<pet>{{params.name}}</pet>", content_type="application/xml"
    )
    handle, _, _ = execute({"api_id": 1, "parameters": {"name": "Tom"}}, apis=[definition])
    echoed = output(handle)["response"]["data"]
    assert echoed["body"] == "<pet>Tom</pet>" and echoed["headers"]["content-type"] == "application/xml"


def test_environment_values_reach_the_url(http_server):
    definition = api(http_server, url="{{env.base_url}}/users/{{params.id}}")

    async def main():
        async with WorkflowExecutor(load_plugins=False, http=HttpClient()) as executor:
            return await executor.execute_graph(
                api_call_graph({"api_id": 1, "parameters": {"id": 2}}),
                {},
                apis=[definition],
                environment={"base_url": http_server.url},
            )

    handle = asyncio.run(main())
    assert output(handle)["response"]["data"]["name"] == "User 2"


# -- outcomes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "reason"),
    [
        (404, "http_4xx", "Not Found"),
        (500, "http_5xx", "Internal Server Error"),
        (401, "http_4xx", "Unauthorized"),
    ],
)
def test_a_status_outside_2xx_fails_the_node(http_server, status, error_type, reason):
    url = f"{http_server.url}/status/{status}"
    handle, step, _ = execute({"method": "GET", "url": url})
    assert handle.status == "failed"
    assert step["status"] == "failed"
    assert step["error_type"] == error_type
    assert step["error_message"] == f"GET {url} answered {status} {reason}"


def test_a_failed_call_keeps_its_response_for_the_error_path(http_server):
    handle, step, _ = execute({"method": "GET", "url": f"{http_server.url}/users/9999"}, error_path=True)
    assert handle.status == "completed"
    assert handle.output_data == {"status": 404}
    assert step["output_data"]["response"]["data"] == {"error": "user not found", "id": 9999}


def test_accept_status_lets_a_listed_status_succeed(http_server):
    config = {"method": "GET", "url": f"{http_server.url}/users/9999", "accept_status": [404]}
    handle, step, _ = execute(config)
    assert handle.status == "completed" and step["status"] == "success"
    assert output(handle)["response"]["status"] == 404


def test_2xx_other_than_200_succeeds(http_server):
    handle, _, _ = execute({"method": "POST", "url": f"{http_server.url}/users", "body": {"name": "n"}})
    assert output(handle)["response"]["status"] == 201 and output(handle)["response"]["data"]["id"] == 101


def test_response_bodies_over_the_limit_are_cut_in_the_step(http_server):
    config = {"method": "GET", "url": f"{http_server.url}/large/5000", "response_body_limit": 1000}
    handle, step, _ = execute(config)
    response = step["output_data"]["response"]
    assert response["truncated"] is True and response["size"] == 5000 and len(response["data"]) == 1000


def test_a_bad_template_in_the_definition_is_an_expression_failure(http_server):
    # the node's own templates are checked by validation before the run; a definition's are not
    definition = api(http_server, url=f"{http_server.url}/users/{{{{params.id +}}}}")
    handle, step, _ = execute({"api_id": 1, "parameters": {"id": 1}}, apis=[definition])
    assert handle.status == "failed" and step["error_type"] == "expression"
    assert "column" in step["error_message"]


def test_a_missing_url_is_one_sentence():
    handle, step, _ = execute({"method": "GET"})
    assert step["error_message"] == "an API_CALL node needs an 'api_id' or a 'url'"


def test_a_connection_error_fails_with_error_type_connection():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handle, step, _ = execute({"method": "GET", "url": f"http://127.0.0.1:{port}/x"})
    assert step["error_type"] == "connection"
    assert (
        step["error_message"]
        == f"GET http://127.0.0.1:{port}/x failed: the connection was refused (is the server running?)"
    )


def test_node_timeout_bounds_one_attempt(http_server):
    handle, step, _ = execute({"method": "GET", "url": f"{http_server.url}/delay/5", "timeout": 0.2})
    assert step["error_type"] == "timeout" and "timed out after 0.2 s" in step["error_message"]


def test_cookies_ride_along_in_the_run_and_an_explicit_cookie_header_is_added_to_them(http_server):
    nodes = [
        Node(name="start", node_type="START"),
        Node(
            name="login",
            node_type="API_CALL",
            config={"url": f"{http_server.url}/cookies/set?session=abc123"},
        ),
        Node(name="plain", node_type="API_CALL", config={"url": f"{http_server.url}/cookies"}),
        Node(
            name="passed",
            node_type="API_CALL",
            config={"url": f"{http_server.url}/cookies", "headers": {"Cookie": "extra=1"}},
        ),
        Node(name="end", node_type="END"),
    ]
    names = ["start", "login", "plain", "passed", "end"]
    connections = [Connection(from_node=a, to_node=b) for a, b in zip(names, names[1:], strict=False)]
    workflow_graph = WorkflowGraph(workflow=Workflow(name="cookies"), nodes=nodes, connections=connections)

    async def main():
        async with WorkflowExecutor(load_plugins=False, http=HttpClient()) as executor:
            return await executor.execute_graph(workflow_graph, {})

    handle = asyncio.run(main())
    # the jar's values are recorded masked, as secrets are
    assert handle.output_data["login"]["response"]["headers"]["set-cookie"] == "session=***; Path=/"
    assert handle.output_data["plain"]["response"]["data"] == {"cookies": {"session": "***"}}
    assert handle.output_data["passed"]["response"]["data"] == {"cookies": {"extra": "1", "session": "***"}}


async def _cancel_a_call_in_flight(url: str, in_flight):
    """Run START -> API_CALL(url) -> END; cancel once `in_flight()` is true. (handle, seconds the end took)"""
    async with WorkflowExecutor(load_plugins=False, http=HttpClient()) as executor:
        handle = await executor.execute_graph(
            api_call_graph({"method": "GET", "url": url}), {}, config={"async": True}
        )
        await until(in_flight, "the call reaching the server")
        loop = asyncio.get_running_loop()
        started = loop.time()
        handle.cancel()
        await eventually(handle.wait(), "the end of the cancelled run")
        return handle, loop.time() - started


def test_cancel_stops_a_call_in_flight(http_server):
    # A call not cancelled would end `success` after the server's 30 s: the status tells them apart.
    url = f"{http_server.url}/delay/30?key=api-call-cancel-in-flight"
    handle, _ = asyncio.run(
        _cancel_a_call_in_flight(url, lambda: http_server.count("api-call-cancel-in-flight") == 1)
    )
    assert handle.status == "cancelled"
    assert next(s for s in handle.steps if s["step_name"] == "call")["status"] == "cancelled"


@pytest.mark.perf
def test_cancel_stops_a_call_in_flight_within_a_second(http_server):
    url = f"{http_server.url}/delay/20?key=api-call-cancel-in-flight-perf"
    handle, took = asyncio.run(
        _cancel_a_call_in_flight(url, lambda: http_server.count("api-call-cancel-in-flight-perf") == 1)
    )
    assert handle.status == "cancelled" and took < 1.0


def test_cancel_stops_a_retry_wait(http_server):
    async def main():
        waiting = asyncio.Event()

        async def sleep(seconds: float) -> None:  # real asyncio.sleep: the wait before the retry is 30 s
            waiting.set()
            await asyncio.sleep(seconds)

        async with WorkflowExecutor(load_plugins=False, http=HttpClient(sleep=sleep)) as executor:
            url = f"{http_server.url}/retry-after/30?key=api-call-cancel-wait&fail=5"
            handle = await executor.execute_graph(
                api_call_graph({"method": "GET", "url": url, "retry_count": 3}), {}, config={"async": True}
            )
            await eventually(waiting.wait(), "the wait before the retry")
            handle.cancel()
            await eventually(handle.wait(), "the end of the run cancelled in its retry wait")
            return handle

    handle = asyncio.run(main())
    assert handle.status == "cancelled"
    assert http_server.count("api-call-cancel-wait") == 1


# -- retries ----------------------------------------------------------------------------------------


def test_retry_count_from_the_workflow_config_and_the_attempt_history(http_server):
    url = f"{http_server.url}/flaky/api-call-retry?fail=2"
    handle, step, sleep = execute(
        {"method": "GET", "url": url, "retry_delay": 0.5}, workflow_config={"retry_count": 3}
    )
    assert handle.status == "completed"
    assert step["attempts"] == 3
    history = step["metrics"]["attempts"]
    assert [a["status"] for a in history] == [503, 503, 200]
    assert len(sleep.waits) == 2 and 0 <= sleep.waits[0] <= 0.5 and 0 <= sleep.waits[1] <= 1.0


def test_no_retry_on_404_even_with_retries_left(http_server):
    url = f"{http_server.url}/flaky/api-call-404?fail=3&status=404"
    handle, step, sleep = execute({"method": "GET", "url": url, "retry_count": 3})
    assert step["attempts"] == 1 and sleep.waits == [] and http_server.count("api-call-404") == 1


def test_retry_after_is_honoured_through_the_node(http_server):
    url = f"{http_server.url}/retry-after/2?key=api-call-ra&fail=1"
    handle, step, sleep = execute({"method": "GET", "url": url, "retry_count": 1})
    assert handle.status == "completed" and sleep.waits == [2.0]


# -- auth and secrets -----------------------------------------------------------------------------


def test_bearer_from_a_secret_never_reaches_the_step_row(http_server):
    definition = api(
        http_server,
        url=f"{http_server.url}/anything",
        auth={"type": "bearer", "token": "{{secrets.api_token}}"},
    )
    handle, step, _ = execute({"api_id": 1}, apis=[definition], secrets={"api_token": SECRET})
    assert handle.status == "completed"
    assert step["input_data"]["headers"] == {"Authorization": "***"}
    assert step["input_data"]["auth"] == "bearer"
    # the server echoes the Authorization header back: the step shows it masked
    assert step["output_data"]["response"]["data"]["headers"]["authorization"] == "Bearer ***"
    assert SECRET not in json.dumps(handle.steps, default=str)
    assert SECRET not in json.dumps(handle.output_data, default=str)


def test_a_secret_in_a_node_header_is_masked_in_the_step_input(http_server):
    config = {
        "method": "GET",
        "url": f"{http_server.url}/bearer/{SECRET}",
        "headers": {"Authorization": "Bearer {{secrets.t}}"},
    }
    handle, step, _ = execute(config, secrets={"t": SECRET})
    assert handle.status == "completed"
    assert step["input_data"]["headers"]["Authorization"] == "***"
    assert SECRET not in json.dumps(handle.steps, default=str)


def test_a_secret_in_a_failing_url_is_masked_in_the_error(http_server):
    config = {"method": "GET", "url": f"{http_server.url}/status/403?key={{{{secrets.k}}}}"}
    handle, step, _ = execute(config, secrets={"k": SECRET})
    assert step["error_message"] == f"GET {http_server.url}/status/403?key=*** answered 403 Forbidden"
    assert SECRET not in json.dumps(handle.steps, default=str) and SECRET not in (handle.error_message or "")


def test_api_key_in_the_query_from_a_secret(http_server):
    auth = {"type": "api_key", "in": "query", "name": "api_key", "value": "{{secrets.key}}"}
    definition = api(http_server, url=f"{http_server.url}/apikey/{SECRET}", auth=auth)
    handle, step, _ = execute({"api_id": 1}, apis=[definition], secrets={"key": SECRET})
    assert output(handle)["response"]["data"]["via"] == "query"
    assert output(handle)["response"]["url"].endswith("api_key=***")
    assert step["input_data"]["query"] == {"api_key": "***"}
    assert SECRET not in json.dumps(handle.steps, default=str)


def test_basic_auth_with_params_and_secrets(http_server):
    auth = {"type": "basic", "username": "{{params.user}}", "password": "{{secrets.pw}}"}
    definition = api(http_server, url=f"{http_server.url}/basic-auth/{{{{params.user}}}}/{SECRET}", auth=auth)
    handle, step, _ = execute(
        {"api_id": 1, "parameters": {"user": "ann"}}, apis=[definition], secrets={"pw": SECRET}
    )
    assert output(handle)["response"]["data"] == {"authenticated": True, "user": "ann"}
    assert step["input_data"]["query"] == {}  # `user` was used by a template, so it is not sent again


def test_oauth2_client_credentials_through_the_node(http_server):
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{http_server.url}/oauth/token",
        "client_id": "flowdesk-client",
        "client_secret": "{{secrets.client_secret}}",
        "scopes": ["pets:read"],
    }
    definition = api(http_server, url=f"{http_server.url}/oauth/protected", auth=auth)
    handle, step, _ = execute({"api_id": 1}, apis=[definition], secrets={"client_secret": "flowdesk-secret"})
    assert output(handle)["response"]["data"]["scope"] == "pets:read"
    assert "flowdesk-secret" not in json.dumps(handle.steps, default=str)


# -- end to end with a database --------------------------------------------------------------------


def test_end_to_end_stored_workflow_and_api_through_execute_workflow(http_server, db, db_path):
    from flowdesk.services.apis import ApiService
    from flowdesk.services.workflows import WorkflowService

    stored_api = ApiService(db).create_api(
        ApiDefinition(
            name="get user",
            method="GET",
            url=f"{http_server.url}/users/{{{{params.id}}}}",
            auth={"type": "bearer", "token": "{{secrets.token}}"},
        )
    )
    config = {
        "api_id": stored_api.id,
        "parameters": {"id": "{{input.id}}"},
        "output_mapping": {"email": "response.data.email"},
    }
    stored = WorkflowService(db).create_from_graph(api_call_graph(config))

    async def main():
        async with WorkflowExecutor(db=db, load_plugins=False, secrets={"token": SECRET}) as executor:
            handle = await executor.execute_workflow(stored.workflow.id, {"id": 12})
            return handle, await handle.logs()

    handle, logs = asyncio.run(main())
    assert handle.status == "completed"
    assert handle.output_data["call"]["email"] == "user12@example.com"
    call = next(log for log in logs if log.step_name == "call")
    assert call.status == "success" and call.output_data["response"]["status"] == 200
    assert call.input_data["url"] == f"{http_server.url}/users/12"
    raw = b"".join(p.read_bytes() for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists())
    assert b"user12@example.com" in raw  # the step rows are in these bytes...
    assert SECRET.encode() not in raw  # ...and the token is not
