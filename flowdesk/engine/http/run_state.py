"""What one execution keeps between its API calls: its cookie jar and the notes said once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..masking import SecretMasker
from .cookies import RunCookies
from .settings import environment_settings

_DUMP = orjson.OPT_NON_STR_KEYS


class RunHttpState:
    """Per execution (never shared between runs): the cookie jar, the environment's connection
    settings, and which once-per-run log lines were said."""

    __slots__ = ("cookies", "environment_settings", "_said", "_masker", "_masked_count")

    def __init__(self, environment: Mapping[str, Any] | None) -> None:
        self.cookies = RunCookies()
        self.environment_settings = environment_settings(environment)
        self._said: set[str] = set()
        self._masker: SecretMasker | None = None
        self._masked_count = 0

    def first_time(self, key: str) -> bool:
        """True the first time `key` is asked about in this run (for log lines said once)."""
        if key in self._said:
            return False
        self._said.add(key)
        return True

    def mask_cookies(self, value: Any) -> Any:
        """`value` with the jar's values masked; walked only when one of them occurs in it (a
        step row that does not hold one, the usual case, costs one JSON encoding)."""
        masker = self.cookie_masker()
        if masker is None:
            return value
        try:
            text = value.encode() if isinstance(value, str) else orjson.dumps(value, option=_DUMP, default=str)
        except (TypeError, ValueError):
            return masker(value)
        if not any(v.encode() in text for v in self.cookies.values):
            return value
        return masker(value)

    def cookie_masker(self) -> SecretMasker | None:
        """A masker for every cookie value the jar has held (None while there is none)."""
        values = self.cookies.values
        if not values:
            return None
        if self._masker is None or self._masked_count != len(values):
            self._masker = SecretMasker(values)
            self._masked_count = len(values)
        return self._masker
