"""Masking secret values out of everything a run records: step rows, log lines, events."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 3
"""Shorter values are left alone: masking every "a" would garble the record."""


def secret_pattern(secret: str) -> str:
    """A regular expression (source) matching `secret` in every form it can take on the way out:
    as it is, upper- or lower-cased, JSON-escaped (once or more: a JSON text inside a JSON string),
    percent-encoded (%20 or + for a space, any case of hex digits, mixed with plain characters) and
    form-encoded. Each character is matched in any of its forms, so mixed encodings match too."""
    return "(?i:" + "".join(_char_forms(c) for c in secret) + ")"


def _char_forms(char: str) -> str:
    forms: set[str] = set()
    for variant in {char, char.upper(), char.lower()}:
        if len(variant) != 1:
            continue
        code = ord(variant)
        forms.add(re.escape(variant))
        forms.add("".join(f"%{byte:02X}" for byte in variant.encode()))
        if variant == " ":
            forms.add(r"\+")
        if variant == '"':
            forms.add(r'\\*"')  # \" and \\\" too (escaped again)
        elif variant == "\\":
            forms.add(r"\\+")
        elif code < 0x20 or code > 0x7E:
            # \uXXXX (a surrogate pair beyond the BMP), or \n-style for the short escapes
            forms.add("".join(rf"\\+u{unit:04x}" for unit in _utf16(code)))
            if variant in _JSON_SHORT:
                forms.add(_JSON_SHORT[variant])
    forms.discard("")
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


_JSON_SHORT = {"\n": r"\\+n", "\r": r"\\+r", "\t": r"\\+t", "\b": r"\\+b", "\f": r"\\+f"}


def _utf16(code: int) -> tuple[int, ...]:
    if code <= 0xFFFF:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def base64_cores(secret: str, *, shortest: int = 6) -> set[str]:
    """The parts of a base64 text that stand for `secret` wherever it sits in the encoded bytes (each of
    the three alignments; standard and URL-safe alphabets): what Basic auth's `user:password` shows."""
    data = secret.encode()
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode().rstrip("=")
        total = offset + len(data)
        core = encoded[-(-8 * offset // 6) : (8 * total) // 6]
        if len(core) >= shortest:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


_HINT = re.compile(r"[A-Za-z0-9._~-]{3,}")


class SecretMasker:
    """Replaces every known secret value (length >= 3) with *** wherever it appears in a string, in
    every encoded form (`secret_pattern`, `base64_cores`).

    Calling the masker on a value returns a deep copy with strings masked inside dicts, lists and
    tuples (keys too); other values are returned as they are. Without secrets it is the identity.
    """

    __slots__ = ("_hints", "_pattern", "active")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        texts = set()
        for v in values:
            if isinstance(v, bool) or v is None:
                continue
            text = str(v)
            if len(text) >= MIN_SECRET_LENGTH:
                texts.add(text)
        self.active = bool(texts)
        self._pattern: re.Pattern[str] | None = None
        # Matching every encoded form costs a scan per character class; a text that holds none of the
        # secrets' unescapable runs (letters, digits, "-._~" survive every encoding but case) is
        # passed over after one lower-cased substring test per secret.
        self._hints: tuple[str, ...] | None = ()
        if not texts:
            return
        alternatives: list[str] = []
        hints: list[str] | None = []
        for text in sorted(texts, key=len, reverse=True):
            alternatives.append(secret_pattern(text))
            runs = _HINT.findall(text)
            if hints is not None and runs:
                hints.append(max(runs, key=len).lower())
            else:
                hints = None  # nothing to look for first: always run the full pattern
            for core in base64_cores(text):
                alternatives.append(f"(?-i:{re.escape(core)})")
                if hints is not None:
                    hints.append(core.lower())
        self._pattern = re.compile("|".join(alternatives))
        self._hints = tuple(hints) if hints is not None else None

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any] | None) -> SecretMasker:
        """A masker for the values of a secrets mapping."""
        return cls((secrets or {}).values())

    def occurs_in(self, text: str) -> bool:
        """Whether any secret occurs in `text`, in any form."""
        if self._pattern is None or not self._may_hold(text):
            return False
        return self._pattern.search(text) is not None

    def _may_hold(self, text: str) -> bool:
        if self._hints is None:
            return True
        lowered = text.lower()
        return any(hint in lowered for hint in self._hints)

    def text(self, text: str) -> str:
        """`text` with every secret replaced by ***."""
        if self._pattern is None or not self._may_hold(text):
            return text
        return self._pattern.sub(MASK, text)

    def __call__(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        return self._mask(value)

    def _mask(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
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
