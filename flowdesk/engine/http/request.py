"""Building one HTTP request from an API definition and an API_CALL node's config."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from flowdesk.domain.errors import InvalidInputError

from .multipart import MultipartBody, multipart_body
from .settings import DEFAULT_SETTINGS, ConnectionSettings

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.domain.models import ApiDefinition

    from .redaction import Redactor

DEFAULT_TIMEOUT = 30.0
BODY_TYPES = ("auto", "multipart")
"""`auto`: JSON for objects and lists, text for strings, a form with the urlencoded content type."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_PATH_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_.-]*)\}(?!\})")


@dataclass
class HttpRequest:
    """One HTTP request, rendered: what HttpClient.send sends (auth is applied at send time)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    form: dict[str, Any] | None = None
    timeout: float = DEFAULT_TIMEOUT
    auth: dict[str, Any] | None = None
    follow_redirects: bool = True
    multipart: MultipartBody | None = None
    settings: ConnectionSettings = DEFAULT_SETTINGS
    url_auth: dict[str, Any] | None = None
    """Basic auth from credentials in the URL (`https://user:pw@host/`), taken out of `url`."""
    body_limit: int | None = None  # decoded body bytes kept; None: the client's body_limit
    save_to: str | None = None  # a file path: the whole body is streamed there (body.BodyFile)

    @property
    def has_json(self) -> bool:
        return self.json is not None and self.content is None and self.form is None and self.multipart is None

    def describe(self, redactor: Redactor | None = None) -> dict[str, Any]:
        """What the step log shows of this request: auth headers and secret values as ***."""
        body: Any
        if self.multipart is not None:
            body = self.multipart.describe()
        elif self.form is not None:
            body = self.form
        elif self.content is not None:
            body = self.content.decode("utf-8", "replace")
        else:
            body = self.json
        described = {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "query": dict(self.query),
            "body": body,
            "timeout": self.timeout,
        }
        if redactor is not None:
            described["url"] = redactor.url(self.url)
            described["headers"] = redactor.headers(self.headers)
            described["query"] = redactor.query(self.query)
            described["body"] = redactor.scrub_value(body)
        if self.auth:
            from ..auth import auth_placeholders

            described["auth"] = str(self.auth.get("type", "none"))
            auth_headers, auth_query = auth_placeholders(self.auth)
            described["headers"] = {**described["headers"], **auth_headers}
            described["query"] = {**described["query"], **auth_query}
        return described


def template_params(values: Iterable[Any]) -> set[str]:
    """Names of `params.NAME` that the templates inside `values` (deeply) read."""
    from flowdesk.domain.expressions import references

    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "{{" in value:
                for path in references(value):
                    if len(path) >= 2 and path[0] == "params":
                        found.add(str(path[1]))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    for value in values:
        walk(value)
    return found


def _merge(base: Any, over: Any) -> Any:
    """`over` merged over `base` when both are objects (one level), else `over` when given."""
    if over is None:
        return base
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        return {**base, **over}
    return over


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_query_value(v) for v in value if v is not None]
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _as_mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be an object of names to values, got {type(value).__name__}")
    return dict(value)


def _timeout(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise InvalidInputError(f"{what} must be more than 0 seconds, got {value!r}")
    return seconds


def build_request(
    config: Mapping[str, Any],
    api: ApiDefinition | None,
    params: Mapping[str, Any],
    render: Callable[[Any], Any],
) -> HttpRequest:
    """The request an API_CALL node sends.

    `config` is the node's raw config, `api` its API definition (None for an inline call),
    `params` the node's rendered `parameters`, `render` renders templates with `params.*` in scope.
    Node `method`/`url` win over the definition's; node `headers`/`query`/`body` merge over the
    definition's; parameters that no template reads go where the definition declares them, else
    to the query string (GET/DELETE/HEAD/OPTIONS) or into the JSON body (POST/PUT/PATCH).
    """
    method = str(config.get("method") or (api.method if api else "") or "GET").upper()
    if method not in METHODS:
        raise InvalidInputError(f"'{method}' is not an HTTP method flowdesk can send")
    url_template = config.get("url") or (api.url if api else None)
    if not url_template:
        raise InvalidInputError("an API_CALL node needs an 'api_id' or a 'url'")

    url = render(url_template)
    if not isinstance(url, str):
        raise InvalidInputError(f"the url rendered to {type(url).__name__}, not text")
    headers = _as_mapping(render(api.headers) if api else None, "the API's headers")
    headers.update(_as_mapping(render(config.get("headers")), "'headers'"))
    query = _as_mapping(render(api.query) if api else None, "the API's query")
    node_query = _as_mapping(render(config.get("query")), "'query'")
    body = render(api.body) if api is not None else None
    node_body = render(config.get("body"))

    extra_query: dict[str, Any] = {}
    extra_body: dict[str, Any] = {}
    used: set[str] = set()
    declared: dict[str, str] = {}
    if params:
        templates: list[Any] = [url_template, config.get("headers"), config.get("query"), config.get("body")]
        if api is not None:
            templates += [api.url, api.headers, api.query, api.body, api.auth]
        used = template_params(templates)
        declared = {p.name: p.location for p in api.parameters} if api is not None else {}
    for name, value in params.items():
        if name in used:
            continue
        where = declared.get(name)
        if where == "path" or (where is None and f"{{{name}}}" in url):
            url = url.replace(f"{{{name}}}", quote(str(value), safe=""))
        elif where == "header":
            headers[name] = value
        elif where == "query":
            extra_query[name] = value
        elif where == "body" or (where is None and method in BODY_METHODS):
            extra_body[name] = value
        else:
            extra_query[name] = value

    query = {**query, **extra_query, **node_query}
    if extra_body:
        if body is None or isinstance(body, Mapping):
            body = {**(body or {}), **extra_body}
        else:
            query = {**extra_body, **query}  # a non-object body cannot take fields: they go to the query
    body = _merge(body, node_body)

    problem = _url_problem(url)
    if problem:
        raise InvalidInputError(problem)

    content_type = config.get("content_type") or (api.content_type if api else None)
    body_type = str(config.get("body_type") or (api.body_type if api else None) or "").strip().lower()
    if body_type and body_type not in BODY_TYPES:
        raise InvalidInputError(f"body_type must be one of {', '.join(BODY_TYPES)}, got {body_type!r}")
    if body_type == "multipart" or str(content_type or "").lower().startswith("multipart/form-data"):
        body_type = "multipart"
        if content_type and "boundary=" not in content_type.lower():
            content_type = None  # the boundary is chosen when the body is written
    request = HttpRequest(method=method, url=url)
    request.headers = {str(k): _header_value(v) for k, v in headers.items() if v is not None}
    request.query = {str(k): _query_value(v) for k, v in query.items() if v is not None}
    if body_type == "multipart":
        _drop_boundaryless_multipart(request.headers)
        if body is not None:
            request.multipart = multipart_body(body)
    else:
        _set_body(request, body, content_type)
    request.url, request.url_auth = split_url_credentials(request.url)
    request.timeout = (
        _timeout(config.get("timeout"), "'timeout'")
        or (_timeout(api.timeout, "the API's timeout") if api else None)
        or DEFAULT_TIMEOUT
    )
    return request


@lru_cache(maxsize=1024)
def _url_problem(url: str) -> str | None:
    """Why `url` cannot be sent (placeholders left, not absolute http(s)), or None; cached, since a
    workflow calls the same few URLs many times."""
    parts = urlsplit(url)
    missing = _PATH_PLACEHOLDER.findall(parts.path) if "{" in parts.path else None
    if missing:
        return f"the url still has placeholders for {', '.join(missing)}: give them as parameters"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the url {url!r} is not an absolute http(s) URL"
    return None


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _set_body(request: HttpRequest, body: Any, content_type: str | None) -> None:
    if body is None or request.method in ("GET", "HEAD") and body in ({}, ""):
        return
    ctype = (content_type or "").lower()
    if isinstance(body, Mapping) and "application/x-www-form-urlencoded" in ctype:
        request.form = {str(k): _query_value(v) for k, v in body.items() if v is not None}
    elif isinstance(body, bytes):
        request.content = body
    elif isinstance(body, str):
        # Raw text (also a JSON text kept as a string) is sent as it is, never JSON-encoded again.
        request.content = body.encode("utf-8")
        if not _has_header(request.headers, "content-type"):
            request.headers["Content-Type"] = content_type or "text/plain; charset=utf-8"
        return
    else:
        request.json = body
    if content_type and not _has_header(request.headers, "content-type"):
        request.headers["Content-Type"] = content_type


def _drop_boundaryless_multipart(headers: dict[str, str]) -> None:
    """A `Content-Type: multipart/form-data` without boundary is replaced by the one written."""
    for name in [k for k, v in headers.items() if k.lower() == "content-type"]:
        if "boundary=" not in headers[name].lower():
            del headers[name]


def split_url_credentials(url: str) -> tuple[str, dict[str, Any] | None]:
    """The URL without `user:password@`, and those credentials as a basic auth config (or None)."""
    if "@" not in url:
        return url, None
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    bare = parts._replace(netloc=host).geturl()
    return bare, {
        "type": "basic",
        "username": unquote(parts.username),
        "password": unquote(parts.password or ""),
    }
