"""Which node-config values are expressions, templates or node names, and renaming inside them.

Validation, the engine's rename-aware tools and the editor all ask the same question ("how is this
config string read?"), so the answer lives here once.
"""

from __future__ import annotations

from typing import Any

from .enums import NodeType
from .expressions import rename_node_references

# Config keys that hold an expression (evaluated for a value) rather than a template (rendered text).
EXPRESSION_KEYS: dict[str, tuple[str, ...]] = {
    NodeType.CONDITION.value: ("condition",),
    NodeType.LOOP.value: ("condition",),
}
# Config keys that name nodes, never templates.
NODE_NAME_KEYS: dict[str, tuple[str, ...]] = {
    NodeType.CONDITION.value: ("true_path", "false_path"),
}
# The values of this mapping are expressions on every node type.
OUTPUT_MAPPING_KEY = "output_mapping"


def _rename_templates(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return rename_node_references(value, old, new, kind="template")
    if isinstance(value, list):
        return [_rename_templates(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rename_templates(v, old, new) for k, v in value.items()}
    return value


def rename_in_config(node_type: str, config: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """`config` with references to node `old` pointing at `new`, each value read the way it is used.

    Expressions (`condition`, `output_mapping` values) are rewritten as expressions, node-name keys
    (`true_path`, `false_path`) only when they equal `old`, and every other string as a template, so
    a plain text such as "login.example.com" is never mistaken for a reference to node `login`.
    """
    if old == new:
        return config
    expression_keys = EXPRESSION_KEYS.get(node_type, ())
    name_keys = NODE_NAME_KEYS.get(node_type, ())
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in name_keys:
            out[key] = new if value == old else value
        elif key in expression_keys and isinstance(value, str):
            out[key] = rename_node_references(value, old, new, kind="expression")
        elif key == OUTPUT_MAPPING_KEY and isinstance(value, dict):
            out[key] = {
                k: rename_node_references(v, old, new, kind="expression") if isinstance(v, str) else v
                for k, v in value.items()
            }
        else:
            out[key] = _rename_templates(value, old, new)
    return out


def rename_in_condition(condition: str | None, old: str, new: str) -> str | None:
    """A connection's condition (always an expression) with node `old` renamed to `new`."""
    if not condition:
        return condition
    return rename_node_references(condition, old, new, kind="expression")
