"""A run a worker process takes from the queue (Celery on Redis, PostgreSQL shared) fires the
workflow's alert rule and calls its webhook, as a local run does."""

from __future__ import annotations

import asyncio

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.services.alerts import AlertService
from flowdesk.services.apis import ApiService
from flowdesk.store import Database
from tests.support.webhook_receiver import WebhookReceiver

from .conftest import api_call, wait_until, workflow_file


def test_a_worker_run_fires_the_alert_and_calls_the_webhook(
    worker, worker_db, redis_server, http_server, store
):
    from flowdesk.engine.executor import WorkflowExecutor

    wid = store(workflow_file("alerted on a worker", [api_call("call", f"{http_server.url}/status/500")]))
    db = Database(worker_db)
    try:
        with WebhookReceiver() as hook:
            api = ApiService(db).create_api(name="worker hook", method="POST", url=f"{hook.url}/hook")
            rule = AlertService(db).add_rule(wid, "failures_in_row", 1, webhook_api_id=api.id)

            async def submit():
                async with WorkflowExecutor(db=worker_db, broker=redis_server.url) as executor:
                    queued = await executor.execute_workflow(wid, {}, config={"queue": "default"})
                    return await queued.wait()

            ran = asyncio.run(submit())
            assert ran.status == ExecutionStatus.FAILED
            wait_until(lambda: hook.received, "the webhook call from the worker")
            wait_until(
                lambda: AlertService(db).history(wid)[0].webhook_status, "the webhook's answer recorded"
            )
            (row,) = AlertService(db).history(wid)
            assert (row.rule_id, row.execution_id, row.webhook_status) == (rule.id, ran.id, "200")
            assert [call["json"]["execution_id"] for call in hook.received] == [ran.id]
    finally:
        db.close()
