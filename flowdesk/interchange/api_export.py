"""API definitions back out: one as a copy-pasteable curl command, the library as an OpenAPI 3.0.3 document.

Secrets are never written: `{{secrets.*}}` placeholders stay as they are, and auth in the OpenAPI document
is described by security schemes only. docs/api-import.md has the rules.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from flowdesk.domain.json_names import json_type
from flowdesk.domain.models import ApiDefinition, ApiParameter

_PLACEHOLDER = re.compile(
    r"\{\{\s*(?P<root>[A-Za-z_]\w*)\s*(?:\.\s*(?P<attr>[A-Za-z_]\w*)|\[\s*\"(?P<key>(?:[^\"\\]|\\.)*)\"\s*\])\s*\}\}"
)
_PARAM_PLACEHOLDER = re.compile(
    r"\{\{\s*(?:params|env)\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\])\s*\}\}"
)
_ENV_BASE = re.compile(r"\{\{\s*env\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\])\s*\}\}")
_SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|password|passwd|api[-_]?key|session", re.I)
_DEFAULT_TIMEOUT = 30.0
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


# -- curl -----------------------------------------------------------------------------------------
def to_curl(api: ApiDefinition, *, resolved: Mapping[str, Any] | None = None) -> str:
    """A bash curl command for `api`.

    `resolved` maps roots to values (e.g. {"env": {...}, "params": {...}}) used to fill simple
    `{{root.name}}` placeholders; anything not found, and every `{{secrets.*}}`, is left as written.
    """

    def fill(text: str) -> str:
        return _fill(text, resolved) if resolved else text

    lines: list[str] = []
    comments: list[str] = []
    headers: list[tuple[str, str]] = [(fill(k), fill(str(v))) for k, v in api.headers.items()]
    query = [(fill(k), fill(str(v))) for k, values in api.query.items() for v in _as_list(values)]
    auth = api.auth or {}
    kind = str(auth.get("type") or "none")
    user: str | None = None
    if kind == "bearer":
        headers.append(("Authorization", f"Bearer {fill(str(auth.get('token', '')))}"))
    elif kind in ("basic", "digest"):
        user = f"{fill(str(auth.get('username', '')))}:{fill(str(auth.get('password', '')))}"
    elif kind == "aws_sigv4":
        user = f"{fill(str(auth.get('access_key', '')))}:{fill(str(auth.get('secret_key', '')))}"
        if auth.get("session_token"):
            headers.append(("X-Amz-Security-Token", fill(str(auth["session_token"]))))
    elif kind == "api_key":
        pair = (fill(str(auth.get("name", ""))), fill(str(auth.get("value", ""))))
        (query if auth.get("in") == "query" else headers).append(pair)
    elif kind == "oauth2_client_credentials":
        comments.append(
            f"# OAuth2 client credentials: get a token from {fill(str(auth.get('token_url', '')))}"
            f" (client id {auth.get('client_id', '')}) and put it in the Authorization header."
        )
        headers.append(("Authorization", "Bearer <access token>"))
    elif kind == "oauth2_authorization_code":
        comments.append(
            f"# OAuth2 sign-in: sign in at {fill(str(auth.get('authorization_url', '')))}"
            f" (client id {auth.get('client_id', '')}, e.g. `flowdesk api signin NAME`) and put the"
            " access token in the Authorization header."
        )
        headers.append(("Authorization", "Bearer <access token>"))

    url = fill(api.url)
    if query:
        url += ("&" if "?" in url else "?") + "&".join(f"{_query_part(k)}={_query_part(v)}" for k, v in query)
    body_args = _curl_body(api, fill)
    method = api.method.upper()
    head = "curl"
    if method == "HEAD" and not body_args:
        head += " -I"
    elif not (method == "GET" and not body_args) and not (method == "POST" and body_args):
        head += f" -X {method if re.fullmatch(r'[A-Z0-9_-]+', method) else _quote(method)}"
    if re.search(r"[{}\[\]]", url):
        head += " --globoff"  # curl would read {..} and [..] in the URL as globs
    lines.append(f"{head} {_quote(url)}")
    content_type = api.content_type
    if content_type and not content_type.lower().startswith(_MULTIPART):
        lines.append(f"-H {_quote('Content-Type: ' + fill(content_type))}")
    for name, value in headers:
        lines.append(f"-H {_quote(f'{name}: {value}' if value else f'{name};')}")
    if user is not None:
        if kind == "aws_sigv4":
            provider = f"aws:amz:{fill(str(auth.get('region', '')))}:{fill(str(auth.get('service', '')))}"
            lines.append(f"--aws-sigv4 {_quote(provider)}")
        lines.append(f"{'--digest ' if kind == 'digest' else ''}-u {_quote(user)}")
    if api.timeout != _DEFAULT_TIMEOUT:
        lines.append(f"--max-time {api.timeout:g}")
    lines.extend(body_args)
    return "\n".join([*comments, " \\\n  ".join(lines)])


def _curl_body(api: ApiDefinition, fill) -> list[str]:
    body = api.body
    if body is None:
        return []
    content_type = (api.content_type or "").lower()
    if isinstance(body, dict) and content_type.startswith(_FORM):
        return [
            f"--data-urlencode {_quote(f'{fill(str(k))}={fill(_scalar(v))}')}"
            for k, values in body.items()
            for v in _as_list(values)
        ]
    if isinstance(body, dict) and (api.body_type == "multipart" or content_type.startswith(_MULTIPART)):
        return [
            _curl_form_part(fill(str(k)), v, fill) for k, values in body.items() for v in _as_list(values)
        ]
    if isinstance(body, str):
        return [f"--data-raw {_quote(fill(body))}"]
    return [f"--data-raw {_quote(fill(json.dumps(body, ensure_ascii=False, separators=(',', ':'))))}"]


def _curl_form_part(name: str, value: Any, fill) -> str:
    """One multipart field as curl's -F (a file part {"path", "filename"?, "content_type"?}) or --form-string."""
    if isinstance(value, dict) and "path" in value:
        spec = f'{name}=@"{_form_quoted(fill(str(value["path"])))}"'
        if value.get("content_type"):
            spec += f";type={fill(str(value['content_type']))}"
        if value.get("filename"):
            spec += f';filename="{_form_quoted(fill(str(value["filename"])))}"'
        return f"-F {_quote(spec)}"
    return f"--form-string {_quote(f'{name}={fill(_scalar(value))}')}"


def _form_quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _query_part(text: str) -> str:
    """Percent-encode query text, leaving `{{ ... }}` placeholders readable."""
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"\{\{.*?\}\}", text):
        out.append(quote(text[pos : match.start()], safe=""))
        out.append(match.group(0))
        pos = match.end()
    out.append(quote(text[pos:], safe=""))
    return "".join(out)


def _quote(text: str) -> str:
    """Quote for bash: single quotes, or $'...' when the text holds control characters."""
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text):
        escaped = "".join(_ansi_char(c) for c in text)
        return f"$'{escaped}'"
    return "'" + text.replace("'", "'\\''") + "'"


def _ansi_char(char: str) -> str:
    specials = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    if char in specials:
        return specials[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\x{ord(char):02x}"
    return char


def _fill(text: str, resolved: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        root = match.group("root")
        if root == "secrets":
            return match.group(0)
        values = resolved.get(root)
        name = match.group("attr") if match.group("attr") is not None else _unescape(match.group("key"))
        if isinstance(values, Mapping) and name in values and values[name] is not None:
            return _scalar(values[name])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _unescape(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text


# -- OpenAPI --------------------------------------------------------------------------------------
def library_to_openapi(
    apis: list[ApiDefinition],
    *,
    title: str = "flowdesk API library",
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An OpenAPI 3.0.3 document describing `apis` (secrets never included).

    `{{env.base_url}}` at the start of a URL becomes the server `{base_url}` whose default is the value in
    `environment` (else http://localhost). Definitions whose method and path clash with an earlier one are
    listed under `x-flowdesk-skipped`.
    """
    environment = environment or {}
    entries = [(api, *_split_url(api.url, environment)) for api in apis]
    common = Counter(json.dumps(server, sort_keys=True) for _, server, _, _ in entries if server)
    main_server = json.loads(common.most_common(1)[0][0]) if common else None
    document: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": title, "version": "1.0.0"}}
    if main_server is not None:
        document["servers"] = [main_server]
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, dict[str, Any]] = {}
    skipped: list[dict[str, str]] = []
    operation_ids: set[str] = set()
    tags: set[str] = set()
    for api, server, path, url_query in entries:
        method = api.method.lower()
        item = paths.setdefault(path, {})
        if method in item:
            skipped.append(
                {
                    "name": api.name,
                    "reason": f"{api.method.upper()} {path} is already taken by another definition",
                }
            )
            continue
        operation_id, n = api.name, 2
        while operation_id in operation_ids:
            operation_id = f"{api.name} ({n})"
            n += 1
        operation_ids.add(operation_id)
        operation: dict[str, Any] = {"operationId": operation_id}
        if api.description:
            operation["description"] = api.description
        if api.tags:
            operation["tags"] = list(api.tags)
            tags.update(api.tags)
        if server is not None and server != main_server:
            operation["servers"] = [server]
        parameters = _operation_parameters(api, path, url_query)
        if parameters:
            operation["parameters"] = parameters
        request_body = _request_body(api)
        if request_body is not None:
            operation["requestBody"] = request_body
        accept = next((v for k, v in api.headers.items() if k.lower() == "accept"), None)
        response: dict[str, Any] = {"description": "Response"}
        if accept and "{{" not in accept:
            response["content"] = {accept: {}}
        if api.response_schema is not None:  # what an import read from the answer's JSON media type
            media = (
                accept if accept and "{{" not in accept and "json" in accept.lower() else "application/json"
            )
            response["content"] = {**response.get("content", {}), media: {"schema": api.response_schema}}
        operation["responses"] = {"200": response}
        if api.cache is not None:  # flowdesk's response cache, read back by the OpenAPI importer
            operation["x-flowdesk-cache"] = dict(api.cache)
        security = _security(api.auth, schemes)
        if security is not None:
            operation["security"] = security
        item[method] = operation
    document["paths"] = {p: item for p, item in paths.items() if item}
    if tags:
        document["tags"] = [{"name": t} for t in sorted(tags)]
    if schemes:
        document["components"] = {"securitySchemes": schemes}
    if skipped:
        document["x-flowdesk-skipped"] = skipped
    return document


def _split_url(
    url: str, environment: Mapping[str, str]
) -> tuple[dict[str, Any] | None, str, list[tuple[str, str]]]:
    """(server object or None, OpenAPI path, query pairs written in the URL)."""
    url, _, query_text = url.partition("?")
    query = [(k, v) for k, _, v in (part.partition("=") for part in query_text.split("&") if part)]
    server: dict[str, Any] | None = None
    match = _ENV_BASE.match(url)
    if match:
        variable = match.group(1) or _unescape(match.group(2))
        default = environment.get(variable) or "http://localhost"
        server = {"url": "{" + variable + "}", "variables": {variable: {"default": str(default)}}}
        rest = url[match.end() :]
    elif re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        parts = urlsplit(url)
        server = {"url": f"{parts.scheme}://{parts.netloc}"}
        rest = url[len(server["url"]) :]
    else:
        rest = url
    path = _PARAM_PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or _unescape(m.group(2))) + "}", rest)
    if not path.startswith("/"):
        path = "/" + path
    return server, path, query


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{([^{}/]+)\}", path)


def _parameter(p: ApiParameter) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.location, "required": p.required or p.location == "path"}
    if p.description:
        out["description"] = p.description
    out["schema"] = {"type": p.type or "string"}
    if p.example is not None:
        out["example"] = p.example
    return out


def _operation_parameters(
    api: ApiDefinition, path: str, url_query: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for p in api.parameters:
        if p.location in ("path", "query", "header") and (p.name, p.location) not in seen:
            out.append(_parameter(p))
            seen.add((p.name, p.location))
    for name in _path_names(path):
        if (name, "path") not in seen:
            out.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
            seen.add((name, "path"))
    for name, value in [*url_query, *api.query.items()]:
        if (name, "query") in seen:
            continue
        entry: dict[str, Any] = {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}
        if isinstance(value, list):
            entry["schema"] = {"type": "array", "items": {"type": "string"}}
        if not _is_placeholder(value):
            entry["example"] = value
        out.append(entry)
        seen.add((name, "query"))
    for name, value in api.headers.items():
        if name.lower() in ("accept", "content-type", "authorization") or (name, "header") in seen:
            continue
        if _SENSITIVE_HEADER.search(name) and not _is_placeholder(value):
            continue  # a literal credential: never exported
        entry = {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
        if not _is_placeholder(value):
            entry["example"] = value
        out.append(entry)
        seen.add((name, "header"))
    return out


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _request_body(api: ApiDefinition) -> dict[str, Any] | None:
    if api.body is None and not api.content_type:
        return None
    multipart = api.body_type == "multipart"
    content_type = _MULTIPART if multipart else api.content_type or "application/json"
    media: dict[str, Any] = {}
    if api.body is not None or any(p.location == "body" for p in api.parameters):
        media["schema"] = _body_schema(api)
    if api.body is not None:
        media["example"] = api.body
    if multipart and isinstance(api.body, dict):
        files = {k: v for k, v in api.body.items() if isinstance(v, dict) and "path" in v}
        # a file part's content is the file, not its path: the schema says binary, the example leaves it out
        media["example"] = {k: v for k, v in api.body.items() if k not in files} or None
        if media["example"] is None:
            del media["example"]
        properties = media["schema"].setdefault("properties", {})
        media["schema"]["type"] = "object"
        for name in files:
            properties[name] = {"type": "string", "format": "binary"}
        encoding = {n: {"contentType": p["content_type"]} for n, p in files.items() if p.get("content_type")}
        if encoding:
            media["encoding"] = encoding
    return {"content": {content_type: media}}


def _body_schema(api: ApiDefinition) -> dict[str, Any]:
    body_params = [p for p in api.parameters if p.location == "body"]
    if not body_params:
        # No body at all is described as an (empty) object, as before.
        return {"type": "object" if api.body is None else json_type(api.body)}
    properties: dict[str, Any] = {}
    for p in body_params:
        prop: dict[str, Any] = (
            {"type": "string", "format": "binary"} if p.type == "file" else {"type": p.type or "string"}
        )
        if p.description:
            prop["description"] = p.description
        if p.example is not None:
            prop["example"] = p.example
        properties[p.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [p.name for p in body_params if p.required]
    if required:
        schema["required"] = required
    return schema


def _secret_base(value: Any, suffix: str) -> str | None:
    match = re.fullmatch(r"\{\{\s*secrets\.([A-Za-z_]\w*)\s*\}\}", str(value or "").strip())
    if not match:
        return None
    name = match.group(1)
    if suffix:
        return (
            name[: -len(suffix) - 1] if name.endswith("_" + suffix) and len(name) > len(suffix) + 1 else None
        )
    return name


def _security(
    auth: Mapping[str, Any] | None, schemes: dict[str, dict[str, Any]]
) -> list[dict[str, list[str]]] | None:
    if not auth:
        return None
    kind = auth.get("type")
    scopes: list[str] = []
    if kind == "bearer":
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        name = _secret_base(auth.get("token"), "token") or "bearerAuth"
    elif kind == "basic":
        scheme = {"type": "http", "scheme": "basic"}
        name = _secret_base(auth.get("username"), "username") or "basicAuth"
    elif kind == "api_key":
        scheme = {"type": "apiKey", "in": auth.get("in", "header"), "name": str(auth.get("name", ""))}
        name = _secret_base(auth.get("value"), "") or "apiKeyAuth"
    elif kind in _OAUTH2_FLOWS:
        scopes = [str(s) for s in auth.get("scopes") or []]
        flow_name, flow = _oauth2_flow(auth)
        scheme = {"type": "oauth2", "flows": {flow_name: {**flow, "scopes": {s: "" for s in scopes}}}}
        name = _secret_base(auth.get("client_id"), "client_id") or _OAUTH2_FLOWS[kind]
    else:
        return None
    base, n = name, 2
    while name in schemes and not _same_scheme(schemes[name], scheme):
        name = f"{base}{n}"
        n += 1
    if name in schemes and scheme["type"] == "oauth2":
        ((flow_name, flow),) = scheme["flows"].items()
        schemes[name]["flows"][flow_name]["scopes"].update(flow["scopes"])
    else:
        schemes[name] = scheme
    return [{name: scopes}]


_OAUTH2_FLOWS = {
    "oauth2_client_credentials": "oauth2ClientCredentials",
    "oauth2_authorization_code": "oauth2AuthorizationCode",
}


def _oauth2_flow(auth: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The OpenAPI flow of an OAuth2 auth: its name and URLs (scopes are added by the caller)."""
    if auth.get("type") == "oauth2_client_credentials":
        return "clientCredentials", {"tokenUrl": str(auth.get("token_url", ""))}
    authorization = str(auth.get("authorization_url", ""))
    if str(auth.get("flow") or "code").lower() == "implicit":
        return "implicit", {"authorizationUrl": authorization}
    return "authorizationCode", {
        "authorizationUrl": authorization,
        "tokenUrl": str(auth.get("token_url", "")),
    }


def _same_scheme(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("type") == "oauth2" and b.get("type") == "oauth2":
        return _flow_urls(a["flows"]) == _flow_urls(b["flows"])
    return a == b


def _flow_urls(flows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The flows without their scopes (schemes differing only in scopes are one scheme)."""
    return {name: {k: v for k, v in flow.items() if k != "scopes"} for name, flow in flows.items()}
