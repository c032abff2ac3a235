"""Alerts after real runs: the engine evaluates the rules at each recorded run's end, announces a
firing as an event, and POSTs its summary to the webhook API (a real server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from flowdesk.services.alerts import AlertService
from flowdesk.services.apis import ApiService
from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import chain, executor, graph
from tests.support.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hook-token-5f1c9e"


def _workflow(db):
    nodes, connections = chain(
        ("start", "START"), ("call", "API_CALL", {"url": "{{input.url}}"}), ("end", "END")
    )
    return WorkflowService(db).create_from_graph(graph(nodes, connections, name="watched")).workflow


def _hook(db, url: str) -> int:
    api = ApiService(db).create_api(
        name="on-call hook",
        method="GET",
        url=f"{url}/hooks/flowdesk",
        headers={"Authorization": "Bearer {{secrets.hook_token}}"},
    )
    return api.id


def _runs(db, workflow_id: int, urls: list[str], seen: list) -> list:
    async def main():
        ex = executor(db=db, secrets={"hook_token": TOKEN})
        ex.subscribe(lambda e: seen.append(e) if e.kind == "alert_fired" else None)
        try:
            return [await ex.execute_workflow(workflow_id, {"url": url}) for url in urls]
        finally:
            await ex.aclose()

    return asyncio.run(main())


def test_an_alert_fires_once_calls_its_webhook_and_re_arms(db, http_server):
    wf = _workflow(db)
    ok, bad = f"{http_server.url}/status/200", f"{http_server.url}/status/500"
    with WebhookReceiver() as hook:
        rule = AlertService(db).add_rule(wf.id, "failures_in_row", 2, webhook_api_id=_hook(db, hook.url))
        seen: list = []
        handles = _runs(db, wf.id, [bad, bad, bad], seen)
        assert [h.status.value for h in handles] == ["failed"] * 3
        # fired after the second failed run, and only then
        assert [(e.execution_id, e.rule_id) for e in seen] == [(handles[1].id, rule.id)]
        (call,) = hook.received
        assert call["path"] == "/hooks/flowdesk"
        assert call["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert call["headers"]["content-type"].startswith("application/json")
        summary = call["json"]
        assert summary["rule_id"] == rule.id and summary["kind"] == "failures_in_row"
        assert summary["workflow"] == "watched" and summary["execution_id"] == handles[1].id
        assert summary["value"] == 2.0 and summary["threshold"] == 2.0
        assert TOKEN not in call["raw"]
        (row,) = AlertService(db).history(wf.id)
        assert row.execution_id == handles[1].id and row.webhook_status == "200"

        # a completed run re-arms the rule; two more failures fire it again
        seen.clear()
        again = _runs(db, wf.id, [ok, bad, bad], seen)
        assert [h.status.value for h in again] == ["completed", "failed", "failed"]
        assert [e.execution_id for e in seen] == [again[2].id]
        assert len(hook.received) == 2
    assert [r.execution_id for r in AlertService(db).history(wf.id)] == [again[2].id, handles[1].id]


def test_a_webhook_that_cannot_be_reached_is_recorded_without_failing_the_run(db, http_server):
    wf = _workflow(db)
    with WebhookReceiver() as gone:
        url = gone.url
    api_id = _hook(db, url)  # its server is closed now: the connection is refused
    AlertService(db).add_rule(wf.id, "failures_in_row", 1, webhook_api_id=api_id)
    seen: list = []
    (handle,) = _runs(db, wf.id, [f"{http_server.url}/status/500"], seen)
    assert handle.status.value == "failed" and len(seen) == 1
    (row,) = AlertService(db).history(wf.id)
    assert row.webhook_status.startswith("the webhook call failed: ")
    assert TOKEN not in row.webhook_status


def test_a_webhook_answering_an_error_status_is_recorded(db, http_server):
    wf = _workflow(db)
    with WebhookReceiver(status=503) as hook:
        AlertService(db).add_rule(wf.id, "success_rate", 50, runs=2, webhook_api_id=_hook(db, hook.url))
        _runs(db, wf.id, [f"{http_server.url}/status/500"], [])
        assert len(hook.received) == 1
    (row,) = AlertService(db).history(wf.id)
    assert row.webhook_status == "503" and row.value == 0.0


def test_a_headless_cli_run_evaluates_the_rules_before_it_exits(tmp_path, http_server):
    from flowdesk.store import Database

    path = tmp_path / "cli.db"
    db = Database(path)
    try:
        wf = _workflow(db)
        AlertService(db).add_rule(wf.id, "failures_in_row", 1)
    finally:
        db.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLOWDESK_DB", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowdesk.cli",
            "run",
            "watched",
            "--db",
            str(path),
            "--input",
            json.dumps({"url": f"{http_server.url}/status/500"}),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=120,
    )
    assert done.returncode != 0, done.stdout
    db = Database(path)
    try:
        (row,) = AlertService(db).history(wf.id)
        assert row.rule_name == "1 failures in a row" and row.webhook_status is None
    finally:
        db.close()


def test_a_run_that_is_not_recorded_is_not_evaluated(db, http_server):
    wf = _workflow(db)
    AlertService(db).add_rule(wf.id, "failures_in_row", 1)
    stored = WorkflowService(db).load_graph(wf.id)

    async def main():
        ex = executor(db=db)
        try:
            return await ex.execute_graph(stored, {"url": f"{http_server.url}/status/500"}, persist=False)
        finally:
            await ex.aclose()

    handle = asyncio.run(main())
    assert handle.status.value == "failed"
    assert AlertService(db).history(wf.id) == []


def test_a_rule_added_while_a_run_goes_on_counts_from_the_next_run(db, http_server):
    """Whether a workflow has rules is read with the run's row: a run that started without any ends
    without an evaluation (so runs of workflows without rules cost nothing at their end)."""
    wf = _workflow(db)
    bad = f"{http_server.url}/status/500"
    seen: list = []

    async def main():
        ex = executor(db=db)
        ex.subscribe(lambda e: seen.append(e) if e.kind == "alert_fired" else None)
        try:
            first = await ex.execute_workflow(wf.id, {"url": bad}, config={"wait": False})
            AlertService(db).add_rule(wf.id, "failures_in_row", 1)  # while the first run goes on
            await first.wait()
            second = await ex.execute_workflow(wf.id, {"url": bad})
            return first, second
        finally:
            await ex.aclose()

    first, second = asyncio.run(main())
    assert first.status.value == second.status.value == "failed"
    assert first.alert_rules is False and second.alert_rules is True
    assert [e.execution_id for e in seen] == [second.id]
