"""Following local `$ref`s ("#/components/schemas/Pet") inside one document, safely.

External references (other files, URLs) are not fetched: they count as unresolvable.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

_MAX_HOPS = 32


class UnresolvedRef(Exception):
    """A `$ref` that points nowhere in this document; `ref` is the text of the reference."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(f"{ref}: {reason}")
        self.ref = ref
        self.reason = reason


class RefResolver:
    """Resolves `$ref` objects against the root document."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._found: dict[str, Any] = {}

    def lookup(self, ref: Any) -> Any:
        """The value a reference string points at; raises UnresolvedRef."""
        if not isinstance(ref, str):
            raise UnresolvedRef(str(ref), "it is not a string")
        if ref in self._found:
            return self._found[ref]
        node = self._walk(ref)
        self._found[ref] = node
        return node

    def _walk(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnresolvedRef(ref, "it points outside this document, which is not followed")
        pointer = ref[1:]
        if pointer and not pointer.startswith("/"):
            raise UnresolvedRef(ref, "it is not a JSON pointer")
        node = self.root
        for raw in pointer.split("/")[1:] if pointer else []:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise UnresolvedRef(ref, "nothing in the document has that path")
        return node

    def resolve(self, node: Any) -> tuple[Any, list[str]]:
        """Follow `$ref` chains on `node`; returns the target and the refs followed (for cycle checks)."""
        followed: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in followed or len(followed) >= _MAX_HOPS:
                raise UnresolvedRef(str(ref), "it refers to itself")
            followed.append(ref)
            node = self.lookup(ref)
        return node, followed


def is_ref(node: Any) -> bool:
    """True for a `{"$ref": ...}` object."""
    return isinstance(node, dict) and "$ref" in node
