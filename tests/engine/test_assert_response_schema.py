"""ASSERT without `schema` checks the answer of the call before it against the response schema of the
API definition imported from OpenAPI; the monitor counts the assertions of each run."""

from __future__ import annotations

import asyncio
import json

from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.interchange.api_import import import_api_spec
from flowdesk.services.apis import ApiService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import chain, graph

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Users", "version": "1"},
    "servers": [{"url": "http://127.0.0.1:1"}],
    "paths": {
        "/users/{id}": {
            "get": {
                "operationId": "getUser",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "404": {"description": "no such user"},
                    "200": {
                        "description": "a user",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
                    },
                },
            }
        },
        "/users/{id}/orders": {
            "get": {
                "operationId": "getOrders",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "orders, as this document (wrongly) says",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}
                            }
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "User": {
                "type": "object",
                "required": ["id", "name", "email"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "nickname": {"type": "string", "nullable": True},
                    "manager": {"$ref": "#/components/schemas/User"},
                },
            }
        }
    },
}


def _import(db):
    result = import_api_spec(json.dumps(SPEC))
    service = ApiService(db)
    return {d.name: service.create_api(d) for d in result.definitions}


def test_an_imported_definition_keeps_its_response_schema_with_references_inlined(db):
    apis = _import(db)
    stored = ApiService(db).get_api(apis["getUser"].id)
    schema = stored.response_schema
    assert schema["required"] == ["id", "name", "email"]
    assert schema["properties"]["nickname"]["type"] == ["string", "null"]  # OpenAPI 3.0's nullable
    assert schema["properties"]["manager"] == {}  # the reference back into itself: anything
    assert "$ref" not in json.dumps(schema)


def _run(db, http_server, api_id, *, assert_config):
    nodes, conns = chain(
        ("start", "START"),
        ("call", "API_CALL", {"api_id": api_id, "parameters": {"id": 4}}),
        ("check", "ASSERT", assert_config),
        ("end", "END"),
    )
    stored = WorkflowService(db).create_from_graph(graph(nodes, conns, name=f"assert {api_id}"))

    async def main():
        async with WorkflowExecutor(
            db=db, load_plugins=False, environment={"base_url": http_server.url}
        ) as ex:
            handle = await ex.execute_workflow(stored.workflow.id, {})
            await handle.wait()
            return handle

    handle = asyncio.run(main())
    step = next(s for s in ExecutionService(db).get_logs(handle.id) if s.step_name == "check")
    return handle, step


def test_assert_checks_the_answer_against_the_definition_s_response_schema_by_default(db, http_server):
    apis = _import(db)
    handle, step = _run(
        db, http_server, apis["getUser"].id, assert_config={"assertions": ["response.status == 200"]}
    )
    assert handle.status == "completed", handle.error_message
    assert step.output_data["passed"] == 2 and step.output_data["failed"] == 0
    assert step.output_data["results"][1]["check"] == "response schema of API 'getUser'"


def test_an_answer_that_does_not_match_fails_the_assert_with_the_problems(db, http_server):
    apis = _import(db)
    handle, step = _run(
        db, http_server, apis["getOrders"].id, assert_config={"assertions": ["response.status == 200"]}
    )
    assert handle.status == "failed"
    assert step.error_type == "assertion"
    assert step.output_data["passed"] == 1 and step.output_data["failed"] == 1
    failed = step.output_data["results"][1]
    assert (
        failed["message"] == "the value does not match the response schema of API 'getOrders' (6 problem(s))"
    )
    assert "value[0]: 'name' is a required property" in failed["diff"]


def test_a_schema_or_value_given_in_the_node_wins_over_the_default(db, http_server):
    apis = _import(db)
    handle, step = _run(
        db,
        http_server,
        apis["getOrders"].id,
        assert_config={"schema": {"type": "array"}},
    )
    assert handle.status == "completed", handle.error_message
    assert [r["check"] for r in step.output_data["results"]] == ["schema"]
    handle, step = _run(
        db,
        http_server,
        apis["getOrders"].id,
        assert_config={"assertions": ["true"], "value": "{{response.status}}"},
    )
    assert handle.status == "completed" and len(step.output_data["results"]) == 1
