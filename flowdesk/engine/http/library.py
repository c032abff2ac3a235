"""The library path: requests the fast HTTP/1.1 pool does not do go through httpx.

httpx (on httpcore's transport, with h2 for HTTP/2) does proxies (plain and CONNECT tunnels, with
credentials), HTTP/2, client certificates and custom CA bundles, Digest auth and multipart bodies
streamed from disk. One `httpx.AsyncClient` is kept per combination of proxy and TLS settings, each
pooled; flowdesk follows redirects and keeps cookies itself on both paths, so the rules are the same
whichever path a request takes (client.py). docs/http.md says why httpx rather than aiohttp.
"""

from __future__ import annotations

import ssl

import httpx

from .settings import ConnectionSettings, ssl_context_for


class LibraryClients:
    """httpx clients by (proxy, verify, client certificate, HTTP/2), made on first use, closed together."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float, verify: bool = True) -> None:
        self.verify = verify  # for requests whose settings leave it to the client
        self.limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        )
        self._clients: dict[tuple[object, ...], httpx.AsyncClient] = {}

    def client_for(self, settings: ConnectionSettings, proxy: str | None) -> httpx.AsyncClient:
        """The pooled httpx client for requests with these settings through `proxy` (None: direct)."""
        verify = self.verify if settings.verify is None else settings.verify
        key = (proxy, verify, settings.client_cert, settings.client_key, settings.http2)
        client = self._clients.get(key)
        if client is None:
            context: ssl.SSLContext = ssl_context_for(
                verify, settings.client_cert, settings.client_key, settings.http2
            )
            transport = httpx.AsyncHTTPTransport(
                verify=context,
                http2=settings.http2,
                limits=self.limits,
                proxy=_proxy(proxy, context),
                trust_env=False,  # the proxy variables are read once, by the transport rule
            )
            client = httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False)
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def _proxy(url: str | None, context: ssl.SSLContext) -> httpx.Proxy | None:
    """httpx's Proxy for `url`; an https:// proxy is reached with the call's TLS settings."""
    if not url:
        return None
    return httpx.Proxy(url, ssl_context=context if url.startswith("https://") else None)
