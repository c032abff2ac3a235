"""What a custom node type's `execution_handler` names, read from its text.

Five forms (docs/semantics.md, "Custom node types"):

- `api:NAME` — an API definition of the library: a node of the type is an API call of that
  definition, the node's config fields (those the type's schema declares) its parameters;
- `workflow:NAME` or `workflow:ID` — a stored workflow: a node of the type is a sub-workflow call
  of it (run through SUBWORKFLOW), the node's config fields (those the schema declares) its input;
- `package.module:function` — a Python function (sync or async, called with the NodeContext);
- `NAME` (a word without a colon) — a handler installed under that name in the entry-point group
  `flowdesk.node_handlers`, or registered in Python under that name; failing both, a dotted name
  is read as `package.module.function` (the seed's example `custom_handlers.data_processor`);
- empty — the handler installed or registered under the type's own name.

The dict forms `{"api": "NAME"}` and `{"workflow": "NAME"}` are accepted where a registration is
read, and stored as `api:NAME` / `workflow:NAME`. The prefixes `api:` and `workflow:` are taken
before `module:function`, so a Python module named `api` or `workflow` cannot be a handler.
Whether the handler can be found is the engine's to say (engine/custom_types.py): a type whose handler
is missing can still be stored and edited, and is refused when it would run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

API_PREFIX = "api:"
WORKFLOW_PREFIX = "workflow:"

HandlerKind = Literal["api", "workflow", "python", "named"]

_PREFIXES: dict[HandlerKind, str] = {"api": API_PREFIX, "workflow": WORKFLOW_PREFIX}
_WHAT = {"api": "an API definition", "workflow": "a stored workflow"}

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


@dataclass(frozen=True, slots=True)
class HandlerRef:
    """A parsed execution_handler: its kind and what it names (an API name, a workflow's name or
    id, `module:attr`, a handler name)."""

    kind: HandlerKind
    target: str

    def __str__(self) -> str:
        return _PREFIXES.get(self.kind, "") + self.target


def normalise_handler(value: Any) -> str | None:
    """The stored text of an execution_handler given as text, `{"api": NAME}`, `{"workflow":
    NAME}` or nothing; raises ValueError with one sentence when it is neither of the forms."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        key = next(iter(value), None) if len(value) == 1 else None
        kind = next((k for k in _PREFIXES if k == key), None)
        target = value.get(kind) if kind is not None else None
        if isinstance(target, int) and not isinstance(target, bool) and kind == "workflow":
            target = str(target)
        if kind is None or not isinstance(target, str) or not target.strip():
            raise ValueError(
                'execution_handler as an object must be {"api": "NAME"} naming an API definition '
                'or {"workflow": "NAME"} naming a stored workflow'
            )
        value = _PREFIXES[kind] + target.strip()
    if not isinstance(value, str):
        raise ValueError(f"execution_handler must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    parse_handler(text)
    return text


def parse_handler(text: str) -> HandlerRef:
    """Read a stored execution_handler (not empty); raises ValueError with one sentence when it is
    not one of the forms."""
    text = text.strip()
    for kind, prefix in _PREFIXES.items():
        if text.startswith(prefix):
            name = text[len(prefix) :].strip()
            if not name:
                raise ValueError(f"execution_handler '{prefix}' must name {_WHAT[kind]} after the colon")
            return HandlerRef(kind, name)
    if ":" in text:
        module, _, attr = text.partition(":")
        if not _DOTTED.fullmatch(module) or not _DOTTED.fullmatch(attr):
            raise ValueError(
                f"execution_handler '{text}' is not 'package.module:function', 'api:NAME', 'workflow:NAME' or a handler name"
            )
        return HandlerRef("python", text)
    if not _WORD.fullmatch(text):
        raise ValueError(
            f"execution_handler '{text}' is not 'package.module:function', 'api:NAME', 'workflow:NAME' or a handler name"
        )
    return HandlerRef("named", text)


def parsed_handler(handler: str | None) -> HandlerRef | None:
    """A stored execution_handler read, or None when there is none or it has none of the forms."""
    if not handler:
        return None
    try:
        return parse_handler(handler)
    except ValueError:
        return None


def handler_workflow(handler: str | None) -> str | None:
    """The stored workflow (its name, or its id as digits) a `workflow:` handler names; None for a
    handler of another form, or none (the editor opens it on double-click, F11 steps into it)."""
    ref = parsed_handler(handler)
    return ref.target if ref is not None and ref.kind == "workflow" else None
