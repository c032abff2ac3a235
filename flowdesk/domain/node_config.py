"""Which node-config values are expressions, templates or node names, and renaming inside them.

Validation, the engine's rename-aware tools and the editor all ask the same question ("how is this
config string read?"), so the answer lives here once.

Each built-in type's config is also described once here (`CONFIG_SCHEMAS`): JSON Schema (draft
2020-12 keywords: `type`, `minimum`, `maximum`, `enum`, `additionalProperties`, `default`,
`description`) plus one flowdesk keyword, `x-template: true`, for a field that may instead hold a
template (`"{{input.n}}"`) read when the node runs. Validation checks configs against them
(`config_problems`) and the inspector's forms take their ranges, defaults and tooltips from them, so
the two never disagree. Keys a schema does not list are left alone: plugins may add their own.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from .enums import NodeType
from .expressions import rename_node_references
from .json_names import json_type_name

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


# -- config schemas, one per built-in node type ----------------------------------------------


_TEXT_OR_NULL = ["string", "null"]

CONFIG_SCHEMAS: dict[str, dict[str, Any]] = {
    NodeType.START.value: {"type": "object", "properties": {}},
    NodeType.END.value: {
        "type": "object",
        "properties": {
            "output": {"description": "the run's result: a template, or an object/list of templates"},
            "outputs": {"description": "older name of output"},
        },
    },
    NodeType.API_CALL.value: {
        "type": "object",
        "properties": {
            "api_id": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "the API definition from the library this node calls",
            },
            "method": {"type": _TEXT_OR_NULL, "description": "HTTP method, overrides the API's"},
            "url": {"type": _TEXT_OR_NULL, "description": "URL template, overrides the API's"},
            "headers": {"type": ["object", "string", "null"], "description": "headers added to the API's"},
            "query": {"type": ["object", "string", "null"], "description": "query parameters"},
            "body": {"description": "request body (templates inside are rendered)"},
            "content_type": {"type": _TEXT_OR_NULL, "description": "how the body is encoded"},
            "parameters": {
                "type": ["object", "null"],
                "description": "values of the API's {{params.*}}, as templates",
            },
            "auth": {"type": ["object", "null"], "description": "authentication, overrides the API's"},
            "timeout": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 86_400,
                "x-template": True,
                "description": "seconds one attempt may take",
            },
            "retry_count": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": 100,
                "x-template": True,
                "description": "retries after a failed attempt",
            },
            "retry_delay": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 86_400,
                "x-template": True,
                "description": "seconds before the first retry (doubled each time, with jitter)",
            },
            "accept_status": {
                "type": ["integer", "string", "array", "null"],
                "description": 'statuses outside 2xx that still count as success, e.g. "404" or [404, 409]',
            },
            "response_body_limit": {
                "type": ["integer", "null"],
                "minimum": 0,
                "x-template": True,
                "description": "bytes of the response body kept in the step's output",
            },
        },
    },
    NodeType.CONDITION.value: {
        "type": "object",
        "properties": {
            "condition": {"type": "string", "description": "the expression deciding true or false"},
            "true_path": {"type": _TEXT_OR_NULL, "description": "node to go to when true"},
            "false_path": {"type": _TEXT_OR_NULL, "description": "node to go to when false"},
        },
    },
    NodeType.DELAY.value: {
        "type": "object",
        "properties": {
            "seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": 86_400,
                "default": 0,
                "x-template": True,
                "description": "seconds to wait",
            }
        },
    },
    NodeType.LOOP.value: {
        "type": "object",
        "properties": {
            "condition": {
                "type": _TEXT_OR_NULL,
                "description": "go on while this expression is true (loop.index counts from 0)",
            },
            "items": {
                "type": ["string", "array", "object", "null"],
                "description": "one iteration per item (loop.item), usually a template such as {{input.users}}",
            },
            "max_iterations": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10_000_000,
                "default": 1000,
                "x-template": True,
                "description": "the loop stops here, with a warning",
            },
            "break_on_error": {
                "type": "boolean",
                "default": True,
                "x-template": True,
                "description": "a failed iteration fails the LOOP (false: it is recorded and the loop goes on)",
            },
        },
    },
    NodeType.PARALLEL.value: {
        "type": "object",
        "properties": {
            "max_concurrent": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100_000,
                "default": 0,
                "x-template": True,
                "description": "branches running at once (0: all of them)",
            },
            "wait_for_all": {
                "type": "boolean",
                "default": True,
                "x-template": True,
                "description": "finish when every branch has (false: when the first one succeeds)",
            },
        },
    },
}

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


def config_schema(node_type: str) -> dict[str, Any] | None:
    """The JSON Schema of `node_type`'s config, or None for a type without one (a custom type)."""
    return CONFIG_SCHEMAS.get(str(node_type))


def field_schema(node_type: str, key: str) -> dict[str, Any]:
    """The schema of one config field (an empty schema, accepting anything, when none is known)."""
    schema = config_schema(node_type)
    if schema is not None and key in schema["properties"]:
        return dict(schema["properties"][key])
    return dict(_COMMON.get(key, {}))


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
    types = schema.get("type")
    names = [_NAMES[t] for t in ([types] if isinstance(types, str) else types or []) if t != "null"]
    text = " or ".join(names) or "a value"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
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
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_matches_type(value, t) for t in allowed):
            return f"expected {_expected(schema)}, found {_shown(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"expected one of {', '.join(map(str, schema['enum']))}, found {_shown(value)}"
    if json_type_name(value) in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"expected {_expected(schema)}, found {_shown(value)}"
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and isinstance(value, Mapping):
        for key, item in value.items():
            wrong = check_value(extra, item)
            if wrong is not None:
                return f"{key}: {wrong}"
    return None


def config_problems(
    node_type: str, config: Mapping[str, Any], skip: Collection[str] = ()
) -> list[tuple[str, str]]:
    """(key, what is wrong) for each config field whose type or range does not fit its node type;
    keys in `skip` are checked elsewhere."""
    schema = config_schema(node_type)
    if schema is None:
        return []
    found = []
    for key, value in config.items():
        field = schema["properties"].get(key) if key not in skip else None
        if field is None:
            continue  # unknown keys are the file reader's business (and plugins may add some)
        wrong = check_value(field, value)
        if wrong is not None:
            found.append((key, wrong))
    return found


def connection_config_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, what is wrong) for each field of a connection's config that does not fit its schema."""
    found = []
    for key, field in CONNECTION_CONFIG_SCHEMA["properties"].items():
        if key in config:
            wrong = check_value(field, config[key])
            if wrong is not None:
                found.append((key, wrong))
    return found
