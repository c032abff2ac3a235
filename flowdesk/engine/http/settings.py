"""Connection settings of one API call: proxy, TLS verification, client certificate, HTTP/2, cookies.

They come from three places, the first that sets a key winning: the API_CALL node's config, its API
definition (`ApiDefinition.connection`), the run's environment (variables named `http.proxy`,
`http.verify`, `http.client_cert`, `http.client_key`, `http.http2`). Without a `proxy` setting the
standard variables decide (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower
case, read as curl and httpx read them); `proxy: "none"` (or "") sends directly whatever they say.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flowdesk.domain.errors import InvalidInputError

SETTING_KEYS = ("proxy", "verify", "client_cert", "client_key", "http2")
ENVIRONMENT_PREFIX = "http."
"""Environment variables `http.proxy`, `http.verify`, ... are the environment's connection settings."""
NO_PROXY_WORDS = frozenset({"", "none", "direct", "off", "false"})


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How one request connects. `proxy` None means "as the proxy variables say"; `""` means direct."""

    proxy: str | None = None
    verify: bool | str | None = None
    """True, False, a CA bundle's path, or None: as the HTTP client was made (verifying by default)."""
    client_cert: str | None = None
    client_key: str | None = None
    http2: bool = False
    cookies: bool = True

    def describe(self, mask_url: Any) -> dict[str, Any]:
        """What the step row shows of the settings that differ from the defaults (proxy masked)."""
        shown: dict[str, Any] = {}
        if self.proxy is not None:
            shown["proxy"] = mask_url(self.proxy) if self.proxy else "none"
        if self.verify is not None:
            shown["verify"] = self.verify
        if self.client_cert is not None:
            shown["client_cert"] = self.client_cert
        if self.http2:
            shown["http2"] = True
        if not self.cookies:
            shown["cookies"] = False
        return shown

    @property
    def plain_tls(self) -> bool:
        """Whether TLS is what the fast pool does itself (verify on or off, no client certificate)."""
        return not isinstance(self.verify, str) and self.client_cert is None


DEFAULT_SETTINGS = ConnectionSettings()


def _flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InvalidInputError(f"{what} must be true or false, got {value!r}")


def _verify(value: Any, what: str) -> bool | str:
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in ("true", "1", "yes", "on", ""):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    if not os.path.exists(text):
        raise InvalidInputError(f"{what} names a CA bundle that does not exist: {text}")
    return text


def environment_settings(environment: Mapping[str, Any] | None) -> dict[str, Any]:
    """The connection settings an environment sets (its `http.*` variables, prefix removed)."""
    if not environment:
        return {}
    found = {}
    for key in SETTING_KEYS:
        value = environment.get(ENVIRONMENT_PREFIX + key)
        if value is not None:
            found[key] = value
    return found


def resolve_settings(
    node: Mapping[str, Any], api: Mapping[str, Any] | None, environment: Mapping[str, Any]
) -> ConnectionSettings:
    """The settings of one call: the node's keys over the API definition's over the environment's.

    Values are already rendered (templates such as `{{secrets.proxy_password}}` filled in).
    Raises InvalidInputError naming the setting when a value is unusable.
    """
    layers = [(node, "the node's"), (api or {}, "the API definition's"), (environment, "the environment's")]

    def pick(key: str) -> tuple[Any, str] | None:
        for values, where in layers:
            value = values.get(key)
            if value is not None:
                return value, f"{where} '{key}'"
        return None

    proxy: str | None = None
    if (found := pick("proxy")) is not None:
        proxy = str(found[0]).strip()
        if proxy.lower() in NO_PROXY_WORDS:
            proxy = ""
        else:
            _check_proxy_url(proxy, found[1])
    verify: bool | str | None = None
    if (found := pick("verify")) is not None:
        verify = _verify(found[0], found[1])
    cert = key = None
    if (found := pick("client_cert")) is not None and str(found[0]).strip():
        cert = str(found[0]).strip()
        if not os.path.exists(cert):
            raise InvalidInputError(f"{found[1]} names a file that does not exist: {cert}")
        if (found_key := pick("client_key")) is not None and str(found_key[0]).strip():
            key = str(found_key[0]).strip()
            if not os.path.exists(key):
                raise InvalidInputError(f"{found_key[1]} names a file that does not exist: {key}")
    http2 = _flag(found[0], found[1]) if (found := pick("http2")) is not None else False
    cookies = _flag(node["cookies"], "the node's 'cookies'") if node.get("cookies") is not None else True
    settings = ConnectionSettings(proxy, verify, cert, key, http2, cookies)
    return DEFAULT_SETTINGS if settings == DEFAULT_SETTINGS else settings


def _check_proxy_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"{parts.scheme}://…" if parts.scheme else "a URL without a scheme"
        raise InvalidInputError(f"{what} must be an http:// or https:// proxy URL, got {shown}")


# -- the proxy variables ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyVariables:
    """A snapshot of the proxy variables (read once per client: reading the environment is slow)."""

    proxies: tuple[tuple[str, str], ...]

    @classmethod
    def read(cls) -> ProxyVariables:
        found = urllib.request.getproxies_environment()  # lower case wins, as with curl and httpx
        return cls(tuple(sorted(found.items())))

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL these variables give for `url`, or None (direct, NO_PROXY included)."""
        if not self.proxies:
            return None
        return _proxy_for(self.proxies, url)


@lru_cache(maxsize=1024)
def _proxy_for(proxies: tuple[tuple[str, str], ...], url: str) -> str | None:
    values = dict(proxies)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # not a URL that can be sent: sending it says so in one sentence
        return None
    netloc = host if port is None else f"{host}:{port}"
    if "no" in values and _bypass(netloc, values["no"]):
        return None
    proxy = values.get(parts.scheme) or values.get("all")
    if not proxy:
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy  # as curl reads "proxy.example:3128"
    return proxy


def _bypass(netloc: str, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it: `*`, host names (suffix match, a leading dot optional), host:port."""
    return bool(urllib.request.proxy_bypass_environment(netloc, {"no": no_proxy}))  # type: ignore[attr-defined]


def effective_proxy(settings: ConnectionSettings, url: str, variables: ProxyVariables) -> str | None:
    """The proxy one request goes through: the `proxy` setting, else the variables; None = direct."""
    if settings.proxy is not None:
        return settings.proxy or None
    return variables.proxy_for(url)


# -- TLS ------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def ssl_context_for(
    verify: bool | str, client_cert: str | None, client_key: str | None, http2: bool = False
) -> ssl.SSLContext:
    """An SSL context for the library path (one per combination: loading CAs is slow).

    Never the fast pool's context: httpcore sets ALPN protocols on the context it is given, and the
    pool must keep offering HTTP/1.1 only.
    """
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify is True:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    else:
        try:
            context = ssl.create_default_context(cafile=verify)
        except (ssl.SSLError, OSError) as exc:
            raise InvalidInputError(
                f"the CA bundle {verify} could not be read ({exc.__class__.__name__})"
            ) from None
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert, client_key)
        except (ssl.SSLError, OSError):
            raise InvalidInputError(
                f"the client certificate {client_cert} (key {client_key or 'in the same file'})"
                " could not be loaded"
            ) from None
    return context
