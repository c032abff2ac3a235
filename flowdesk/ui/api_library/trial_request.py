"""Sending one API definition from the library ("Send" in the dock), the way an API_CALL node would.

Qt-free: the dock awaits `send_trial` on the qasync loop. Secret values are masked (***) in everything
the result holds, so the dock never shows them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.expressions import Scope, render
from flowdesk.domain.models import ApiDefinition


@dataclass
class TrialResult:
    """What one trial request gave: status, time, headers and body (secrets masked), or an error."""

    method: str = ""
    url: str = ""
    status: int | None = None
    reason: str = ""
    elapsed_ms: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    data: Any = None
    text: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


async def send_trial(
    client: Any,
    api: ApiDefinition,
    *,
    environment: Mapping[str, Any],
    secrets: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
) -> TrialResult:
    """Build the request from `api` with `{{env.*}}`, `{{secrets.*}}` and `params`, send it once."""
    # the HTTP stack is imported on the first Send, not when the window opens (httpx alone pulls
    # in click, rich and pygments: some 0.5 s of start-up)
    from flowdesk.engine.http import Redactor
    from flowdesk.engine.http.errors import HttpCallError
    from flowdesk.engine.http.prepare import complete_request
    from flowdesk.engine.http.request import build_request
    from flowdesk.engine.http.settings import environment_settings

    redactor = Redactor(secrets.values())
    scope = Scope({"env": dict(environment), "secrets": dict(secrets), "params": dict(params or {})})

    def render_value(value: Any) -> Any:
        if value is None or (isinstance(value, str) and "{{" not in value):
            return value
        return render(value, scope)

    result = TrialResult(method=api.method.upper())
    started = time.perf_counter()
    try:
        rendered_params = render_value(dict(params or {}))
        request = build_request({}, api, rendered_params, render_value)
        complete_request(request, {}, api, render_value, environment_settings(environment), redactor)
        result.url = request.describe(redactor)["url"]
        response = await client.send(request, redactor=redactor)
    except HttpCallError as exc:
        result.error = redactor.scrub(exc.message)
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result
    except FlowdeskError as exc:
        result.error = redactor.scrub(exc.message)
        return result
    result.status = response.status
    result.reason = response.reason
    result.elapsed_ms = response.elapsed_ms
    result.headers = redactor.scrub_value(dict(response.headers))
    data = response.data
    result.data = redactor.scrub_value(data)
    result.text = redactor.scrub(response.text(200_000))
    return result
