"""OpenAPI / Swagger security schemes to flowdesk's auth dict (docs/api-import.md has the shapes).

Values are always secret references named after the scheme, so nothing secret is written by an import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .placeholders import secret, secret_name


def scheme_to_auth(
    name: str, scheme: Any, scopes: list[str], report: Callable[[str], None]
) -> dict[str, Any] | None:
    """The auth dict for one security scheme (3.x or Swagger 2 shape); None and a report when unsupported."""
    if not isinstance(scheme, dict):
        report(f"security scheme '{name}' is not an object; no auth was set")
        return None
    kind = str(scheme.get("type", "")).strip()
    if kind == "basic":  # Swagger 2
        return _basic(name)
    if kind == "http":
        http = str(scheme.get("scheme", "")).lower()
        if http == "bearer":
            return {"type": "bearer", "token": secret(secret_name(name, "token"))}
        if http == "basic":
            return _basic(name)
        report(
            f"security scheme '{name}' uses HTTP '{http}' auth, which flowdesk does not support; no auth was set"
        )
        return None
    if kind == "apiKey":
        where = scheme.get("in")
        key = scheme.get("name")
        if where in ("header", "query") and isinstance(key, str) and key:
            return {"type": "api_key", "in": where, "name": key, "value": secret(secret_name(name))}
        report(
            f"security scheme '{name}' sends an API key in '{where}', which flowdesk does not support; no auth was set"
        )
        return None
    if kind == "oauth2":
        token_url = _client_credentials_token_url(scheme)
        if token_url is None:
            flows = (
                sorted((scheme.get("flows") or {}).keys())
                if isinstance(scheme.get("flows"), dict)
                else [str(scheme.get("flow", "?"))]
            )
            report(
                f"security scheme '{name}' is OAuth2 with flow {', '.join(flows) or '?'}; flowdesk supports only "
                "client credentials, so no auth was set"
            )
            return None
        return {
            "type": "oauth2_client_credentials",
            "token_url": token_url,
            "client_id": secret(secret_name(name, "client_id")),
            "client_secret": secret(secret_name(name, "client_secret")),
            "scopes": [str(s) for s in scopes],
        }
    report(
        f"security scheme '{name}' has type '{kind or '?'}', which flowdesk does not support; no auth was set"
    )
    return None


def _basic(name: str) -> dict[str, Any]:
    return {
        "type": "basic",
        "username": secret(secret_name(name, "username")),
        "password": secret(secret_name(name, "password")),
    }


def _client_credentials_token_url(scheme: dict[str, Any]) -> str | None:
    flows = scheme.get("flows")
    if isinstance(flows, dict):  # OpenAPI 3
        flow = flows.get("clientCredentials")
        if isinstance(flow, dict) and isinstance(flow.get("tokenUrl"), str):
            return flow["tokenUrl"]
        return None
    if scheme.get("flow") == "application" and isinstance(scheme.get("tokenUrl"), str):  # Swagger 2
        return scheme["tokenUrl"]
    return None


def operation_auth(
    requirements: Any,
    schemes: dict[str, Any],
    lookup: Callable[[Any], Any],
    report: Callable[[str], None],
) -> dict[str, Any] | None:
    """Auth for an operation from its security requirements (the first alternative that flowdesk supports)."""
    if not isinstance(requirements, list) or not requirements:
        return None
    alternatives = [r for r in requirements if isinstance(r, dict)]
    if alternatives and not alternatives[0]:
        return None  # `{}` first: auth is optional
    for requirement in alternatives:
        if not requirement:
            continue
        if len(requirement) > 1:
            report(
                f"the operation needs several security schemes at once ({', '.join(requirement)}); "
                f"only '{next(iter(requirement))}' was set"
            )
        name, scopes = next(iter(requirement.items()))
        if name not in schemes:
            report(f"security scheme '{name}' is not defined in the document; no auth was set")
            continue
        auth = scheme_to_auth(name, lookup(schemes[name]), scopes if isinstance(scopes, list) else [], report)
        if auth is not None:
            return auth
    return None
