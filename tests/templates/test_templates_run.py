"""Every template of resources/templates/ run against the demo API (the local test server), read from
its file exactly as `flowdesk new --template` writes it, with the inputs it declares."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from flowdesk.api import WorkflowExecutor
from flowdesk.interchange.templates import load_templates

DEMO_SECRETS = {"demo_password": "analyst-pass", "demo_client_secret": "flowdesk-secret"}
LIBRARY = load_templates(packages=False)


def run(name: str, server, secrets=None, **inputs):
    graph = LIBRARY.get(name).graph

    async def main():
        async with WorkflowExecutor(load_plugins=False) as executor:
            return await executor.execute_graph(
                graph,
                {"base_url": server.url, **inputs},
                secrets=DEMO_SECRETS if secrets is None else secrets,
            )

    return asyncio.run(main())


def statuses(handle) -> dict[str, str]:
    return {row["step_name"]: row["status"] for row in handle.steps}


def test_the_library_has_ten_documented_templates():
    assert LIBRARY.problems == []
    assert len(LIBRARY.templates) >= 10
    for template in LIBRARY.templates:
        workflow = template.graph.workflow
        assert "\n\nShows: " in workflow.description, template.name
        assert "base_url" in [f.name for f in template.inputs]
        assert all(f.description for f in template.inputs), template.name
        assert all(n.description for n in template.graph.nodes), template.name
        assert "template" in workflow.tags


def test_login_and_call(http_server):
    handle = run("login-and-call", http_server)
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"username": "analyst", "authenticated": True}
    assert "analyst-pass" not in str(
        next(r for r in handle.steps if r["step_name"] == "login")["input_data"]["body"]
    )


def test_login_without_the_secret_fails_at_the_login(http_server):
    handle = run("login-and-call", http_server, secrets={})
    assert handle.status == "failed"
    assert handle.error_message.startswith("login: POST ") and "401" in handle.error_message


def test_paginate_follows_pages_until_there_is_no_next_link(http_server):
    handle = run("paginate", http_server, per_page=10)
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["pages"] == 3 and out["stopped_by"] == "condition"
    ids = [item["id"] for page in out["results"] for item in page["items"]]
    assert ids == list(range(1, 24))
    assert out["results"][-1]["next"] is None and out["results"][0]["next"].endswith(
        "page=2&per_page=10&total=23"
    )


def test_paginate_stops_at_max_pages(http_server):
    handle = run("paginate", http_server, per_page=5, max_pages=2)
    assert handle.output_data["pages"] == 2 and handle.output_data["stopped_by"] == "max_iterations"


def test_poll_job_until_done(http_server):
    handle = run("poll-job", http_server, polls=3, interval=0)
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["done"] is True and out["polls"] == 3
    assert out["result"] == {"input": {"report": "monthly"}, "answer": 42}
    assert statuses(handle)["gave_up"] == "skipped"


def test_poll_job_gives_up(http_server):
    handle = run("poll-job", http_server, polls=5, interval=0, max_polls=2)
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["done"] is False and handle.output_data["last_state"] == "running"
    assert statuses(handle)["finished"] == "skipped"


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_fan_out_fetches_everything_within_the_limit(http_server, concurrency):
    counts = http_server.state.counts
    counts["products_inflight_max"] = 0
    ids = list(range(1, 12)) + [9999]  # 9999 is not a product: its fetch fails, the others go on
    handle = run("fan-out", http_server, product_ids=ids, concurrency=concurrency, delay=0.05)
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["fetched"] == 12
    products = out["products"]
    assert [p["id"] for p in products[:-1]] == list(range(1, 12))  # in the list's order
    assert products[-1]["error_type"] == "http_4xx"
    assert 1 <= counts["products_inflight_max"] <= concurrency


def test_retry_recovers_on_the_primary(http_server):
    key = f"q-{uuid.uuid4().hex[:8]}"
    handle = run("retry-fallback", http_server, key=key, fail=2)
    assert handle.status == "completed", handle.error_message
    assert handle.output_data["source"] == "primary" and handle.output_data["answer"]["attempt"] == 3
    assert statuses(handle)["fallback"] == "skipped"


def test_retry_falls_back_to_the_backup(http_server):
    key = f"q-{uuid.uuid4().hex[:8]}"
    handle = run("retry-fallback", http_server, key=key, fail=5)  # the backup at base_url
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["source"] == "backup" and out["answer"]["key"] == key
    assert "503" in out["primary_error"] and "after 3 attempts" in out["primary_error"]
    assert statuses(handle)["from_primary"] == "skipped"


def test_health_check_all_up(http_server):
    before = len(http_server.state.alerts)
    handle = run("health-check", http_server, alert_url=f"{http_server.url}/alerts")
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"healthy": True, "services": ["api", "database", "queue"]}
    assert len(http_server.state.alerts) == before


def test_health_check_alerts_when_one_is_down(http_server):
    http_server.state.down.add("database")
    try:
        handle = run("health-check", http_server)  # alert_url empty: the demo's /alerts at base_url
    finally:
        http_server.state.down.discard("database")
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["healthy"] is False and "/health/database" in out["problem"] and "503" in out["problem"]
    alert = http_server.state.alerts[-1]["alert"]
    assert alert["workflow"] == "Health check" and alert["problem"] == out["problem"]
    assert alert["error_type"] == "http_5xx"
    assert statuses(handle)["healthy"] == "skipped"


def test_call_transform_post(http_server):
    handle = run("call-transform-post", http_server, user_id=3)
    assert handle.status == "completed", handle.error_message
    summary = handle.output_data["summary"]
    assert summary == {
        "customer": "User 3",
        "email": "user3@example.com",
        "premium": True,
        "order_count": 3,
        "first_item": "Widget 1",
        "label": "User 3 (3 orders)",
    }
    stored = next(s for s in http_server.state.summaries if s["id"] == handle.output_data["summary_id"])
    assert stored["summary"] == summary


def test_oauth2_client_credentials_fetches_one_token_for_two_calls(http_server):
    tokens_before = http_server.count("oauth_token")
    handle = run("oauth2-client-credentials", http_server, scope="read write")
    assert handle.status == "completed", handle.error_message
    assert handle.output_data == {"client_id": "flowdesk-client", "scope": "read write"}
    assert http_server.count("oauth_token") == tokens_before + 1
    assert "flowdesk-secret" not in repr(handle.steps)


def test_oauth2_with_a_wrong_secret_fails(http_server):
    handle = run("oauth2-client-credentials", http_server, secrets={"demo_client_secret": "wrong-secret"})
    assert handle.status == "failed"
    assert "invalid_client" in handle.error_message and "wrong-secret" not in handle.error_message


def test_crud_smoke_test_passes(http_server):
    handle = run("crud-smoke-test", http_server, title="Groceries", body="milk")
    assert handle.status == "completed", handle.error_message
    note_id = handle.output_data["note_id"]
    assert handle.output_data == {"passed": True, "note_id": note_id}
    assert note_id not in http_server.state.notes
    assert statuses(handle)["failed"] == "skipped"


def test_crud_smoke_test_reports_the_failed_check(http_server):
    title = "A title longer than the forty characters the demo keeps"
    handle = run("crud-smoke-test", http_server, title=title, body="x")
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["passed"] is False and out["status"] == 201 and out["url"].endswith("/notes")
    assert out["answer"]["title"] == title[:40]
    assert statuses(handle)["read"] == "skipped" and statuses(handle)["passed"] == "skipped"


@pytest.mark.parametrize(("user_id", "identical"), [(3, True), (14, False)])
def test_compare_versions(http_server, user_id, identical):
    handle = run("compare-versions", http_server, user_id=user_id)
    assert handle.status == "completed", handle.error_message
    out = handle.output_data
    assert out["identical"] is identical and out["user_id"] == user_id
    if not identical:
        assert out["v1"]["email"] == "user14@example.com"
        assert out["v2"]["contact"]["email"] == "user14@example.org"
