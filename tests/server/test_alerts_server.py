"""A run started through the REST server (`flowdesk serve`, a real process, both backends) fires the
workflow's alert rule and calls its webhook, as a local run does."""

from __future__ import annotations

from flowdesk.services.alerts import AlertService
from flowdesk.services.apis import ApiService
from flowdesk.store import Database
from tests.support.server_api import api_chain, wait_for_execution
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver


def test_a_server_run_fires_the_alert_and_calls_the_webhook(server, http_server):
    with server.client() as client, WebhookReceiver() as hook:
        middle = {"name": "call", "node_type": "API_CALL", "config": {"url": f"{http_server.url}/status/500"}}
        wid, _ = api_chain(client, "alerted", middle)
        db = Database(server.db)
        try:
            api = ApiService(db).create_api(name="server hook", method="POST", url=f"{hook.url}/hook")
            rule = AlertService(db).add_rule(wid, "failures_in_row", 1, webhook_api_id=api.id)
            started = client.post(f"/workflows/{wid}/execute", json={"input_data": {}}).json()
            assert wait_for_execution(client, started["id"])["status"] == "failed"
            wait_until(lambda: AlertService(db).history(wid), "the alert's history row")
            wait_until(lambda: AlertService(db).history(wid)[0].webhook_status, "the webhook's answer")
            (row,) = AlertService(db).history(wid)
            assert (row.rule_id, row.execution_id, row.webhook_status) == (rule.id, started["id"], "200")
            assert [call["json"]["execution_id"] for call in hook.received] == [started["id"]]
        finally:
            db.close()
