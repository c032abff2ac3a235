"""Masking secret values out of everything a run records: step rows, log lines, events."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 3
"""Shorter values are left alone: masking every "a" would garble the record."""


class SecretMasker:
    """Replaces every known secret value (length >= 3) with *** wherever it appears in a string.

    Calling the masker on a value returns a deep copy with strings masked inside dicts, lists and
    tuples (keys too); other values are returned as they are. Without secrets it is the identity.
    """

    __slots__ = ("_pattern", "active")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        texts = set()
        for v in values:
            if isinstance(v, bool) or v is None:
                continue
            text = str(v)
            if len(text) >= MIN_SECRET_LENGTH:
                texts.add(text)
        self.active = bool(texts)
        self._pattern = (
            re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True)))
            if texts
            else None
        )

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any] | None) -> SecretMasker:
        """A masker for the values of a secrets mapping."""
        return cls((secrets or {}).values())

    def text(self, text: str) -> str:
        """`text` with every secret replaced by ***."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def __call__(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        return self._mask(value)

    def _mask(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._pattern.sub(MASK, value) if self._pattern is not None else value
        if isinstance(value, Mapping):
            return {(self._mask(k) if isinstance(k, str) else k): self._mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._mask(v) for v in value]
        return value


def secret_leaves(secrets: Any) -> tuple[Any, ...]:
    """Every leaf value of a secrets mapping (nested objects and lists walked), None left out."""
    found: list[Any] = []
    stack = [secrets]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif value is not None:
            found.append(value)
    return tuple(found)
