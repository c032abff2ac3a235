"""What an expression can see: reserved roots, node outputs by name, and the warnings it left."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})
MAX_WARNINGS = 200
#: The name under which the node-output mapping itself is reachable (`nodes["API 调用"]`).
NODES_ROOT = "nodes"


class Scope:
    """Roots (`values`: input, execution, loop, response, env, secrets, params...) and node outputs.

    A bare root name is looked up in `values` first, then `nodes`; `nodes` itself names the node
    mapping. `warnings` gets one message per unresolved reference, without repeats.
    """

    __slots__ = ("values", "nodes", "warnings", "_seen")

    def __init__(
        self, values: Mapping[str, Any] | None = None, nodes: Mapping[str, Any] | None = None
    ) -> None:
        self.values: Mapping[str, Any] = values if values is not None else _EMPTY
        self.nodes: Mapping[str, Any] = nodes if nodes is not None else _EMPTY
        self.warnings: list[str] = []
        self._seen: set[str] = set()

    def child(self, *, nodes: Mapping[str, Any] | None = None, **values: Any) -> Scope:
        """A scope with some roots replaced or added (e.g. `response=`, `loop=`); fresh warnings."""
        merged = dict(self.values)
        merged.update(values)
        return Scope(merged, self.nodes if nodes is None else nodes)

    def lookup(self, name: str) -> tuple[bool, Any]:
        """(found, value) of a root name."""
        values = self.values
        if name in values:
            return True, values[name]
        if name == NODES_ROOT:
            return True, self.nodes
        nodes = self.nodes
        if name in nodes:
            return True, nodes[name]
        return False, None

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self._seen and len(self.warnings) < MAX_WARNINGS:
            self._seen.add(message)
            self.warnings.append(message)

    def __repr__(self) -> str:
        return f"Scope(roots={sorted(self.values)}, nodes={sorted(self.nodes)})"
