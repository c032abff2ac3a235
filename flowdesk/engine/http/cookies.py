"""The cookie jar of one execution: cookies a response sets ride along on later calls of that run.

The rules (domain, path, expiry, Secure, host-only cookies) are the standard library's
`http.cookiejar`, the same that httpx's `Cookies` applies; this module only adapts the engine's
requests and responses to it. A jar belongs to one run and never to the shared HTTP client, so no
cookie passes from one run into another.
"""

from __future__ import annotations

import http.cookiejar
import time
import urllib.request
from collections.abc import Iterable
from email.message import Message
from typing import Any

MAX_CACHED_URLS = 1024


class _Answer:
    """What CookieJar.extract_cookies reads from a response: `info()` with the Set-Cookie lines."""

    __slots__ = ("_message",)

    def __init__(self, set_cookies: Iterable[str]) -> None:
        message = Message()
        for value in set_cookies:
            message["Set-Cookie"] = value
        self._message = message

    def info(self) -> Message:
        return self._message


class RunCookies:
    """One execution's cookie jar (RFC 6265 rules through http.cookiejar)."""

    __slots__ = ("jar", "values", "_headers", "_valid_until", "_count")

    def __init__(self) -> None:
        # The default policy refuses nothing a browser would accept; blocking only what RFC 6265 does.
        self.jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(rfc2965=False))
        self.values: set[str] = set()
        """Every cookie value this jar has held: they are masked in step rows."""
        # The Cookie header per URL, until the jar changes or its first cookie expires: a workflow
        # calls the same few URLs many times, and the jar's lookup costs tens of µs a call.
        self._headers: dict[str, str | None] = {}
        self._valid_until = 0.0
        self._count = 0  # len(CookieJar) walks every cookie: counted once per change instead

    def __len__(self) -> int:
        return self._count

    def header_for(self, url: str) -> str | None:
        """The Cookie header value for a request to `url`, or None when no cookie applies."""
        if not self._count:
            return None
        if url in self._headers and time.time() < self._valid_until:
            return self._headers[url]
        if not self._headers or time.time() >= self._valid_until:
            self._forget_headers()
        request = urllib.request.Request(url)
        self.jar.add_cookie_header(request)
        header = request.get_header("Cookie")
        if len(self._headers) < MAX_CACHED_URLS:
            self._headers[url] = header
        return header

    def _forget_headers(self) -> None:
        self._headers.clear()
        self._count = len(self.jar)
        expiries = [c.expires for c in self.jar if c.expires is not None]
        self._valid_until = min(expiries, default=float("inf"))

    def names_for(self, url: str) -> list[str]:
        """The names of the cookies a request to `url` carries (for the step row)."""
        header = self.header_for(url)
        if not header:
            return []
        return [part.split("=", 1)[0].strip() for part in header.split(";") if part.strip()]

    def extract(self, url: str, set_cookies: list[str]) -> dict[str, str]:
        """Keep the cookies these Set-Cookie values set (as the jar's rules allow) for `url`.

        Returns the name/value pairs the response set (as the response's `cookies` shows them).
        """
        if not set_cookies:
            return {}
        before = {(c.domain, c.path, c.name): c.value for c in self.jar}
        self.jar.extract_cookies(_Answer(set_cookies), urllib.request.Request(url))  # type: ignore[arg-type]
        self._forget_headers()
        set_now: dict[str, str] = {}
        for cookie in self.jar:
            key = (cookie.domain, cookie.path, cookie.name)
            if cookie.value is not None and before.get(key) != cookie.value:
                set_now[cookie.name] = cookie.value
                self.values.add(cookie.value)
                # a quoted value ("abc") is also shown and sent on without its quotes: masked too
                if cookie.value.strip('"'):
                    self.values.add(cookie.value.strip('"'))
        return set_now


def response_cookies(set_cookies: list[str]) -> dict[str, str]:
    """The name/value pairs of Set-Cookie values, as a response's `cookies` shows them (no jar)."""
    found: dict[str, str] = {}
    for value in set_cookies:
        pair = value.split(";", 1)[0]
        name, sep, cookie = pair.partition("=")
        if sep and name.strip():
            found[name.strip()] = cookie.strip().strip('"')
    return found


def set_cookie_values(headers: Iterable[tuple[str, Any]]) -> list[str]:
    """Every Set-Cookie value among (name, value) header pairs (each its own line, never joined)."""
    return [str(v) for k, v in headers if k.lower() == "set-cookie"]
