"""A response's JSON Schema made self-contained: every local `$ref` replaced by what it points at.

What an API definition keeps as `response_schema` (ASSERT checks answers against it by default), so
it must stand without the document it came from. A reference back into itself (a tree of nodes)
becomes `{}` (anything) at its repeat; OpenAPI 3.0's `nullable: true` becomes a `null` in `type`,
as JSON Schema says it. A schema that would grow past `MAX_NODES` values once inlined (a reference
used in many places of a large document) is not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .references import RefResolver, UnresolvedRef

MAX_NODES = 20_000


class _TooLarge(Exception):
    pass


def inline_schema(
    schema: dict[str, Any], resolver: RefResolver, on_unresolved: Callable[[UnresolvedRef], None]
) -> dict[str, Any] | None:
    """`schema` with its references inlined; None when it would be larger than MAX_NODES values."""
    count = 0

    def walk(node: Any, followed: frozenset[str]) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise _TooLarge
        if isinstance(node, list):
            return [walk(item, followed) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in followed:
                return {}
            try:
                target = resolver.lookup(ref)
            except UnresolvedRef as err:
                on_unresolved(err)
                return {}
            resolved = walk(target, followed | {ref})
            siblings = {k: walk(v, followed) for k, v in node.items() if k != "$ref"}
            return {**resolved, **siblings} if isinstance(resolved, dict) else resolved
        out = {k: walk(v, followed) for k, v in node.items()}
        if out.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = [*kind, "null"]
        return out

    try:
        result = walk(schema, frozenset())
    except _TooLarge:
        return None
    return result if isinstance(result, dict) else None
