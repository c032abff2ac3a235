"""What one execution keeps between its API calls: its cookie jar and the notes said once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..masking import SecretMasker
from .cookies import RunCookies
from .settings import environment_settings


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

    def cookie_masker(self) -> SecretMasker | None:
        """A masker for every cookie value the jar has held (None while there is none)."""
        values = self.cookies.values
        if not values:
            return None
        if self._masker is None or self._masked_count != len(values):
            self._masker = SecretMasker(values)
            self._masked_count = len(values)
        return self._masker
