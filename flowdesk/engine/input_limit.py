"""The engine's bound on a run's input: at most FLOWDESK_MAX_INPUT_MB megabytes (default 50) of JSON.

Every door meets the same rule: the executor checks the input it is given (Python API, app), and the
CLI checks the size of the `--input` text or `--input-file` before it even parses it (parsing 1 GB of
JSON would take the memory the bound is there to protect).
"""

from __future__ import annotations

import os
from typing import Any

from flowdesk.domain.errors import InvalidInputError
from flowdesk.store.value_text import json_text

DEFAULT_MAX_INPUT_MB = 50
_MB = 1024 * 1024


def max_input_bytes(override: int | None = None) -> int:
    """The bound in bytes: `override` when given, else $FLOWDESK_MAX_INPUT_MB, else 50 MB."""
    if override is not None:
        return int(override)
    setting = os.environ.get("FLOWDESK_MAX_INPUT_MB", "").strip()
    if not setting:
        return DEFAULT_MAX_INPUT_MB * _MB
    try:
        megabytes = float(setting)
    except ValueError:
        raise InvalidInputError(
            f"FLOWDESK_MAX_INPUT_MB must be a number of megabytes, got {setting!r}"
        ) from None
    if megabytes <= 0:
        raise InvalidInputError(f"FLOWDESK_MAX_INPUT_MB must be more than 0, got {setting!r}")
    return int(megabytes * _MB)


def check_input_size(size: int, limit: int, where: str = "the input") -> None:
    """Refuse `size` bytes of input over `limit`, in one sentence saying how to change the bound."""
    if size > limit:
        raise InvalidInputError(
            f"{where} is {size / _MB:,.1f} MB; a run takes at most {limit / _MB:,.1f} MB of input "
            "(set FLOWDESK_MAX_INPUT_MB, or the executor's max_input_bytes, to change it)"
        )


def check_input(value: Any, limit: int) -> None:
    """Refuse an input value whose JSON text is over `limit` bytes."""
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, str) and len(value) * 4 <= limit:  # UTF-8: at most 4 bytes a character
        return
    text = json_text(value) or ""
    size = len(text) if len(text) * 4 <= limit else len(text.encode("utf-8", "surrogatepass"))
    check_input_size(size, limit)
