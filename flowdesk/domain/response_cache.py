"""The `cache` option of an API definition or an API_CALL node: its schema and its parsed form.

`{"ttl": 60}` caches a call's successful answer for 60 seconds; `methods` (default GET and HEAD),
`vary` (request header names that are part of the key), `persist` (also keep it in the database
across runs) and `secrets` (also cache requests that carry a secret) refine it. A node's option
replaces its definition's whole (`{"ttl": 1, "methods": []}` switches the definition's cache off
for that node). docs/semantics.md §2.12 has the whole behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_METHODS = ("GET", "HEAD")
MAX_TTL = 31_536_000  # a year, in seconds
HIT_METRIC = "cache_hit"
"""The step metric of a call that looked in the cache: 1 served from it, 0 sent (the monitor's hit
rate is its average, per workflow and per node)."""

CACHE_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["ttl"],
    "additionalProperties": False,
    "description": "cache successful answers, e.g. {\"ttl\": 60}; the node's wins over its API's",
    "properties": {
        "ttl": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TTL,
            "description": "seconds a cached answer is served",
        },
        "methods": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the HTTP methods cached (default GET and HEAD)",
        },
        "vary": {
            "type": "array",
            "items": {"type": "string"},
            "description": "request headers whose values are part of the cache key",
        },
        "persist": {"type": "boolean", "description": "keep answers in the database across runs"},
        "secrets": {"type": "boolean", "description": "also cache requests that carry a secret"},
    },
}


@dataclass(frozen=True, slots=True)
class CacheOption:
    """A checked `cache` option."""

    ttl: float
    methods: frozenset[str] = frozenset(DEFAULT_METHODS)
    vary: tuple[str, ...] = ()
    persist: bool = False
    secrets: bool = False


def cache_option_problem(value: Any) -> str | None:
    """What is wrong with a `cache` option, as the end of a sentence ("ttl: expected ..."); None if fine."""
    from .node_config import check_value

    return None if value is None else check_value(CACHE_SCHEMA, value)


def parse_cache_option(value: Any, where: str) -> CacheOption | None:
    """The option `value` (a node's or a definition's `cache`) checked; None when there is none.
    Raises ValueError with one sentence naming `where` when it is not a valid option."""
    if value is None:
        return None
    wrong = cache_option_problem(value)
    if wrong is not None:
        raise ValueError(f"the cache option of {where} is not valid: {wrong}")
    assert isinstance(value, Mapping)
    return CacheOption(
        ttl=float(value["ttl"]),
        methods=frozenset(str(m).upper() for m in value.get("methods", DEFAULT_METHODS)),
        vary=tuple(str(h).lower() for h in value.get("vary", ())),
        persist=bool(value.get("persist", False)),
        secrets=bool(value.get("secrets", False)),
    )
