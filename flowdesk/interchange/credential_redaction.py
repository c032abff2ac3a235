"""The API library's export rule: credentials written literally never leave in a workflow file.

`auth` values that carry a credential (token, password, API key value, client secret) and HTTP
headers that carry one (Authorization, Proxy-Authorization, Cookie, X-API-Key) are replaced by `***`
in `apis[]` and in every node's `config`, unless they are templates (`{{secrets.NAME}}`, or text
holding `{{...}}`): a reference is what a shared file should carry. Registered with
`add_redaction_rule` when `flowdesk.interchange` is imported.
"""

from __future__ import annotations

from typing import Any

from .export_redaction import add_redaction_rule

MASK = "***"
CREDENTIAL_FIELDS = ("token", "password", "value", "client_secret")
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


def _mask_request(holder: Any) -> None:
    if isinstance(holder, dict):
        _mask_auth(holder.get("auth"))
        _mask_headers(holder.get("headers"))


@add_redaction_rule
def mask_literal_credentials(document: dict[str, Any]) -> dict[str, Any]:
    """Replace literal credentials in `apis[]` and node configs by *** (references are kept)."""
    for api in document.get("apis") or ():
        _mask_request(api)
    for node in document.get("nodes") or ():
        if isinstance(node, dict):
            _mask_request(node.get("config"))
    return document
