"""The API library's export rule: credentials written literally never leave in a workflow file.

`auth` values that carry a credential (token, password, API key value, client secret, AWS secret key
and session token: the fields the node types' descriptors mark `x-secret`), HTTP
headers that carry one (Authorization, Proxy-Authorization, Cookie, X-API-Key) and the password of a
URL or proxy URL (`https://user:pw@host`, the `url`, and `proxy` of a node or an API's `connection`)
are replaced by `***` in `apis[]` and in every node's `config`, unless they are templates (`{{secrets.NAME}}`, or text
holding `{{...}}`): a reference is what a shared file should carry. Registered with
`add_redaction_rule` when `flowdesk.interchange` is imported.
"""

from __future__ import annotations

from typing import Any

from ..domain.node_descriptors import AUTH_SECRET_FIELDS, describe
from .export_redaction import add_redaction_rule, export_node_types

MASK = "***"
CREDENTIAL_FIELDS = AUTH_SECRET_FIELDS
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def _literal(value: Any) -> bool:
    return isinstance(value, str) and value != "" and "{{" not in value and value != MASK


def _mask_auth(auth: Any) -> None:
    if not isinstance(auth, dict):
        return
    for key in CREDENTIAL_FIELDS:
        if _literal(auth.get(key)):
            auth[key] = MASK


def _mask_headers(headers: Any) -> None:
    if not isinstance(headers, dict):
        return
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() in CREDENTIAL_HEADERS and _literal(value):
            headers[name] = MASK


def _mask_url_password(holder: Any, key: str) -> None:
    """`scheme://user:password@host...` keeps the user, the password becomes *** (a literal one)."""
    url = holder.get(key) if isinstance(holder, dict) else None
    if not isinstance(url, str) or "@" not in url or "://" not in url:
        return
    scheme, rest = url.split("://", 1)
    authority, sep, tail = rest.partition("/")
    if "@" not in authority:
        return
    userinfo, host = authority.rsplit("@", 1)
    user, colon, password = userinfo.partition(":")
    if colon and _literal(password):
        holder[key] = f"{scheme}://{user}:{MASK}@{host}{sep}{tail}"


def _mask_request(holder: Any) -> None:
    if isinstance(holder, dict):
        _mask_auth(holder.get("auth"))
        _mask_headers(holder.get("headers"))
        _mask_url_password(holder, "url")
        _mask_url_password(holder, "proxy")
        _mask_url_password(holder.get("connection"), "proxy")


@add_redaction_rule
def mask_literal_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """Replace literal credentials in `apis[]` and node configs (the file's workflow's and each
    carried sub-workflow's) by *** (references are kept)."""
    for api in document.get("apis") or ():
        _mask_request(api)
    carried = [w.get("nodes") for w in document.get("workflows") or () if isinstance(w, dict)]
    for nodes in (document.get("nodes"), *carried):  # the carried sub-workflows' nodes too (format 2)
        for node in nodes or ():
            if isinstance(node, dict):
                _mask_request(node.get("config"))
                _mask_secret_fields(node)
    for registration in document.get("node_types") or ():
        if isinstance(registration, dict):
            _mask_secret_defaults(registration.get("config_schema"))
    return document


def _mask_secret_defaults(schema: Any) -> None:
    """A carried custom type's `x-secret` fields keep no literal `default` (the full JSON Schema
    form, nested objects too): it would be a credential in the file."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for field in (properties or {}).values():
        if not isinstance(field, dict):
            continue
        if field.get("x-secret") and _literal(field.get("default")):
            field["default"] = MASK
        _mask_secret_defaults(field)


def _mask_secret_fields(node: dict[str, Any]) -> None:
    """Literal values of the fields the node's type marks as secrets (`auth.token`, a custom type's
    `x-secret` field) become ***."""
    config = node.get("config")
    if not isinstance(config, dict) or not isinstance(node.get("node_type"), str):
        return
    for path in describe(node["node_type"], export_node_types()).secret_fields:
        holder: Any = config
        *parents, last = path.split(".")
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and _literal(holder.get(last)):
            holder[last] = MASK
