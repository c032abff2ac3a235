"""Alerts after a run: evaluate the workflow's rules, announce what fired, call the webhooks.

`alert_after_run` is called by every recorded run's end (ExecutionHandle._finish: local, headless,
server and worker runs all end there), after the run's rows are committed and never on the step
path. The rules are read and measured on the writer thread (services/alerts.py); an alert that
fires is an `AlertFired` event (the app's tray message and Alerts page listen) and, when its rule
names an API definition, one POST of the alert's JSON summary through the engine's HTTP client.
A failure here is logged and written into the history row: it never changes the run's outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import events as ev

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.services.alerts import FiredAlert

    from .writer import ExecutionWriter

logger = logging.getLogger(__name__)


async def alert_after_run(
    writer: ExecutionWriter,
    db: Any,
    workflow_id: int | None,
    execution_id: int | None,
    *,
    emit: Any,
    http: Any,
    secrets: Mapping[str, str],
    environment: Mapping[str, str],
) -> list[FiredAlert]:
    """Evaluate the workflow's alert rules after run `execution_id`; the alerts that fired."""
    if workflow_id is None:
        return []
    from flowdesk.services.alerts import AlertService

    service = AlertService(db)
    try:
        fired: list[FiredAlert] = await writer.call(service.evaluate_after_run, workflow_id, execution_id)
    except Exception:
        logger.exception(
            "alert rules of workflow %s could not be evaluated after run %s", workflow_id, execution_id
        )
        return []
    for alert in fired:
        logger.warning("alert %s fired: %s", alert.id, alert.message)
        emit(
            ev.AlertFired(
                execution_id,
                time.time(),
                alert_id=alert.id,
                rule_id=alert.rule.id,
                rule_name=alert.rule.name,
                workflow_id=workflow_id,
                message=alert.message,
                value=alert.value,
            )
        )
        if alert.rule.webhook_api_id is not None:
            status = await post_webhook(writer, db, alert, http(), secrets, environment)
            try:
                await writer.call(service.record_webhook, alert.id, status)
            except Exception:
                logger.exception("the webhook result of alert %s could not be recorded", alert.id)
    return fired


async def post_webhook(
    writer: ExecutionWriter,
    db: Any,
    alert: FiredAlert,
    client: Any,
    secrets: Mapping[str, str],
    environment: Mapping[str, str],
) -> str:
    """POST the alert's summary to its rule's API definition (one attempt); "200" or what went wrong,
    in one sentence with every secret masked."""
    from flowdesk.domain.errors import FlowdeskError
    from flowdesk.domain.expressions import render
    from flowdesk.domain.expressions.scope import Scope
    from flowdesk.services.apis import ApiService

    from .http import HttpCallError, Redactor, build_request
    from .http.prepare import complete_request

    redactor = Redactor(secrets.values())
    scope = Scope({"secrets": dict(secrets), "env": dict(environment)})

    def render_value(value: Any) -> Any:
        return render(value, scope) if value is not None else None

    try:
        api = await writer.call(ApiService(db).get_api, alert.rule.webhook_api_id)
        hook = api.model_copy(update={"body": None, "method": "POST", "parameters": []})
        request = build_request({"method": "POST"}, hook, {}, render_value)
        complete_request(request, {}, hook, render_value, {}, redactor)
        request.json = redactor.scrub_value(alert.summary())
        request.content = request.form = request.multipart = None
        response = await client.send(request, redactor=redactor)
    except HttpCallError as exc:
        status = redactor.scrub(f"the webhook call failed: {exc.message}")
    except FlowdeskError as exc:
        status = redactor.scrub(f"the webhook call failed: {exc.message}")
    except Exception as exc:  # a bug or an unusable definition: the history row says so, the run goes on
        logger.exception("alert %s: webhook call failed", alert.id)
        status = redactor.scrub(f"the webhook call failed: {type(exc).__name__}: {exc}")
    else:
        status = str(response.status)
        if response.status >= 400:
            logger.warning("alert %s: the webhook answered %s", alert.id, response.status)
    return status
