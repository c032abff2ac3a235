"""Reading a spec's text (JSON or YAML, bytes or str) into plain Python values, with located errors.

YAML duplicate keys keep the last value, as PyYAML does, but each one is recorded so the import can say so.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from flowdesk.domain.errors import InvalidInputError

# Values in one document at most (GitHub's dereferenced description, 73 MB, has about 3.5 million).
_MAX_NODES = 20_000_000

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
)


class ApiSpecSyntaxError(InvalidInputError):
    """A JSON or YAML syntax error, with 1-based line and column."""

    def __init__(self, message: str, *, line: int, column: int, source_name: str = "") -> None:
        self.line = line
        self.column = column
        where = f"line {line}, column {column}"
        super().__init__(message, location=f"{source_name}, {where}" if source_name else where)


@dataclass
class LoadedDocument:
    """A parsed document and what was odd about its syntax."""

    data: Any
    syntax: str  # "json" or "yaml"
    text: str
    duplicate_keys: list[str] = field(default_factory=list)  # "'key' at line N"


def decode_text(text_or_bytes: str | bytes, *, source_name: str = "") -> str:
    """Bytes to str (UTF-8 with or without BOM, UTF-16 with BOM); binary files get a plain refusal."""
    if isinstance(text_or_bytes, str):
        return text_or_bytes.lstrip("\ufeff")
    if not isinstance(text_or_bytes, bytes | bytearray | memoryview):
        raise InvalidInputError(f"Expected text or bytes, got {type(text_or_bytes).__name__}.")
    raw = bytes(text_or_bytes)
    what = _name(source_name)
    for signature, kind in _BINARY_SIGNATURES:
        if raw.startswith(signature):
            raise InvalidInputError(f"{what} is {kind}, not an OpenAPI, Swagger or Postman document.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise InvalidInputError(f"{what} is not valid UTF-16 text (byte {err.start}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInputError(
            f"{what} is not UTF-8 text (byte {err.start} cannot be read); it may be a binary file."
        ) from None
    return text


def _name(source_name: str) -> str:
    return f"'{source_name}'" if source_name else "The input"


def _check_text(text: str, source_name: str) -> None:
    if not text.strip():
        raise InvalidInputError(f"{_name(source_name)} is empty.")
    if "\x00" in text:
        raise InvalidInputError(
            f"{_name(source_name)} contains NUL characters; it looks like a binary file, "
            "not an OpenAPI, Swagger or Postman document."
        )


def load_document(text_or_bytes: str | bytes, *, source_name: str = "") -> LoadedDocument:
    """Parse JSON (tried first when the text starts with '{' or '[') or YAML into plain values."""
    text = decode_text(text_or_bytes, source_name=source_name)
    _check_text(text, source_name)
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        duplicates: list[str] = []
        try:
            # JSON gives plain values already (string keys, no dates, no shared nodes): no second pass
            data = json.loads(text, object_pairs_hook=_json_pairs(duplicates))
            return LoadedDocument(data, "json", text, duplicates)
        except json.JSONDecodeError as err:
            json_error = err
        except RecursionError:
            raise InvalidInputError(f"{_name(source_name)} is nested too deeply to read.") from None
        raise ApiSpecSyntaxError(
            f"The JSON is malformed: {json_error.msg}.",
            line=json_error.lineno,
            column=json_error.colno,
            source_name=source_name,
        ) from None
    return _load_yaml(text, source_name)


def _json_pairs(duplicates: list[str]):
    # Called by the C scanner for every object, so it does as little as it can: a JSON document has no
    # aliases, so its size is bounded by its text and needs no value count (YAML's has one).
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):  # rare: find which keys repeat
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    duplicates.append(f"'{key}'")
                seen.add(key)
        return result

    return hook


# libyaml's parser when PyYAML was built with it (several times faster); construction stays in Python.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateRecordingLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that records duplicate mapping keys (PyYAML keeps the last one silently)."""

    duplicates: list[str]

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML's name
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                # Plain scalar keys compare by (tag, text) without building them; '<<' merges may override.
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    self.duplicates.append(f"'{key_node.value}' at line {key_node.start_mark.line + 1}")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str, source_name: str) -> LoadedDocument:
    try:
        loader = _DuplicateRecordingLoader(text)
    except yaml.reader.ReaderError as err:
        raise _control_character(err, text, source_name) from None
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.reader.ReaderError as err:  # libyaml finds them while parsing
        raise _control_character(err, text, source_name) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = (err.problem or err.context or "unreadable YAML").strip()
        if mark is None:
            raise InvalidInputError(f"The YAML is malformed: {problem}.") from None
        raise ApiSpecSyntaxError(
            f"The YAML is malformed: {problem}.",
            line=mark.line + 1,
            column=mark.column + 1,
            source_name=source_name,
        ) from None
    except yaml.YAMLError as err:
        raise InvalidInputError(f"The YAML cannot be read: {str(err).strip()}.") from None
    except RecursionError:
        raise InvalidInputError(f"{_name(source_name)} is nested too deeply to read.") from None
    except (ValueError, TypeError, OverflowError) as err:
        # PyYAML's constructors raise these on values such as an impossible date.
        raise InvalidInputError(f"The YAML holds a value that cannot be read: {err}.") from None
    finally:
        loader.dispose()
    try:
        plain = _plain(data)
    except RecursionError:
        raise InvalidInputError(f"{_name(source_name)} is nested too deeply to read.") from None
    return LoadedDocument(plain, "yaml", text, list(loader.duplicates))


def _control_character(err: yaml.reader.ReaderError, text: str, source_name: str) -> ApiSpecSyntaxError:
    position = max(0, min(int(err.position), len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
    return ApiSpecSyntaxError(
        f"The text holds a control character (#x{character:04x}) that YAML does not allow.",
        line=line,
        column=column,
        source_name=source_name,
    )


def _plain(value: Any) -> Any:
    """JSON-like values only: string keys, ISO dates, no cycles; shared YAML aliases stay shared."""
    memo: dict[int, Any] = {}
    active: set[int] = set()
    count = 0

    def walk(v: Any) -> Any:
        nonlocal count
        count += 1
        if count > _MAX_NODES:
            raise InvalidInputError("The document is too large to import (over 20 million values).")
        if isinstance(v, str | bool | int | float) or v is None:
            return v
        if isinstance(v, _dt.datetime | _dt.date):
            return v.isoformat()
        if isinstance(v, bytes):
            return base64.b64encode(v).decode("ascii")
        key = id(v)
        if key in memo:
            return memo[key]
        if key in active:
            return None  # a YAML alias that contains itself
        active.add(key)
        try:
            if isinstance(v, dict):
                out: Any = {_key(k): walk(item) for k, item in v.items()}
            elif isinstance(v, list | tuple | set | frozenset):
                out = [walk(item) for item in v]
            else:
                out = str(v)
        finally:
            active.discard(key)
        memo[key] = out
        return out

    return walk(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, _dt.datetime | _dt.date):
        return key.isoformat()
    return str(key)
