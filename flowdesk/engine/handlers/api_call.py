"""API_CALL: send one HTTP request (from an API definition and/or inline config), with retries.

Output: `{"response": {"status", "reason", "headers", "data", "elapsed_ms", "url", "method"}}`
(the scheduler adds `output_mapping` fields). A status outside 2xx that is not in `accept_status`
fails the node (error_type http_4xx / http_5xx) with the response still in its output.
`save_to` (a path template) streams the whole body to that file instead (`saved_to`, `size`),
renamed into place only when the call succeeded. docs/http.md has the whole behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowdesk.domain.errors import ExpressionSyntaxError, FlowdeskError, InvalidInputError
from flowdesk.domain.expressions import render
from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS
from flowdesk.domain.response_cache import CacheOption, parse_cache_option
from flowdesk.engine.errors import NodeFailure
from flowdesk.engine.http import (
    HttpCallError,
    HttpResponse,
    Redactor,
    RetryPolicy,
    build_request,
    send_with_retries,
)
from flowdesk.engine.http.prepare import complete_request
from flowdesk.engine.http.settings import DEFAULT_SETTINGS
from flowdesk.engine.response_cache import CacheUse

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


NUMERIC_TEMPLATE_KEYS = ("timeout", "retry_count", "retry_delay", "response_body_limit")
"""Numeric settings of an API_CALL that may be a template (`"{{input.retries}}"`): rendered first."""


def _numbers_rendered(config: Mapping[str, Any], render_text: Any) -> Mapping[str, Any]:
    """`config` with each templated numeric setting rendered; a template that gives no number, or
    one outside the setting's range (the API_CALL descriptor's schema), is refused in one sentence
    naming the setting and its template."""
    rendered: dict[str, Any] | None = None
    for key in NUMERIC_TEMPLATE_KEYS:
        raw = config.get(key)
        if not isinstance(raw, str) or "{{" not in raw:
            continue
        value = render_text(raw)
        schema = BUILTIN_DESCRIPTORS["API_CALL"].field_schema(key)
        whole = "integer" in schema.get("type", ())
        try:
            if isinstance(value, bool) or value is None:
                raise ValueError
            number = float(value)
            if whole and not number.is_integer():
                raise ValueError
        except (TypeError, ValueError):
            kind = "a whole number" if whole else "a number"
            raise InvalidInputError(f"{key} ({raw}) must be {kind}, got {value!r}") from None
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and number < low) or (high is not None and number > high):
            span = f"from {low:g} to {high:g}" if high is not None else f"of {low:g} or more"
            raise InvalidInputError(f"{key} ({raw}) must be {span}, got {value!r}")
        if rendered is None:
            rendered = dict(config)
        rendered[key] = int(number) if whole else number
    return config if rendered is None else rendered


def _body_limit(ctx: NodeContext, config: Mapping[str, Any], default: int | None) -> int | None:
    value = config.get("response_body_limit", ctx.workflow_config.get("response_body_limit"))
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
    return await call(ctx)


async def call(ctx: NodeContext, *, cacheable: bool = True) -> dict[str, Any]:
    """One API call of the node's config; `cacheable=False` (POLL's attempts) never looks in the
    response cache nor keeps the answer, whatever the node's or its API's `cache` says."""
    config: Mapping[str, Any] = ctx.config
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
        config = _numbers_rendered(config, renderer)
        request = build_request(config, api, params, renderer)
        complete_request(request, config, api, renderer, ctx.http_state.environment_settings, redactor)
        if config.get("idempotency_key", ctx.workflow_config.get("idempotency_key")):
            request.headers.setdefault("Idempotency-Key", idempotency_key(ctx))
        save_to = config.get("save_to")
        if save_to not in (None, ""):
            path = renderer(save_to)
            if not isinstance(path, str) or not path.strip():
                raise InvalidInputError(f"save_to must be a file path, got {path!r}")
            request.save_to = path
        policy = RetryPolicy.from_config(config, ctx.workflow_config)
        option = _cache_option(config, api) if cacheable else None
    except ExpressionSyntaxError as exc:
        ctx.inputs = redactor.scrub_value(_config_without_url_password(config, redactor))
        raise NodeFailure(redactor.scrub(str(exc)), error_type="expression", attempts=0) from None
    except FlowdeskError as exc:
        ctx.inputs = redactor.scrub_value(_config_without_url_password(config, redactor))
        raise NodeFailure(redactor.scrub(exc.message), error_type="other", attempts=0) from None
    finally:
        renderer.pass_warnings()

    client = ctx.http
    body_limit = _body_limit(ctx, config, client.body_limit)
    request.body_limit = body_limit  # the transport keeps no more than the output shows
    described = request.describe(redactor)
    settings = request.settings
    cookies = None
    if settings.cookies:
        cookies = ctx.http_state.cookies
        if len(cookies):
            names = cookies.names_for(request.url)
            if names:
                described["cookies"] = {name: "***" for name in names}
    if settings is not DEFAULT_SETTINGS:
        described["connection"] = settings.describe(redactor.url)
    if settings.proxy is None and client.proxy_variables.proxies:
        # a proxy from HTTP_PROXY / HTTPS_PROXY: the step row says so, as it does for a setting
        from_variables = client.proxy_variables.proxy_for(request.url)
        if from_variables:
            redactor.add_values([urlsplit(from_variables).password])
            described.setdefault("connection", {})["proxy"] = redactor.url(from_variables)
    ctx.inputs = described
    cache = None
    if option is not None:
        cookie_header = cookies.header_for(request.url) if cookies is not None and len(cookies) else None
        cache = CacheUse.start(ctx, option, request, described, redactor, cookie_header)
        if cache is not None:
            cached = await cache.answer()
            if cached is not None:  # no request, so no retries, timeout or connection settings apply
                return {"response": {**_response_dict(cached, body_limit, redactor), "cached": True}}
    ctx.log("info", f"{request.method} {described['url']}")
    verify_off = settings.verify is False or (settings.verify is None and client.verify is False)
    if verify_off and ctx.http_state.first_time("verify-off"):
        ctx.log("warning", "TLS certificate verification is off for calls of this run (verify: false)")
    try:
        response, attempts = await send_with_retries(
            client,
            request,
            policy,
            redactor=redactor,
            deadline=ctx.deadline,
            on_attempt=ctx.record_attempt,
            cookies=cookies,
        )
    except HttpCallError as exc:
        if exc.response is not None:
            exc.response.discard_file()
        output = {"response": _response_dict(exc.response, body_limit, redactor)} if exc.response else None
        raise NodeFailure(
            redactor.scrub(exc.message), error_type=exc.error_type, attempts=exc.attempts, output=output
        ) from None
    if response.body_file is not None:
        try:
            response.saved_to, response.size = response.body_file.commit()
        except OSError as exc:
            raise NodeFailure(redactor.scrub(str(exc)), error_type="other", attempts=attempts) from None
        ctx.log(
            "info", f"{request.method} {described['url']}: {response.size} bytes saved to {response.saved_to}"
        )
    ctx.record_metric("http_status", response.status)
    ctx.record_metric("http_elapsed_ms", round(response.elapsed_ms, 3))
    if attempts > 1:
        ctx.log(
            "info",
            f"{request.method} {described['url']} answered {response.status} after {attempts} attempts",
        )
    if cache is not None:
        await cache.keep(response, body_limit)
    return {"response": _response_dict(response, body_limit, redactor)}


def _cache_option(config: Mapping[str, Any], api: Any) -> CacheOption | None:
    """The cache option of the call: the node's `cache` when it has one, else its API definition's."""
    node_option = config.get("cache")
    if node_option is not None:
        where = "the node"
    else:
        node_option = getattr(api, "cache", None)
        where = f"the API '{api.name}'" if api is not None else "the node"
    try:
        return parse_cache_option(node_option, where)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def _has_url(config: Mapping[str, Any]) -> bool:
    return isinstance(config.get("url"), str)


def _config_without_url_password(config: Mapping[str, Any], redactor: Redactor) -> Any:
    """The node's config for a step row that failed before the request was built: the URL's
    credentials masked."""
    if not _has_url(config):
        return config
    return {**config, "url": redactor.url(config["url"])}
