"""The SSL contexts HTTPS calls use: one verifying (certifi's CAs), one for `verify=False`."""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx


@lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying SSL context (certifi's CAs), made once: loading the CAs takes ~0.3 s."""
    return httpx.create_ssl_context()


@lru_cache(maxsize=1)
def unverified_ssl_context() -> ssl.SSLContext:
    """A context that checks neither the certificate nor the host name (`verify=False`)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
