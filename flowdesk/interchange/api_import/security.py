"""OpenAPI / Swagger security schemes to flowdesk's auth dict (docs/api-import.md has the shapes).

Values are always secret references named after the scheme, so nothing secret is written by an import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
        auth = _oauth2(name, scheme, [str(s) for s in scopes])
        if auth is None:
            flows = (
                sorted((scheme.get("flows") or {}).keys())
                if isinstance(scheme.get("flows"), dict)
                else [str(scheme.get("flow", "?"))]
            )
            report(
                f"security scheme '{name}' is OAuth2 with flow {', '.join(flows) or '?'}; flowdesk supports "
                "client credentials, authorization code and implicit, so no auth was set"
            )
        return auth
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


def _oauth2(name: str, scheme: dict[str, Any], scopes: list[str]) -> dict[str, Any] | None:
    """The auth for an OAuth2 scheme: client credentials when the scheme offers it (no browser needed),
    else the authorization code flow (with PKCE), else the implicit flow; None for the password flow."""
    flows = _oauth2_flows(scheme)
    credentials = flows.get("clientCredentials", {})
    if isinstance(credentials.get("tokenUrl"), str):
        return {
            "type": "oauth2_client_credentials",
            "token_url": credentials["tokenUrl"],
            "client_id": secret(secret_name(name, "client_id")),
            "client_secret": secret(secret_name(name, "client_secret")),
            "scopes": scopes,
        }
    code, implicit = flows.get("authorizationCode", {}), flows.get("implicit", {})
    if isinstance(code.get("authorizationUrl"), str) and isinstance(code.get("tokenUrl"), str):
        urls = {"authorization_url": code["authorizationUrl"], "token_url": code["tokenUrl"]}
        flow = "code"
    elif isinstance(implicit.get("authorizationUrl"), str):
        urls, flow = {"authorization_url": implicit["authorizationUrl"]}, "implicit"
    else:
        return None
    # A public client (RFC 8252): PKCE instead of a client secret; one can be added to the auth.
    return {
        "type": "oauth2_authorization_code",
        "flow": flow,
        **urls,
        "client_id": secret(secret_name(name, "client_id")),
        "scopes": scopes,
    }


_SWAGGER_FLOWS = {
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
    "implicit": "implicit",
}


def _oauth2_flows(scheme: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """OpenAPI 3's `flows`, or Swagger 2's one `flow` under its OpenAPI 3 name."""
    flows = scheme.get("flows")
    if isinstance(flows, dict):
        return {k: v for k, v in flows.items() if isinstance(v, dict)}
    flow = _SWAGGER_FLOWS.get(str(scheme.get("flow")))
    return {flow: scheme} if flow else {}


@dataclass
class OperationAuth:
    """What an operation's security requirement gives: one auth, plus API keys sent alongside it."""

    auth: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def operation_auth(
    requirements: Any,
    schemes: dict[str, Any],
    lookup: Callable[[Any], Any],
    report: Callable[[str], None],
) -> OperationAuth:
    """Auth for an operation from its security requirements: the first alternative flowdesk supports.

    An alternative naming several schemes needs them all at once (Plaid: client id, secret and version
    keys): one becomes the auth (a non-API-key scheme when there is one) and each other API key becomes a
    header or query parameter whose value is its secret.
    """
    if not isinstance(requirements, list) or not requirements:
        return OperationAuth()
    alternatives = [r for r in requirements if isinstance(r, dict)]
    if alternatives and not alternatives[0]:
        return OperationAuth()  # `{}` first: auth is optional
    for requirement in alternatives:
        if not requirement:
            continue
        auths: list[dict[str, Any]] = []
        usable = True
        for name, scopes in requirement.items():
            if name not in schemes:
                report(f"security scheme '{name}' is not defined in the document; no auth was set")
                usable = False
                break
            auth = scheme_to_auth(
                name, lookup(schemes[name]), scopes if isinstance(scopes, list) else [], report
            )
            if auth is None:
                usable = False
                break
            auths.append(auth)
        if not usable or not auths:
            continue
        main = next((a for a in auths if a["type"] != "api_key"), auths[0])
        out = OperationAuth(auth=main)
        for extra in auths:
            if extra is main:
                continue
            if extra["type"] != "api_key":
                report(
                    f"the operation needs several security schemes at once ({', '.join(requirement)}); "
                    f"flowdesk sends one {main['type']} auth, so the {extra['type']} one was not set"
                )
                continue
            (out.query if extra["in"] == "query" else out.headers)[extra["name"]] = extra["value"]
        return out
    return OperationAuth()
