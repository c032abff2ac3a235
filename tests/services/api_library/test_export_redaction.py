"""Workflow exports carry secret references, never literal credentials (the API library's export rule)."""

from __future__ import annotations

import json

from flowdesk.domain.models import ApiDefinition, Node, Workflow, WorkflowGraph
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService


def test_literal_credentials_are_masked_and_references_kept(db):
    api = ApiDefinition(
        name="legacy",
        url="https://x.test/login",
        headers={"Authorization": "Bearer literal-Tok-123", "X-Trace": "keep-me"},
        auth={"type": "basic", "username": "bob", "password": "literal-Pw-456"},
    )
    ref_api = ApiDefinition(
        name="good", url="https://x.test/me", auth={"type": "bearer", "token": "{{secrets.tok}}"}
    )
    from flowdesk.services.apis import ApiService

    a = ApiService(db).create_api(api)
    b = ApiService(db).create_api(ref_api)
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(name="one", node_type="API_CALL", config={"api_id": a.id}),
            Node(
                name="two",
                node_type="API_CALL",
                config={"api_id": b.id, "auth": {"type": "api_key", "name": "k", "value": "literal-Key-789"}},
            ),
        ],
    )
    wid = WorkflowService(db).create_from_graph(graph).workflow.id
    text = TransferService(db).export_workflow(wid)
    for literal in ("literal-Tok-123", "literal-Pw-456", "literal-Key-789"):
        assert literal not in text
    doc = json.loads(text)
    apis = {x["name"]: x for x in doc["apis"]}
    assert apis["legacy"]["auth"]["password"] == "***" and apis["legacy"]["auth"]["username"] == "bob"
    assert apis["legacy"]["headers"] == {"Authorization": "***", "X-Trace": "keep-me"}
    assert apis["good"]["auth"]["token"] == "{{secrets.tok}}"


def test_passwords_in_urls_and_proxies_are_masked_in_exports(db):
    from flowdesk.services.apis import ApiService

    api = ApiService(db).create_api(
        ApiDefinition(
            name="internal",
            url="https://svc:url-Pw-111@x.test/v1",
            connection={"proxy": "http://me:proxy-Pw-222@proxy.test:3128", "verify": False},
        )
    )
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(
                name="call",
                node_type="API_CALL",
                config={
                    "url": "https://ops:node-Pw-333@y.test/x",
                    "proxy": "http://me:{{secrets.proxy_pw}}@proxy.test:3128",
                },
            ),
            Node(name="lib", node_type="API_CALL", config={"api_id": api.id}),
        ],
    )
    wid = WorkflowService(db).create_from_graph(graph).workflow.id
    text = TransferService(db).export_workflow(wid)
    for literal in ("url-Pw-111", "proxy-Pw-222", "node-Pw-333"):
        assert literal not in text
    doc = json.loads(text)
    assert doc["apis"][0]["url"] == "https://svc:***@x.test/v1"
    assert doc["apis"][0]["connection"] == {"proxy": "http://me:***@proxy.test:3128", "verify": False}
    node = next(n for n in doc["nodes"] if n["name"] == "call")
    assert node["config"]["url"] == "https://ops:***@y.test/x"
    assert node["config"]["proxy"] == "http://me:{{secrets.proxy_pw}}@proxy.test:3128"  # a reference is kept
