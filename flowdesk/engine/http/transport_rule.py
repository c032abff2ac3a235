"""The transport rule: which path one request takes.

The fast HTTP/1.1 pool (http1.py, or the transport the client was made with) takes a plain direct
request it fully supports; anything else goes through httpx (library.py). One function decides;
docs/http.md has the table; tests/engine/test_http_field.py checks it case by case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .request import HttpRequest

POOL = "pool"
LIBRARY = "library"


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes (`POOL` or `LIBRARY`), why, and through which proxy (None: direct)."""

    path: str
    reason: str
    proxy: str | None = None


PLAIN = Route(POOL, "a plain direct request")


def choose_route(
    request: HttpRequest,
    proxy: str | None,
    *,
    client_verify: bool = True,
    pool_keeps_cookies: bool = True,
    cookies: bool = False,
) -> Route:
    """The path of one request: the pool for a plain direct request, else the library, with why.

    `proxy` is the proxy this request goes through (settings.effective_proxy), `client_verify` the
    pool's own verification (True, or False for a client made with verify=False), `cookies` whether
    the run's jar holds cookies, `pool_keeps_cookies` False for the aiohttp transport (it follows
    redirects itself, so cannot keep cookies set inside a redirect chain).
    """
    settings = request.settings
    if proxy is not None:
        return Route(LIBRARY, "a proxy", proxy)
    if settings.http2:
        return Route(LIBRARY, "HTTP/2")
    if settings.client_cert is not None:
        return Route(LIBRARY, "a client certificate")
    if settings.verify is not None and settings.verify is not client_verify:
        return Route(LIBRARY, "a CA bundle" if isinstance(settings.verify, str) else "verification off")
    if request.multipart is not None:
        return Route(LIBRARY, "a multipart body")
    if request.auth and str(request.auth.get("type") or "").lower() == "digest":
        return Route(LIBRARY, "Digest auth")
    if cookies and not pool_keeps_cookies:
        return Route(LIBRARY, "cookies on the aiohttp transport")
    return PLAIN
