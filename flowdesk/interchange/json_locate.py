"""Where things are in a JSON text: the line and column of a JSON path, of a bad token, of a syntax error.

Python's `json` module gives values but forgets positions; problems in a workflow file should still
name their line. This module re-reads the text (only when there is something to report) with a small
tokenizer built on `json.decoder.scanstring`, so normal imports never pay for it.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, missing from typeshed

__all__ = [
    "JsonPath",
    "LineIndex",
    "line_column",
    "locate_paths",
    "find_token",
    "open_container",
    "describe_json_error",
    "path_at",
    "repeated_keys",
]

JsonPath = tuple["str | int", ...]

_SPACE = re.compile(r"[ \t\n\r]*")
_NEWLINE = re.compile("\n")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[{}\[\]]')


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (one look-up; for many, use LineIndex)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class LineIndex:
    """The offsets where a text's lines start, found once: each look-up is then a binary search, so
    locating 100,000 problems costs one pass over the text, not one pass per problem."""

    __slots__ = ("_length", "_starts")

    def __init__(self, text: str) -> None:
        self._length = len(text)
        self._starts = [0]
        self._starts.extend(match.end() for match in _NEWLINE.finditer(text))

    def line_column(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset (as `line_column`)."""
        offset = max(0, min(offset, self._length))
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


class _Walker:
    """Records the offset of every value (and of every key) whose path is one of `wanted`."""

    def __init__(self, text: str, wanted: set[JsonPath]) -> None:
        self.text = text
        self.wanted = wanted
        self.offsets: dict[JsonPath, int] = {}

    def on_key(self, path: JsonPath, key: str, offset: int) -> None:
        """Called for every key of every object, in text order; a subclass may look."""

    def skip_space(self, pos: int) -> int:
        match = _SPACE.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, path: JsonPath) -> int:
        pos = self.skip_space(pos)
        if path in self.wanted:
            self.offsets.setdefault(path, pos)
        char = self.text[pos : pos + 1]
        if char == "{":
            return self.object(pos + 1, path)
        if char == "[":
            return self.array(pos + 1, path)
        if char == '"':
            return scanstring(self.text, pos + 1)[1]
        match = _SCALAR.match(self.text, pos)
        if not match:
            raise ValueError(f"unexpected text at offset {pos}")
        return match.end()

    def object(self, pos: int, path: JsonPath) -> int:
        pos = self.skip_space(pos)
        if self.text.startswith("}", pos):
            return pos + 1
        while True:
            pos = self.skip_space(pos)
            key_start = pos
            key, pos = scanstring(self.text, pos + 1)
            child = (*path, key)
            self.on_key(path, key, key_start)
            if child in self.wanted:
                # A problem about a key is shown at the key, where a reader looks for it.
                self.offsets[child] = key_start
            pos = self.skip_space(pos) + 1  # the ':'
            pos = self.value(pos, child if child in self.wanted else ("\0",))
            pos = self.skip_space(pos)
            if self.text.startswith("}", pos):
                return pos + 1
            pos += 1  # the ','

    def array(self, pos: int, path: JsonPath) -> int:
        pos = self.skip_space(pos)
        if self.text.startswith("]", pos):
            return pos + 1
        index = 0
        while True:
            child = (*path, index)
            pos = self.value(pos, child if child in self.wanted else ("\0",))
            pos = self.skip_space(pos)
            if self.text.startswith("]", pos):
                return pos + 1
            pos += 1
            index += 1


def locate_paths(text: str, paths: Iterable[JsonPath]) -> dict[JsonPath, tuple[int, int]]:
    """Line and column of each path in a valid JSON text; a path that does not exist (a missing key)
    gets the position of its nearest existing parent."""
    paths = list(paths)
    wanted: set[JsonPath] = set()
    for path in paths:
        for n in range(len(path) + 1):
            wanted.add(tuple(path[:n]))
    walker = _Walker(text, wanted)
    try:
        walker.value(0, ())
    except (ValueError, IndexError, RecursionError):
        pass  # positions found so far are still right
    result: dict[JsonPath, tuple[int, int]] = {}
    lines = LineIndex(text)
    for path in paths:
        for n in range(len(path), -1, -1):
            offset = walker.offsets.get(tuple(path[:n]))
            if offset is not None:
                result[tuple(path)] = lines.line_column(offset)
                break
    return result


def find_token(text: str, predicate: Callable[[str], bool]) -> int | None:
    """Offset of the first scalar token outside strings for which `predicate(token)` holds."""
    pos = 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == '"':
            try:
                pos = scanstring(text, pos + 1)[1]
            except (ValueError, json.JSONDecodeError):
                return None
            continue
        match = _SCALAR.match(text, pos)
        if match:
            if predicate(match.group()):
                return pos
            pos = match.end()
            continue
        pos += 1
    return None


def open_container(text: str, offset: int) -> str | None:
    """'{' or '[' — the innermost object or array still open at `offset` (None at the top level)."""
    stack: list[str] = []
    for match in _STRING_OR_BRACKET.finditer(text, 0, offset):
        token = match.group()
        if token in "{[":
            stack.append(token)
        elif token in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def describe_json_error(err: json.JSONDecodeError) -> str:
    """A plain sentence for a JSON syntax error, without its position."""
    msg = err.msg
    if msg.startswith("Expecting ',' delimiter"):
        container = open_container(err.doc, err.pos)
        return "expected ',' or '}'" if container == "{" else "expected ',' or ']'"
    if msg.startswith("Expecting property name"):
        before = err.doc[: err.pos].rstrip()
        if before.endswith(","):
            return "expected a key in double quotes after ',' (a trailing comma is not allowed in JSON)"
        return "expected a key in double quotes or '}'"
    if msg.startswith("Expecting ':' delimiter"):
        return "expected ':' after the key"
    if msg.startswith("Expecting value"):
        if err.pos >= len(err.doc.rstrip()):
            return "the document ends where a value was expected (is it cut short?)"
        return "expected a value (text in double quotes, a number, true, false, null, an object or a list)"
    if msg.startswith("Unterminated string"):
        return "a string is never closed with '\"'"
    if msg.startswith("Invalid control character"):
        return "a control character (such as a line break) inside a string; write it as \\n or \\t"
    if msg.startswith("Extra data"):
        return "more text after the end of the JSON document"
    if msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        return "an invalid escape sequence in a string"
    return msg[:1].lower() + msg[1:]


class _Everything:
    """A `wanted` set holding every path."""

    def __contains__(self, item: object) -> bool:
        return True


def path_at(text: str, offset: int) -> JsonPath:
    """The path of the value (or the key) that starts at or most closely before `offset`."""
    walker = _Walker(text, _Everything())  # type: ignore[arg-type]
    try:
        walker.value(0, ())
    except (ValueError, IndexError, RecursionError):
        pass
    best: JsonPath = ()
    best_offset = -1
    for path, start in walker.offsets.items():
        if best_offset < start <= offset:
            best, best_offset = path, start
    return best


class _KeyRepeats(_Walker):
    """Notes each key given a second time in the same object."""

    def __init__(self, text: str) -> None:
        super().__init__(text, set())
        self.seen: dict[JsonPath, dict[str, int]] = {}
        self.repeats: list[tuple[JsonPath, int, int]] = []

    def object(self, pos: int, path: JsonPath) -> int:
        self.seen.pop(path, None)  # a path met again is another object (a list's items share none)
        return super().object(pos, path)

    def on_key(self, path: JsonPath, key: str, offset: int) -> None:
        keys = self.seen.setdefault(path, {})
        if key in keys:
            self.repeats.append(((*path, key), keys[key], offset))
        keys[key] = offset


def repeated_keys(text: str) -> list[tuple[JsonPath, int, int]]:
    """(path, offset of the earlier key, offset of the repeat) for each key an object gives twice."""
    walker = _KeyRepeats(text)
    walker.wanted = _Everything()  # type: ignore[assignment]  # every path, so nested objects are visited with theirs
    try:
        walker.value(0, ())
    except (ValueError, IndexError, RecursionError):
        pass
    return walker.repeats
