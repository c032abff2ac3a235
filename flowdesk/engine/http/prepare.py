"""What an API call adds to a built request before it is sent: its auth and connection settings.

One function for both doors that send API definitions, the API_CALL node and the API library's Send
button, so a call tried in the dock goes exactly as the run will send it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .settings import DEFAULT_SETTINGS, SETTING_KEYS, ConnectionSettings, resolve_settings

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.domain.models import ApiDefinition

    from .redaction import Redactor
    from .request import HttpRequest

NODE_SETTING_KEYS = (*SETTING_KEYS, "cookies")


def complete_request(
    request: HttpRequest,
    config: Mapping[str, Any],
    api: ApiDefinition | None,
    render: Callable[[Any], Any],
    environment_settings: Mapping[str, Any],
    redactor: Redactor,
) -> None:
    """Set the request's auth (the node's, else the definition's, else credentials in the URL) and
    its connection settings (node over definition over environment), their secrets told to the
    redactor. Raises InvalidInputError (one sentence) for an unusable setting."""
    auth = config.get("auth") or (api.auth if api is not None else None)
    request.auth = render(auth) if auth else None
    if request.url_auth is not None:
        redactor.add_values([request.url_auth.get("password")])
        request.auth = request.auth or request.url_auth
    if request.auth:  # imported here (auth imports this package), and only when there is one
        from ..auth import register_auth_secrets

        register_auth_secrets(request.auth, redactor)
    request.settings = call_settings(config, api, render, environment_settings, redactor)


def call_settings(
    config: Mapping[str, Any],
    api: ApiDefinition | None,
    render: Callable[[Any], Any],
    environment_settings: Mapping[str, Any],
    redactor: Redactor,
) -> ConnectionSettings:
    """The call's connection settings, rendered; a proxy's password is told to the redactor."""
    node = {k: config[k] for k in NODE_SETTING_KEYS if config.get(k) is not None}
    from_api = api.connection if api is not None else None
    if not node and not from_api and not environment_settings:
        return DEFAULT_SETTINGS
    settings = resolve_settings(render(node), render(from_api or {}), render(dict(environment_settings)))
    if settings.proxy:
        redactor.add_values([urlsplit(settings.proxy).password])
    return settings
