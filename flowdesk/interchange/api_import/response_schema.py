"""A response's JSON Schema made self-contained: every local `$ref` replaced by what it points at.

What an API definition keeps as `response_schema` (ASSERT checks answers against it by default), so
it must stand without the document it came from. A reference back into itself (a tree of nodes)
becomes `{}` (anything) at its repeat; OpenAPI 3.0's `nullable: true` becomes a `null` in `type`,
as JSON Schema says it. A schema that would grow past `MAX_NODES` values once inlined (a reference
used in many places of a large document), or nest deeper than `MAX_DEPTH` levels (a long chain of
references), is not kept: it would be of little use to ASSERT, and every reader of it (the JSON
encoder, the validator) recurses once a level.

One `SchemaInliner` serves a whole document. A reference from which no cycle of references can be
reached expands the same way wherever it stands, so it is expanded once: its inlined value (shared,
never changed afterwards, by every schema that uses it) and its size in values. A schema that
reaches it then costs one addition, and one too large for `MAX_NODES` is refused at once instead of
after building 20,000 values; a generated 13 MB document of 938 operations took 5.3 s to import
without this and 0.35 s before response schemas were kept (benchmarks/bench_api_import.py --refs).
References that reach a cycle are inlined along each path (where a repeat is cut depends on the
path); an answer that is one bare `$ref`, the usual form, is inlined once per document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .references import RefResolver, UnresolvedRef

MAX_NODES = 20_000
MAX_DEPTH = 100


class _TooLarge(Exception):
    pass


class _Expansion:
    """What one reference from which no cycle is reachable inlines to."""

    __slots__ = ("value", "size", "depth", "unresolved", "missing")

    def __init__(
        self, value: Any, size: int, depth: int, unresolved: list[UnresolvedRef], *, missing: bool = False
    ) -> None:
        self.value = value  # shared by every schema that uses it: never changed
        self.size = size  # values the expansion counts for MAX_NODES (may exceed it)
        self.depth = depth  # how deep its values nest below its root (may exceed MAX_DEPTH)
        self.unresolved = unresolved  # references it could not follow, reported at each use
        self.missing = missing  # the reference itself cannot be followed


def _refs_in(node: Any) -> Iterator[str]:
    """The `$ref` strings inside `node` (without following them)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(v for k, v in item.items() if k != "$ref")
        elif isinstance(item, list):
            stack.extend(item)


class SchemaInliner:
    """Inlines the response schemas of one document (see the module's doc)."""

    def __init__(self, resolver: RefResolver, on_unresolved: Callable[[UnresolvedRef], None]) -> None:
        self.resolver = resolver
        self.on_unresolved = on_unresolved
        self._targets: dict[str, Any] = {}  # ref -> its target, or the UnresolvedRef raised
        self._edges: dict[str, list[str]] = {}
        self._acyclic: dict[str, bool] = {}  # ref -> no cycle of references is reachable from it
        self._expansions: dict[str, _Expansion] = {}
        # a bare {"$ref": ...} answer -> its inlined schema (or None) and the references it could not follow
        self._answers: dict[str, tuple[dict[str, Any] | None, list[UnresolvedRef]]] = {}

    def __call__(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """`schema` with its references inlined; None when it would be larger than MAX_NODES values
        or nest deeper than MAX_DEPTH levels."""
        ref = schema.get("$ref") if len(schema) == 1 else None
        if not isinstance(ref, str):
            return self._inline(schema, self.on_unresolved)
        # The common answer, one bare $ref: the same result wherever it stands (cycles included)
        known = self._answers.get(ref)
        if known is None:
            unresolved: list[UnresolvedRef] = []
            known = self._answers[ref] = (self._inline(schema, unresolved.append), unresolved)
        for err in known[1]:
            self.on_unresolved(err)
        return known[0]

    def _inline(
        self, schema: dict[str, Any], on_unresolved: Callable[[UnresolvedRef], None]
    ) -> dict[str, Any] | None:
        try:
            result = self._walk(schema, 0, frozenset(), [0, 0], True, on_unresolved)
        except _TooLarge:
            return None
        return result if isinstance(result, dict) else None

    # -- the reference graph ------------------------------------------------------------------------
    def _target(self, ref: str) -> Any:
        if ref not in self._targets:
            try:
                self._targets[ref] = self.resolver.lookup(ref)
            except UnresolvedRef as err:
                self._targets[ref] = err
        return self._targets[ref]

    def _out(self, ref: str) -> list[str]:
        edges = self._edges.get(ref)
        if edges is None:
            target = self._target(ref)
            edges = [] if isinstance(target, UnresolvedRef) else list(dict.fromkeys(_refs_in(target)))
            self._edges[ref] = edges
        return edges

    def _is_acyclic(self, ref: str) -> bool:
        """Whether no cycle of references can be reached from `ref` (depth-first, without recursion:
        a reference reaches a cycle when one it uses is on the current path or reaches one)."""
        known = self._acyclic.get(ref)
        if known is not None:
            return known
        on_path = {ref}
        stack: list[tuple[str, Iterator[str], list[bool]]] = [(ref, iter(self._out(ref)), [False])]
        while stack:
            node, children, cyclic = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(node)
                self._acyclic[node] = not cyclic[0]
                if cyclic[0] and stack:
                    stack[-1][2][0] = True
            elif child in on_path:
                cyclic[0] = True
            else:
                state = self._acyclic.get(child)
                if state is None:
                    on_path.add(child)
                    stack.append((child, iter(self._out(child)), [False]))
                elif not state:
                    cyclic[0] = True
        return self._acyclic[ref]

    def _expansion(self, ref: str) -> _Expansion:
        """The expansion of an acyclic `ref`, made bottom-up (no recursion through references)."""
        done = self._expansions.get(ref)
        if done is not None:
            return done
        order: list[str] = []
        seen: set[str] = {ref}
        stack: list[tuple[str, Iterator[str]]] = [(ref, iter(self._out(ref)))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(node)  # after every reference it uses
            elif child not in seen and child not in self._expansions:
                seen.add(child)
                stack.append((child, iter(self._out(child))))
        for node in order:
            target = self._target(node)
            if isinstance(target, UnresolvedRef):
                self._expansions[node] = _Expansion(None, 0, 0, [target], missing=True)
                continue
            count = [0, 0]
            unresolved: list[UnresolvedRef] = []
            try:
                value = self._walk(target, 0, frozenset(), count, False, unresolved.append)
            except _TooLarge:  # nested past MAX_DEPTH: no schema that uses it is kept
                value, count[1] = None, MAX_DEPTH + 1
            self._expansions[node] = _Expansion(value, count[0], count[1], unresolved)
        return self._expansions[ref]

    # -- inlining -----------------------------------------------------------------------------------
    def _walk(
        self,
        node: Any,
        depth: int,
        followed: frozenset[str],
        count: list[int],
        bounded: bool,
        on_unresolved: Callable[[UnresolvedRef], None],
    ) -> Any:
        """`node` inlined at `depth`; `count` holds the values counted so far and the deepest level
        reached. _TooLarge past MAX_DEPTH, and past MAX_NODES when `bounded` (not while a reference
        is expanded once for the document: its size is noted, and checked where it is used)."""
        count[0] += 1
        if depth > count[1]:
            count[1] = depth
        if depth > MAX_DEPTH or bounded and count[0] > MAX_NODES:
            raise _TooLarge
        if isinstance(node, list):
            return [self._walk(item, depth + 1, followed, count, bounded, on_unresolved) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in followed:
                return {}
            if self._is_acyclic(ref):
                expansion = self._expansion(ref)
                for err in expansion.unresolved:
                    on_unresolved(err)
                if expansion.missing:
                    return {}
                count[0] += expansion.size
                if depth + expansion.depth > count[1]:
                    count[1] = depth + expansion.depth
                if count[1] > MAX_DEPTH or bounded and count[0] > MAX_NODES:
                    raise _TooLarge
                resolved = expansion.value
            else:
                target = self._target(ref)
                if isinstance(target, UnresolvedRef):
                    on_unresolved(target)
                    return {}
                resolved = self._walk(target, depth, followed | {ref}, count, bounded, on_unresolved)
            siblings = {
                k: self._walk(v, depth + 1, followed, count, bounded, on_unresolved)
                for k, v in node.items()
                if k != "$ref"
            }
            return {**resolved, **siblings} if isinstance(resolved, dict) else resolved
        out = {k: self._walk(v, depth + 1, followed, count, bounded, on_unresolved) for k, v in node.items()}
        if out.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = [*kind, "null"]
        return out
