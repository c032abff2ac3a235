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
from collections.abc import Callable
from typing import Any

__all__ = ["RedactionRule", "add_redaction_rule", "redact_for_export", "redaction_rules"]

RedactionRule = Callable[[dict[str, Any]], dict[str, Any]]

_RULES: list[RedactionRule] = []


def add_redaction_rule(rule: RedactionRule) -> RedactionRule:
    """Register `rule` (usable as a decorator); rules run in the order they were added."""
    if rule not in _RULES:
        _RULES.append(rule)
    return rule


def redaction_rules() -> tuple[RedactionRule, ...]:
    """The registered rules, in the order they run."""
    return tuple(_RULES)


def redact_for_export(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every registered rule applied; the caller's document is never changed."""
    if not _RULES:
        return document
    result = copy.deepcopy(document)
    for rule in _RULES:
        result = rule(result)
    return result
