"""API_CALL: send one HTTP request (from an API definition and/or inline config), with retries.

Output: `{"response": {"status", "reason", "headers", "data", "elapsed_ms", "url", "method"}}`
(the scheduler adds `output_mapping` fields). A status outside 2xx that is not in `accept_status`
fails the node (error_type http_4xx / http_5xx) with the response still in its output.
docs/http.md has the whole behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowdesk.domain.errors import ExpressionSyntaxError, FlowdeskError, InvalidInputError
from flowdesk.domain.expressions import render
from flowdesk.engine.auth import register_auth_secrets
from flowdesk.engine.errors import NodeFailure
from flowdesk.engine.http import (
    HttpCallError,
    HttpResponse,
    Redactor,
    RetryPolicy,
    build_request,
    send_with_retries,
)

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.engine.context import NodeContext


def _response_dict(response: HttpResponse, body_limit: int | None, redactor: Redactor) -> dict[str, Any]:
    result = response.to_dict(body_limit)
    # Response headers are data the workflow may need (a Set-Cookie to pass on): only known secret
    # values are masked in them, not whole headers by name as in the recorded request.
    result["headers"] = redactor.scrub_value(result["headers"])
    if redactor.occurs_in(response.body):
        result["data"] = redactor.scrub_value(result["data"])  # the server echoed a secret back
    return result


def _body_limit(ctx: NodeContext, default: int | None) -> int | None:
    value = ctx.config.get("response_body_limit", ctx.workflow_config.get("response_body_limit"))
    if value is None or value == "":
        return default
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise NodeFailure(f"response_body_limit must be a number of bytes, got {value!r}") from None


class _ParamRenderer:
    """Renders a request's templates with `params.*` in scope; the scope is built only when a
    template needs it (a call without templates never builds one)."""

    __slots__ = ("ctx", "params", "scope")

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.params: dict[str, Any] = {}
        self.scope: Any = None

    def __call__(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and "{{" not in value):
            return value
        if self.scope is None:
            self.scope = self.ctx.scope.child(params=self.params)
        return render(value, self.scope)

    def pass_warnings(self) -> None:
        """The warnings of the params scope (unresolved references) become the step's warnings."""
        if self.scope is not None:
            seen = self.ctx.scope.warnings
            for warning in self.scope.warnings:
                if warning not in seen:
                    self.ctx.warn(warning)


def idempotency_key(ctx: NodeContext) -> str:
    """The `Idempotency-Key` an API_CALL sends with the `idempotency_key` option: derived from the
    first execution of the run's resume chain and the step name, so the call a resumed run sends
    again (the node that was in flight when a worker died) carries the key of the first attempt."""
    import hashlib

    execution = ctx.execution
    origin = execution.origin_id if execution.origin_id is not None else execution.id
    return hashlib.sha256(f"flowdesk:{origin}:{ctx.step_name}".encode()).hexdigest()[:32]


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Run one API_CALL node: build the request, send it with retries, return the response."""
    config = ctx.config
    api = None
    api_id = config.get("api_id")
    if api_id not in (None, ""):
        api = await ctx.get_api(api_id)
    redactor = Redactor(ctx.secret_values)
    renderer = _ParamRenderer(ctx)
    try:
        raw_params = config.get("parameters")
        params = ctx.render(raw_params) if raw_params else {}
        if not isinstance(params, Mapping):
            raise InvalidInputError(
                f"'parameters' must be an object of names to values, got {type(params).__name__}"
            )
        renderer.params = dict(params)
        request = build_request(config, api, params, renderer)
        if config.get("idempotency_key", ctx.workflow_config.get("idempotency_key")):
            request.headers.setdefault("Idempotency-Key", idempotency_key(ctx))
        auth = config.get("auth") or (api.auth if api is not None else None)
        request.auth = renderer(auth) if auth else None
        register_auth_secrets(request.auth, redactor)
        policy = RetryPolicy.from_config(config, ctx.workflow_config)
    except ExpressionSyntaxError as exc:
        raise NodeFailure(redactor.scrub(str(exc)), error_type="expression", attempts=0) from None
    except FlowdeskError as exc:
        raise NodeFailure(redactor.scrub(exc.message), error_type="other", attempts=0) from None
    finally:
        renderer.pass_warnings()

    client = ctx.http
    body_limit = _body_limit(ctx, client.body_limit)
    described = request.describe(redactor)
    ctx.inputs = described
    ctx.log("info", f"{request.method} {described['url']}")
    try:
        response, attempts = await send_with_retries(
            client,
            request,
            policy,
            redactor=redactor,
            deadline=ctx.deadline,
            on_attempt=ctx.record_attempt,
        )
    except HttpCallError as exc:
        output = {"response": _response_dict(exc.response, body_limit, redactor)} if exc.response else None
        raise NodeFailure(
            redactor.scrub(exc.message), error_type=exc.error_type, attempts=exc.attempts, output=output
        ) from None
    ctx.record_metric("http_status", response.status)
    ctx.record_metric("http_elapsed_ms", round(response.elapsed_ms, 3))
    if attempts > 1:
        ctx.log(
            "info",
            f"{request.method} {described['url']} answered {response.status} after {attempts} attempts",
        )
    return {"response": _response_dict(response, body_limit, redactor)}
