"""Keeping auth values and secrets out of everything recorded about a request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..masking import MIN_SECRET_LENGTH, SecretMasker

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})


class Redactor:
    """Masks known secret values in text, and sensitive headers and query parameters by name."""

    __slots__ = ("_masker", "_values", "header_names", "query_names")

    def __init__(
        self,
        values: Iterable[Any] = (),
        *,
        header_names: Iterable[str] = (),
        query_names: Iterable[str] = (),
    ) -> None:
        self._values: set[str] = set()
        self._masker: SecretMasker | None = None  # built on first use, again after values are added
        # The shared default set until a name is added (one made per API call: keep it cheap).
        self.header_names: frozenset[str] | set[str] = (
            SENSITIVE_HEADERS | {h.lower() for h in header_names} if header_names else SENSITIVE_HEADERS
        )
        self.query_names = set(query_names)
        if values:
            self.add_values(values)

    def add_values(self, values: Iterable[Any]) -> None:
        for value in values:
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                text = str(value)
                if len(text) >= MIN_SECRET_LENGTH and text not in self._values:
                    self._values.add(text)
                    self._masker = None

    def add_header(self, name: str) -> None:
        self.header_names = self.header_names | {name.lower()}

    def add_query(self, name: str) -> None:
        self.query_names.add(name)

    def _secret_masker(self) -> SecretMasker:
        if self._masker is None:
            self._masker = SecretMasker(self._values)
        return self._masker

    def occurs_in(self, data: bytes) -> bool:
        """Whether any known secret value occurs in these bytes (UTF-8), in any encoded form."""
        if not self._values:
            return False
        return self._secret_masker().occurs_in(data.decode("utf-8", "replace"))

    def scrub(self, text: str) -> str:
        """The text with every known secret value replaced by ***, in every encoded form (masking.py)."""
        if not self._values:
            return text
        return self._secret_masker().text(text)

    def scrub_value(self, value: Any) -> Any:
        """Deep copy of a JSON-like value with secret values masked inside its strings."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_value(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Headers with sensitive ones shown as *** and secret values masked in the others."""
        return {
            k: (MASK if k.lower() in self.header_names else self.scrub_value(v)) for k, v in headers.items()
        }

    def query(self, query: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (MASK if k in self.query_names else self.scrub_value(v)) for k, v in query.items()}

    def url(self, url: str) -> str:
        """The URL with sensitive query parameters and secret values masked (user:password too)."""
        if not self._values and not self.query_names and "@" not in url:
            return url
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query and self.query_names:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if k in self.query_names else v) for k, v in pairs], safe="*")
        return self.scrub(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
