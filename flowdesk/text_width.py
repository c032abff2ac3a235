"""How many columns a text takes in a monospace terminal or editor, for aligned plain text.

Counting characters misaligns every line that holds CJK (two columns per character), emoji or
combining marks (none). The CLI's tables and the run log's copied lines pad with these. Like
gc_control.py this module stands outside the layers: it imports nothing of ours, every layer may
use it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["display_width", "pad_to_width"]

_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # combining marks, ZWJ, variation selectors
_EMOJI_PRESENTATION = "\ufe0f"  # VS16: the character before it is drawn as a (wide) emoji


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide and fullwidth characters (CJK, most emoji) two,
    combining marks and format characters none, everything else one."""
    if text.isascii():
        return len(text)
    width = 0
    last = 0  # the width of the previous character that took space
    for ch in text:
        if ch == _EMOJI_PRESENTATION:
            if last == 1:  # ❤ + VS16 is the two-column emoji ❤️
                width += 1
                last = 2
            continue
        if unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES:
            continue
        last = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        width += last
    return width


def pad_to_width(text: str, width: int) -> str:
    """`text` followed by spaces up to `width` columns (unchanged when it is as wide or wider)."""
    return text + " " * max(0, width - display_width(text))
