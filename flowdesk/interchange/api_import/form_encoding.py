"""OpenAPI's serialisation rules (`style`, `explode`, `encoding`) applied to form bodies and query parameters.

A form body's example becomes the flat mapping of fields the API expects: `deepObject` gives
`address[city]=Paris` (nested objects and arrays indexed, `items[0][price]=...`, as Stripe reads them),
`form` with `explode` repeats an array's key and spreads an object's properties, `form` without `explode`
joins with commas, `spaceDelimited` and `pipeDelimited` with a space and `|`; a property whose `encoding`
names a JSON content type is sent as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

_SEPARATORS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def encode_form(example: dict[str, Any], encoding: Any) -> dict[str, Any]:
    """The flat field mapping for an `application/x-www-form-urlencoded` example (repeated keys as lists)."""
    encoding = encoding if isinstance(encoding, dict) else {}
    pairs: list[tuple[str, Any]] = []
    for name, value in example.items():
        rules = encoding.get(name)
        rules = rules if isinstance(rules, dict) else {}
        content_type = str(rules.get("contentType") or "").lower()
        if isinstance(value, dict | list) and "json" in content_type:
            pairs.append((name, json.dumps(value, separators=(",", ":"), ensure_ascii=False)))
            continue
        style = str(rules.get("style") or "form")
        explode = rules.get("explode")
        pairs.extend(encode_value(name, value, style, style == "form" if explode is None else bool(explode)))
    return _mapping(pairs)


def encode_value(name: str, value: Any, style: str, explode: bool) -> list[tuple[str, Any]]:
    """The (key, value) pairs one named value is sent as."""
    if style == "deepObject":
        if isinstance(value, dict):
            return [
                pair for k, v in value.items() for pair in encode_value(f"{name}[{k}]", v, style, explode)
            ]
        if isinstance(value, list):
            return [
                pair for i, v in enumerate(value) for pair in encode_value(f"{name}[{i}]", v, style, explode)
            ]
        return [(name, _scalar(value))]
    separator = _SEPARATORS.get(style, ",")
    if isinstance(value, list):
        if explode and style == "form":
            return [(name, _scalar(v)) for v in value]
        return [(name, separator.join(_text(v) for v in value))]
    if isinstance(value, dict):
        if explode and style == "form":
            return [(str(k), _scalar(v)) for k, v in value.items()]
        return [(name, separator.join(_text(part) for k, v in value.items() for part in (k, v)))]
    return [(name, _scalar(value))]


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else value


def _text(value: Any) -> str:
    scalar = _scalar(value)
    return scalar if isinstance(scalar, str) else str(scalar)


def _mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out
