"""The one place an exported workflow document passes through before it is written.

Exports must never carry secrets. Every writer of the workflow file format calls
`redact_for_export(document)` on the plain JSON document (the dict that becomes the file) just
before serialising it. Rules are functions `document -> document` registered with
`add_redaction_rule`; the API library adds its rules (for example masking `auth` values that are
not `{{secrets.NAME}}` references) when it is imported. With no rule registered the document is
written as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

__all__ = [
    "RedactionRule",
    "add_redaction_rule",
    "export_node_types",
    "redact_for_export",
    "redaction_rules",
]

RedactionRule = Callable[[dict[str, Any]], dict[str, Any]]

_RULES: list[RedactionRule] = []
_NODE_TYPES: ContextVar[Mapping[str, Any] | None] = ContextVar("export_node_types", default=None)


def add_redaction_rule(rule: RedactionRule) -> RedactionRule:
    """Register `rule` (usable as a decorator); rules run in the order they were added."""
    if rule not in _RULES:
        _RULES.append(rule)
    return rule


def redaction_rules() -> tuple[RedactionRule, ...]:
    """The registered rules, in the order they run."""
    return tuple(_RULES)


def export_node_types() -> Mapping[str, Any] | None:
    """The custom node types (name -> descriptor) of the document being redacted, for rules that read
    a type's secret fields (a custom type's `x-secret` fields); None when the writer gave none."""
    return _NODE_TYPES.get()


def redact_for_export(
    document: dict[str, Any], node_types: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The document with every registered rule applied; the caller's document is never changed.
    `node_types` (name -> descriptor) describes the custom types its nodes use."""
    if not _RULES:
        return document
    result = copy.deepcopy(document)
    token = _NODE_TYPES.set(node_types)
    try:
        for rule in _RULES:
            result = rule(result)
    finally:
        _NODE_TYPES.reset(token)
    return result
