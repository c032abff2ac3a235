"""What one execution keeps between its API calls: its cookie jar and the notes said once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ..masking import MIN_SECRET_LENGTH, SecretMasker
from .cookies import RunCookies
from .settings import environment_settings

_DUMP = orjson.OPT_NON_STR_KEYS


class RunHttpState:
    """Per execution (never shared between runs): the cookie jar, the environment's connection
    settings, and which once-per-run log lines were said."""

    __slots__ = ("cookies", "environment_settings", "_said", "_masker", "_masked_count", "_needles")

    def __init__(self, environment: Mapping[str, Any] | None) -> None:
        self.cookies = RunCookies()
        self.environment_settings = environment_settings(environment)
        self._said: set[str] = set()
        self._masker: SecretMasker | None = None
        self._masked_count = 0
        self._needles: tuple[bytes, ...] = ()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is asked about in this run (for log lines said once)."""
        if key in self._said:
            return False
        self._said.add(key)
        return True

    def mask_cookies(self, value: Any) -> Any:
        """`value` with the jar's values masked; walked only when one of them occurs in it (a
        value that does not hold one, the usual case, costs one JSON encoding)."""
        masker = self.cookie_masker()
        if masker is None or not self._may_hold(value):
            return value
        return masker(value)

    def mask_cookies_in(self, row: dict[str, Any], keys: tuple[str, ...]) -> None:
        """Mask the jar's values in these fields of a step row: one JSON encoding of them all
        tells whether any holds one (most rows hold none, and are left as they are)."""
        masker = self.cookie_masker()
        if masker is None:
            return
        values = [row.get(key) for key in keys]
        if not self._may_hold(values):
            return
        for key, value in zip(keys, values, strict=True):
            if value is not None:
                row[key] = masker(value)

    def _may_hold(self, value: Any) -> bool:
        # The values are looked for as JSON writes them inside a string (a quoted cookie value's
        # quotes escaped), in the value's JSON text (or its UTF-8, for text).
        try:
            text = (
                value.encode() if isinstance(value, str) else orjson.dumps(value, option=_DUMP, default=str)
            )
        except (TypeError, ValueError):
            return True
        if isinstance(value, str):
            return any(raw in text for raw in self._raw_values())
        return any(needle in text for needle in self._needles)

    def _raw_values(self) -> list[bytes]:
        return [v.encode() for v in self.cookies.values if len(v) >= MIN_SECRET_LENGTH]

    def cookie_masker(self) -> SecretMasker | None:
        """A masker for every cookie value the jar has held (None while there is none)."""
        values = self.cookies.values
        if not values:
            return None
        if self._masker is None or self._masked_count != len(values):
            self._masker = SecretMasker(values)
            self._masked_count = len(values)
            # values too short to mask (masking.MIN_SECRET_LENGTH) are not looked for either
            self._needles = tuple(orjson.dumps(v)[1:-1] for v in values if len(v) >= MIN_SECRET_LENGTH)
        return self._masker
