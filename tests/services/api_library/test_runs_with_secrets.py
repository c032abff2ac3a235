"""A workflow whose API_CALLs come from an imported spec runs against the local server with every auth
type, its secrets from the encrypted store; the secret values never reach the database's log tables,
exports or error messages (searched in the raw bytes of the SQLite file and its WAL)."""

from __future__ import annotations

import base64
import json

import pytest

from flowdesk.engine.headless import run_workflow
from flowdesk.services.api_library import ApiLibraryService
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.executions import ExecutionService
from flowdesk.services.secrets import SecretService
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService

from .conftest import raw_database_bytes

SPEC = """
openapi: 3.0.3
info: {title: Local Auth, version: "1"}
servers: [{url: "http://localhost:1"}]
paths:
  /bearer/{token}:
    get:
      operationId: withBearer
      security: [{bearerAuth: []}]
      parameters: [{name: token, in: path, required: true, schema: {type: string}}]
  /basic-auth/{user}/{password}:
    get:
      operationId: withBasic
      security: [{basicAuth: []}]
      parameters:
        - {name: user, in: path, required: true, schema: {type: string}}
        - {name: password, in: path, required: true, schema: {type: string}}
  /apikey/{key}:
    get:
      operationId: withApiKey
      security: [{keyAuth: []}]
      parameters: [{name: key, in: path, required: true, schema: {type: string}}]
  /oauth/protected:
    get:
      operationId: withOAuth
      security: [{oauth: [read]}]
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
    basicAuth: {type: http, scheme: basic}
    keyAuth: {type: apiKey, in: header, name: X-API-Key}
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: "TOKEN_URL"
          scopes: {read: read things}
"""

SECRETS = {
    "bearerAuth_token": "bearer-Tok-7f3a9c",
    "basicAuth_username": "alice-user",
    "basicAuth_password": "pw-Q9x!long",
    "keyAuth": "key-5d1e8b2a",
    "oauth_client_id": "flowdesk-client",
    "oauth_client_secret": "flowdesk-secret",
}
NODE_PARAMS = {
    "withBearer": {"token": "{{secrets.bearerAuth_token}}"},
    "withBasic": {"user": "{{secrets.basicAuth_username}}", "password": "{{secrets.basicAuth_password}}"},
    "withApiKey": {"key": "{{secrets.keyAuth}}"},
    "withOAuth": {},
}


def _needles() -> list[bytes]:
    """Every secret value, plus the forms it could leak in (basic's base64 header)."""
    out = [v.encode() for v in SECRETS.values()]
    pair = f"{SECRETS['basicAuth_username']}:{SECRETS['basicAuth_password']}"
    out.append(base64.b64encode(pair.encode()))
    return out


@pytest.fixture
def library(db, http_server):
    """The spec imported, the environment pointing at the local server, the secrets stored."""
    EnvironmentService(db).create_environment("local", {"base_url": http_server.url}, activate=True)
    EnvironmentService(db).create_environment("elsewhere", {"base_url": "http://127.0.0.1:9"})
    spec = SPEC.replace("TOKEN_URL", f"{http_server.url}/oauth/token")
    report = ApiLibraryService(db).import_spec(spec, source_name="local-auth.yaml", environment="local")
    assert report.variables_kept == ["base_url"]  # the import did not overwrite the real URL
    secrets = SecretService(db)
    for name, value in SECRETS.items():
        secrets.set_secret(name, value)
    return {api.name: api for api in report.added}


def _workflow(db, apis) -> int:
    workflows = WorkflowService(db)
    wf = workflows.create_workflow("auth tour")
    start = workflows.add_node(wf.id, "start", "START")
    previous = start
    for i, (op, params) in enumerate(NODE_PARAMS.items()):
        node = workflows.add_node(
            wf.id,
            op,
            "API_CALL",
            config={"api_id": apis[op].id, "parameters": params},
            position_x=200 * (i + 1),
        )
        workflows.add_connection(wf.id, previous.id, node.id)
        previous = node
    end = workflows.add_node(wf.id, "end", "END", position_x=1200)
    workflows.add_connection(wf.id, previous.id, end.id)
    return wf.id


def test_every_auth_type_works_and_no_secret_is_stored_in_clear(db, db_path, library, tmp_path):
    wid = _workflow(db, library)
    report = run_workflow(db, wid, {"n": 1})
    assert report.status == "completed", report.error_message
    steps = {s["step_name"]: s for s in report.as_json()["steps"]}
    for op in NODE_PARAMS:
        body = steps[op]["output_data"]["response"]["data"]
        assert body["authenticated"] is True, (op, body)
    # The secrets are masked where they would otherwise show (the URL path holds the bearer token).
    assert "***" in json.dumps(steps["withBearer"])
    # Exports carry references, never values.
    workflow_export = TransferService(db).export_workflow(wid)
    assert "{{secrets.bearerAuth_token}}" in workflow_export
    library_export = json.dumps(ApiLibraryService(db).export_openapi())
    for needle in _needles():
        assert needle.decode() not in workflow_export
        assert needle.decode() not in library_export
    db.close()
    raw = raw_database_bytes(db_path)
    for needle in _needles():
        assert needle not in raw, needle


def test_a_failing_call_does_not_leak_the_secret_in_its_error(db, db_path, library):
    wid = _workflow(db, library)
    # The stored bearer token no longer matches the one the URL path expects: 401, the run fails.
    workflows = WorkflowService(db)
    node = next(n for n in workflows.list_nodes(wid) if n.name == "withBearer")
    workflows.update_node(node.id, config={**node.config, "parameters": {"token": "{{secrets.keyAuth}}"}})
    report = run_workflow(db, wid, None)
    assert report.status == "failed"
    execution = ExecutionService(db).get_execution(report.execution_id)
    assert execution.error_message
    for needle in _needles():
        assert needle.decode() not in (execution.error_message or "")
        assert needle.decode() not in json.dumps(report.as_json(), default=str)
    db.close()
    for needle in _needles():
        assert needle not in raw_database_bytes(db_path), needle


def test_run_takes_the_named_environment(db, library):
    wid = _workflow(db, library)
    report = run_workflow(db, wid, None, environment="elsewhere")
    assert report.status == "failed"  # port 9 on 127.0.0.1: nothing listens
    assert report.as_json()["steps"][1]["error_message"]
    assert ExecutionService(db).get_execution(report.execution_id).environment == "elsewhere"


def test_executor_takes_an_environment_name(db, db_path, library):
    import asyncio

    from flowdesk.engine.executor import WorkflowExecutor

    wid = _workflow(db, library)

    async def go():
        executor = WorkflowExecutor(db=db, load_plugins=False)
        try:
            handle = await executor.execute_workflow(wid, None, environment="local")
            await handle.wait()
            return handle.status
        finally:
            await executor.aclose()

    assert asyncio.run(go()) == "completed"
    db.close()
    for needle in _needles():
        assert needle not in raw_database_bytes(db_path), needle
