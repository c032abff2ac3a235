"""One HTTP response as the engine keeps it, and the `response` object nodes output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from .body_file import BodyFile

# Digits to "0", "-" kept, every other byte to " ": a long number is then a plain substring search,
# some six times faster than a regular expression over the body (which cost more than parsing it).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= i <= 0x39 else i if i == 0x2D else 0x20 for i in range(256))
_TWENTY_DIGITS = b"0" * 20
_NEGATIVE_NINETEEN_DIGITS = b"-" + b"0" * 19


def _has_long_number(body: bytes) -> bool:
    """Whether the body may hold an integer orjson would turn into a float: 20 digits in a row
    (beyond 2**64 - 1), or a minus and 19 (below -2**63)."""
    shape = body.translate(_DIGITS_AS_ZEROS)
    return _TWENTY_DIGITS in shape or _NEGATIVE_NINETEEN_DIGITS in shape


DEFAULT_BODY_LIMIT = 1024 * 1024
"""Bytes of a response body kept in a node's output (and so in the step log): 1 MB."""


def _is_json(content_type: str) -> bool:
    ctype = content_type.split(";", 1)[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json") or ctype.endswith("/json")


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip().strip('"')
    return "utf-8"


@dataclass
class HttpResponse:
    """A received response: status, headers (lower-case names) and the whole body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    url: str
    method: str
    token_refreshed: bool = False
    cookies: dict[str, str] = field(default_factory=dict)
    """Cookies this call's responses set (redirects included), by name."""
    http_version: str = "HTTP/1.1"
    truncated: bool = False  # the body was cut at the reading limit (body.BodyReader)
    size: int | None = None  # the whole body's decoded size when known (a cut body's may not be)
    body_file: BodyFile | None = field(default=None, repr=False)  # save_to: the body's file
    saved_to: str | None = None  # save_to: the file the whole body was written to
    _data: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self, limit: int | None = None) -> str:
        body = self.body if limit is None else self.body[:limit]
        try:
            return body.decode(_charset(self.content_type), errors="replace")
        except LookupError:
            return body.decode("utf-8", errors="replace")

    @property
    def data(self) -> Any:
        """The parsed JSON body when it is JSON, else its text; None for an empty body."""
        if not self._parsed:
            self._data = self._parse()
            self._parsed = True
        return self._data

    def _parse(self) -> Any:
        if not self.body:
            return None
        ctype = self.content_type
        looks_json = not ctype and self.body[:1] in (b"{", b"[")
        if _is_json(ctype) or looks_json:
            # orjson reads JSON several times faster, but turns integers beyond 64 bits into
            # floats and refuses NaN: a body with a run of 20 digits goes to the json module, so
            # every integer keeps its exact value.
            if not _has_long_number(self.body):
                try:
                    return orjson.loads(self.body)
                except orjson.JSONDecodeError:
                    pass
            try:
                return json.loads(self.body)
            except (ValueError, UnicodeDecodeError):
                pass
        return self.text()

    def to_dict(self, body_limit: int | None = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
        """The `response` object of a node's output; a body over `body_limit` bytes is cut.

        A cut body is kept as text of its first `body_limit` bytes, with `"truncated": true` and
        `"size"` (the whole body's size in bytes, left out when unknown: an encoded body cut while
        reading). A body saved to a file (`save_to`) is `"saved_to"` and `"size"`, `data` null.
        """
        result: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "headers": dict(self.headers),
            "data": None,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "url": self.url,
            "method": self.method,
        }
        if self.cookies:
            result["cookies"] = dict(self.cookies)
        if self.http_version != "HTTP/1.1":
            result["http_version"] = self.http_version
        if self.saved_to is not None:
            result["saved_to"] = self.saved_to
            result["size"] = self.size
        elif self.truncated or (body_limit is not None and len(self.body) > body_limit):
            result["data"] = self.text(body_limit)
            result["truncated"] = True
            size = self.size if self.truncated else len(self.body)
            if size is not None:
                result["size"] = size
        else:
            result["data"] = self.data
        return result

    def discard_file(self) -> None:
        """Remove the save_to file this response's body went to (the call failed or is sent again)."""
        if self.body_file is not None:
            self.body_file.discard()
