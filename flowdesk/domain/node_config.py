"""Checking node configs against their type's schema, and renaming node references inside them.

Each node type's config schema lives in its descriptor (node_descriptors.py): JSON Schema (draft
2020-12 keywords: `type`, `minimum`, `maximum`, `exclusiveMinimum`, `enum`, `required`, `properties`,
`additionalProperties` (a schema, or false: no other keys), `items`, `default`, `description`) plus flowdesk's annotations
(`x-template`, `x-expression`, `x-node-name`, `x-secret`). Validation checks configs against them
(`config_problems`) and the inspector's forms take their ranges, defaults and tooltips from them, so
the two never disagree. Keys a schema does not list are left alone: plugins may add their own.
Renaming reads the same annotations to know how each config string is read (`rename_in_config`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from .expressions import rename_node_references
from .json_names import json_type_name
from .node_descriptors import BUILTIN_DESCRIPTORS, NodeTypeDescriptor, describe

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


def rename_in_config(
    node_type: str,
    config: dict[str, Any],
    old: str,
    new: str,
    known: Mapping[str, NodeTypeDescriptor] | None = None,
) -> dict[str, Any]:
    """`config` with references to node `old` pointing at `new`, each value read the way it is used.

    Expressions (`condition`, `output_mapping` values) are rewritten as expressions, node-name keys
    (`true_path`, `false_path`) only when they equal `old`, and every other string as a template, so
    a plain text such as "login.example.com" is never mistaken for a reference to node `login`.
    Which keys are which is the type's descriptor's to say (`known`: custom types' descriptors).
    """
    if old == new:
        return config
    descriptor = describe(node_type, known)
    expression_keys = descriptor.expression_keys
    name_keys = descriptor.node_name_keys
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in name_keys:
            out[key] = new if value == old else value
        elif key in expression_keys and isinstance(value, str):
            out[key] = rename_node_references(value, old, new, kind="expression")
        elif key in descriptor.expression_list_keys and isinstance(value, list):
            out[key] = [_rename_expression_item(item, old, new) for item in value]
        elif (key == OUTPUT_MAPPING_KEY or key in descriptor.expression_map_keys) and isinstance(value, dict):
            out[key] = {
                k: rename_node_references(v, old, new, kind="expression") if isinstance(v, str) else v
                for k, v in value.items()
            }
        else:
            out[key] = _rename_templates(value, old, new)
    return out


def _rename_expression_item(item: Any, old: str, new: str) -> Any:
    """An item of an expression list: an expression, or an object whose `that` is one."""
    if isinstance(item, str):
        return rename_node_references(item, old, new, kind="expression")
    if isinstance(item, dict) and isinstance(item.get("that"), str):
        return {**item, "that": rename_node_references(item["that"], old, new, kind="expression")}
    return item


def rename_in_condition(condition: str | None, old: str, new: str) -> str | None:
    """A connection's condition (always an expression) with node `old` renamed to `new`."""
    if not condition:
        return condition
    return rename_node_references(condition, old, new, kind="expression")


# -- config schemas: each node type's descriptor holds its own (node_descriptors.py) ------------

CONFIG_SCHEMAS: dict[str, dict[str, Any]] = {
    name: descriptor.config_schema for name, descriptor in BUILTIN_DESCRIPTORS.items()
}
"""The built-in types' config schemas, read from their descriptors."""

# A connection's config (read by the scheduler).
CONNECTION_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "delay": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": 86_400,
            "description": "seconds to wait, once the connection is taken, before its target starts",
        },
    },
}

# Keys every node type accepts (read by the scheduler, not by a handler).
_COMMON: dict[str, dict[str, Any]] = {
    "output_mapping": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "fields added to the node's output, each an expression",
    },
}


def config_schema(node_type: str, known: Mapping[str, NodeTypeDescriptor] | None = None) -> dict[str, Any]:
    """The JSON Schema of `node_type`'s config, from its descriptor (`known`: custom types')."""
    return describe(node_type, known).config_schema


def field_schema(
    node_type: str, key: str, known: Mapping[str, NodeTypeDescriptor] | None = None
) -> dict[str, Any]:
    """The schema of one config field (an empty schema, accepting anything, when none is known)."""
    found = describe(node_type, known).field_schema(key)
    return found if found else dict(_COMMON.get(key, {}))


def declared_types(schema: Mapping[str, Any]) -> list[str]:
    """The types a schema's `type` keyword allows, as a list (empty when it names none)."""
    types = schema.get("type")
    if isinstance(types, str):
        return [types]
    return [t for t in types or () if isinstance(t, str)]


def _matches_type(value: Any, wanted: str) -> bool:
    kind = json_type_name(value)
    if wanted == "number":
        return kind in ("integer", "number") and math.isfinite(value)
    if wanted == "integer":
        return kind == "integer" or (kind == "number" and math.isfinite(value) and float(value).is_integer())
    return kind == wanted


_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "string": "text",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _shown(value: Any) -> str:
    kind = json_type_name(value)
    if kind == "string":
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'the text "{text}"'
    if kind in ("integer", "number"):
        return f"the number {value!r}"
    if kind == "boolean":
        return "true" if value else "false"
    return _NAMES.get(kind, kind)


def _expected(schema: Mapping[str, Any]) -> str:
    names = [_NAMES.get(t, t) for t in declared_types(schema) if t != "null"]
    text = " or ".join(names) or "a value"
    low, high = schema.get("minimum"), schema.get("maximum")
    above = schema.get("exclusiveMinimum")
    if above is not None:
        text += f" above {above:,}" + (f" and at most {high:,}" if high is not None else "")
    elif low is not None and high is not None:
        text += f" from {low:,} to {high:,}"
    elif low is not None:
        text += f" of {low:,} or more"
    elif high is not None:
        text += f" of at most {high:,}"
    if schema.get("x-template"):
        text += " (or a {{template}} giving one)"
    return text


def check_value(schema: Mapping[str, Any], value: Any) -> str | None:
    """What is wrong with `value` against one field's schema, as the end of a sentence; None if fine."""
    if schema.get("x-template") and isinstance(value, str) and "{{" in value:
        return None  # read when the node runs; its syntax is checked with the other templates
    allowed = declared_types(schema)
    if allowed:
        if not any(_matches_type(value, t) for t in allowed):
            return f"expected {_expected(schema)}, found {_shown(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"expected one of {', '.join(map(str, schema['enum']))}, found {_shown(value)}"
    kind = json_type_name(value)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        above = schema.get("exclusiveMinimum")
        if (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
        ):
            return f"expected {_expected(schema)}, found {_shown(value)}"
    elif kind == "object":
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return _object_problem(schema, value)
        return None
    items = schema.get("items")
    if kind == "array" and isinstance(items, Mapping):
        for index, item in enumerate(value):
            wrong = check_value(items, item)
            if wrong is not None:
                return f"[{index}]: {wrong}"
    return None


def _object_problem(schema: Mapping[str, Any], value: Mapping[str, Any]) -> str | None:
    """The first problem inside an object value: a missing required field, a field that does not
    fit its schema (`properties`, else `additionalProperties`) or one `additionalProperties: false`
    does not allow, prefixed with the field's name."""
    for key in schema.get("required") or ():
        if key not in value:
            return f"{key}: missing"
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if extra is False and key not in properties:
            return f"{key}: not one of its fields ({', '.join(properties)})"
        sub = properties.get(key, extra)
        if isinstance(sub, Mapping):
            wrong = check_value(sub, item)
            if wrong is not None:
                return f"{key}: {wrong}"
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def config_problems(
    node_type: str,
    config: Mapping[str, Any],
    skip: Collection[str] = (),
    known: Mapping[str, NodeTypeDescriptor] | None = None,
) -> list[tuple[str, str]]:
    """(key, what is wrong) for each required config field that is missing and each field whose type
    or range does not fit its node type's schema; keys in `skip` are type-checked elsewhere."""
    descriptor = describe(node_type, known)
    properties = descriptor.config_schema.get("properties") or {}
    found = [
        (
            key,
            f"{_article(node_type)} {node_type} needs {_article(key)} {key}"
            + _wanted_hint(properties.get(key)),
        )
        for key in descriptor.required_keys
        if _missing(config.get(key))
    ]
    missing = {key for key, _ in found}
    for key, value in config.items():
        field = properties.get(key) if key not in skip and key not in missing else None
        if not isinstance(field, Mapping):
            continue  # unknown keys are the file reader's business (and plugins may add some)
        wrong = check_value(field, value)
        if wrong is not None:
            found.append((key, wrong))
    return found


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _wanted_hint(field: Any) -> str:
    """ " (a whole number)" after a missing field's name, from its schema; nothing when it says no type
    or is an expression (whose own check says more)."""
    if not isinstance(field, Mapping) or field.get("x-expression"):
        return ""
    if isinstance(field.get("enum"), list):
        return f" (one of {', '.join(map(str, field['enum']))})"
    names = [_NAMES[t] for t in declared_types(field) if t in _NAMES and t != "null"]
    return f" ({' or '.join(names)})" if names else ""


def connection_config_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, what is wrong) for each field of a connection's config that does not fit its schema."""
    found = []
    for key, field in CONNECTION_CONFIG_SCHEMA["properties"].items():
        if key in config:
            wrong = check_value(field, config[key])
            if wrong is not None:
                found.append((key, wrong))
    return found
