"""One description per node type: what validation, the inspector, the palette, the canvas, renaming,
masking and the file format all read.

A `NodeTypeDescriptor` holds a type's config schema (JSON Schema, draft 2020-12 keywords, plus the
flowdesk annotations below), its output ports and the connection type each starts, whether it has
an input, the config a new node gets, its palette label, icon, colour, category and help text.
Built-in types are described in `BUILTIN_DESCRIPTORS`; a custom type registered with the seed's
body (`type_name`, `description`, `config_schema`, `execution_handler`) is described the same way by
`describe_custom`, its schema in the seed's short form (`{"processor_type": "string"}`) or full
JSON Schema.

Field annotations in a config schema (on a property):
- `x-template: true`: the field may hold a `{{template}}` instead of a value of its type;
- `x-expression: true`: the field is an expression (evaluated for a value), not a template;
- `x-expression-map: true`: the field is an object whose values are expressions (like
  `output_mapping`);
- `x-expression-list: true`: the field is a list whose items are expressions, or objects whose
  `that` is one (ASSERT's `assertions`);
- `x-node-name: true`: the field names a node (renaming rewrites it, validation checks it);
- `x-secret: true`: a literal value is a credential (masked in exports); on the properties of an
  object field (API_CALL's `auth.token`) too.
Schema-level annotations of a custom type: `title` (palette label), `description` (help text),
`x-icon` (one character), `x-color` (`#rrggbb`), `x-category`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .enums import ConnectionType, NodeType
from .response_cache import CACHE_SCHEMA

__all__ = [
    "AUTH_SECRET_FIELDS",
    "BUILTIN_DESCRIPTORS",
    "COMMON_EXITS",
    "NodeTypeDescriptor",
    "OutputPort",
    "config_schema_problem",
    "describe",
    "describe_custom",
    "descriptors_of",
    "normalise_config_schema",
]


@dataclass(frozen=True, slots=True)
class OutputPort:
    """An output port: its name (shown when a node has several) and the connection type it starts.

    `config_key` names a config field that may stand in for the port's connections (CONDITION's
    `true_path`); `required` makes validation warn when a node has neither.
    """

    name: str
    connection_type: ConnectionType
    config_key: str | None = None
    required: bool = False
    when: str | None = None  # "the condition is true": when a run leaves through this port


# Connection types any node with an output may start (the others belong to one type's ports).
COMMON_EXITS = (ConnectionType.SEQUENCE, ConnectionType.CONDITIONAL, ConnectionType.ERROR)
_OUT = (OutputPort("out", ConnectionType.SEQUENCE),)
CUSTOM_COLOR = "#8a6d3b"
CUSTOM_ICON = "●"
CUSTOM_CATEGORY = "Custom"


@dataclass(frozen=True)
class NodeTypeDescriptor:
    """Everything flowdesk knows about one node type, built-in or custom."""

    type_name: str
    label: str
    help: str
    config_schema: dict[str, Any]
    icon: str = CUSTOM_ICON
    color: str = CUSTOM_COLOR
    category: str = CUSTOM_CATEGORY
    ports: tuple[OutputPort, ...] = _OUT
    has_input: bool = True
    new_config: dict[str, Any] = field(default_factory=dict)
    runs_body: bool = False  # runs other nodes again (LOOP): a cycle through it is allowed
    form: str | None = None  # a hand-made inspector form; None: the form is built from the schema
    builtin: bool = False
    handler: str | None = None  # a custom type's execution_handler
    # Why nodes of this type cannot run where the descriptor was made (its handler cannot be found:
    # set by the engine's check, engine/custom_types.py); validation reports it on each such node.
    cannot_run: str | None = None

    def _keys_marked(self, mark: str) -> tuple[str, ...]:
        props = self.config_schema.get("properties") or {}
        return tuple(k for k, s in props.items() if isinstance(s, Mapping) and s.get(mark))

    @cached_property
    def expression_keys(self) -> tuple[str, ...]:
        """Config keys holding an expression (evaluated) rather than a template (rendered)."""
        return self._keys_marked("x-expression")

    @cached_property
    def expression_map_keys(self) -> tuple[str, ...]:
        """Config keys holding an object of name -> expression (TRANSFORM's `expressions`)."""
        return self._keys_marked("x-expression-map")

    @cached_property
    def expression_list_keys(self) -> tuple[str, ...]:
        """Config keys holding a list of expressions or `{"that": expression}` items (ASSERT)."""
        return self._keys_marked("x-expression-list")

    @cached_property
    def node_name_keys(self) -> tuple[str, ...]:
        """Config keys naming a node."""
        return self._keys_marked("x-node-name")

    @cached_property
    def template_keys(self) -> tuple[str, ...]:
        """Config keys that may hold a {{template}} in place of a value of their type."""
        return self._keys_marked("x-template")

    @cached_property
    def secret_fields(self) -> tuple[str, ...]:
        """Dotted paths of config fields whose literal values are credentials (`auth.token`)."""
        found: list[str] = []
        for key, schema in (self.config_schema.get("properties") or {}).items():
            if not isinstance(schema, Mapping):
                continue
            if schema.get("x-secret"):
                found.append(key)
            for sub, sub_schema in (schema.get("properties") or {}).items():
                if isinstance(sub_schema, Mapping) and sub_schema.get("x-secret"):
                    found.append(f"{key}.{sub}")
        return tuple(found)

    @cached_property
    def required_keys(self) -> tuple[str, ...]:
        """Config keys a node of this type must set."""
        return tuple(str(k) for k in self.config_schema.get("required") or ())

    @property
    def default_name(self) -> str:
        """The name a new node of this type gets (made unique by the editor): its label, or for a
        custom type without a title its name in words ("MY_TYPE" -> "My Type")."""
        if self.builtin or self.config_schema.get("title"):
            return self.label
        return self.type_name.replace("_", " ").title()

    def exits(self) -> list[ConnectionType]:
        """Connection types a node of this type may start, in menu order (none without ports)."""
        return list(self.exit_types)

    @cached_property
    def exit_types(self) -> tuple[ConnectionType, ...]:
        """The same as a tuple, computed once (validation asks for every connection)."""
        if not self.ports:
            return ()
        types = list(COMMON_EXITS)
        types += [p.connection_type for p in self.ports if p.connection_type not in types]
        return tuple(types)

    def port_index(self, connection_type: ConnectionType | str) -> int:
        """Index of the output port a connection of this type is drawn from (the first by default)."""
        for i, port in enumerate(self.ports):
            if port.connection_type == connection_type:
                return i
        return 0

    def field_schema(self, key: str) -> dict[str, Any]:
        """The schema of one config field (empty, accepting anything, when the type declares none)."""
        props = self.config_schema.get("properties") or {}
        return dict(props.get(key) or {})


_TEXT_OR_NULL = ["string", "null"]
AUTH_SECRET_FIELDS = ("token", "password", "value", "client_secret", "secret_key", "session_token")
"""Fields of an `auth` config (a node's or an API definition's) whose literal values are credentials."""

_AUTH_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "authentication, overrides the API's",
    "properties": {name: {"x-secret": True} for name in AUTH_SECRET_FIELDS},
}


def _builtin(node_type: NodeType, **kwargs: Any) -> NodeTypeDescriptor:
    return NodeTypeDescriptor(type_name=node_type.value, builtin=True, **kwargs)


BUILTIN_DESCRIPTORS: dict[str, NodeTypeDescriptor] = {
    d.type_name: d
    for d in (
        _builtin(
            NodeType.START,
            label="Start",
            help="Where a run begins: receives the input.",
            icon="▶",
            color="#2e9d5b",
            category="Flow",
            has_input=False,
            config_schema={"type": "object", "properties": {}},
        ),
        _builtin(
            NodeType.END,
            label="End",
            help="Where a run ends: gives the output.",
            icon="■",
            color="#5f6b7a",
            category="Flow",
            ports=(),
            config_schema={
                "type": "object",
                "properties": {
                    "output": {"description": "the run's result: a template, or an object/list of templates"},
                    "outputs": {"description": "older name of output"},
                },
            },
        ),
        _builtin(
            NodeType.API_CALL,
            label="API call",
            help="Calls an HTTP API from the library or inline.",
            icon="⇄",
            color="#2f6fed",
            category="Calls",
            form="api_call",
            new_config={"method": "GET", "url": ""},
            config_schema={
                "type": "object",
                "properties": {
                    "api_id": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "description": "the API definition from the library this node calls",
                    },
                    "method": {"type": _TEXT_OR_NULL, "description": "HTTP method, overrides the API's"},
                    "url": {"type": _TEXT_OR_NULL, "description": "URL template, overrides the API's"},
                    "headers": {
                        "type": ["object", "string", "null"],
                        "description": "headers added to the API's",
                    },
                    "query": {"type": ["object", "string", "null"], "description": "query parameters"},
                    "body": {"description": "request body (templates inside are rendered)"},
                    "content_type": {"type": _TEXT_OR_NULL, "description": "how the body is encoded"},
                    "parameters": {
                        "type": ["object", "null"],
                        "description": "values of the API's {{params.*}}, as templates",
                    },
                    "auth": _AUTH_SCHEMA,
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
                    "cache": CACHE_SCHEMA,
                },
            },
        ),
        _builtin(
            NodeType.CONDITION,
            label="Condition",
            help="Branches on an expression: true or false.",
            icon="◆",
            color="#d4860b",
            category="Flow",
            form="condition",
            ports=(
                OutputPort(
                    "true",
                    ConnectionType.CONDITIONAL_TRUE,
                    config_key="true_path",
                    required=True,
                    when="the condition is true",
                ),
                OutputPort(
                    "false",
                    ConnectionType.CONDITIONAL_FALSE,
                    config_key="false_path",
                    required=True,
                    when="the condition is false",
                ),
            ),
            new_config={"condition": ""},
            config_schema={
                "type": "object",
                "required": ["condition"],
                "properties": {
                    "condition": {
                        "type": "string",
                        "x-expression": True,
                        "description": "the expression deciding true or false",
                    },
                    "true_path": {
                        "type": _TEXT_OR_NULL,
                        "x-node-name": True,
                        "description": "node to go to when true",
                    },
                    "false_path": {
                        "type": _TEXT_OR_NULL,
                        "x-node-name": True,
                        "description": "node to go to when false",
                    },
                },
            },
        ),
        _builtin(
            NodeType.DELAY,
            label="Delay",
            help="Waits a number of seconds.",
            icon="◷",
            color="#7c5cd6",
            category="Flow",
            form="delay",
            new_config={"seconds": 1},
            config_schema={
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
        ),
        _builtin(
            NodeType.PARALLEL,
            label="Parallel",
            help="Runs its branches at the same time.",
            icon="∥",
            color="#0f9aa8",
            category="Flow",
            form="parallel",
            ports=(
                OutputPort("branches", ConnectionType.PARALLEL),
                OutputPort("then", ConnectionType.SEQUENCE),
            ),
            new_config={"max_concurrent": 0, "wait_for_all": True},
            config_schema={
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
        ),
        _builtin(
            NodeType.LOOP,
            label="Loop",
            help="Repeats its body over items or while a condition holds.",
            icon="↻",
            color="#c2418f",
            category="Flow",
            form="loop",
            runs_body=True,
            ports=(
                OutputPort("body", ConnectionType.LOOP),
                OutputPort("done", ConnectionType.SEQUENCE),
            ),
            new_config={"items": "", "max_iterations": 1000, "break_on_error": True},
            config_schema={
                "type": "object",
                "x-needs-one-of": {
                    "fields": ["condition", "items"],
                    "why": "without them it stops only at max_iterations",
                },
                "properties": {
                    "condition": {
                        "type": _TEXT_OR_NULL,
                        "x-expression": True,
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
                    "concurrency": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10_000,
                        "default": 1,
                        "x-template": True,
                        "description": "iterations over items run up to this many at once (results stay in item order; needs items, no condition)",
                    },
                    "batch_size": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "maximum": 10_000_000,
                        "x-template": True,
                        "description": "each iteration gets up to this many items as loop.batch (needs items)",
                    },
                },
            },
        ),
        _builtin(
            NodeType.TRANSFORM,
            label="Transform",
            help="Builds a new object from templates and expressions.",
            icon="ƒ",
            color="#3d8b7a",
            category="Data",
            new_config={"template": {}},
            config_schema={
                "type": "object",
                "x-needs-one-of": {
                    "fields": ["template", "expressions"],
                    "why": "without them it builds an empty object",
                },
                "properties": {
                    "template": {
                        "type": ["object", "null"],
                        "description": 'the object to build, its texts templates: {"id": "{{input.id}}"}',
                    },
                    "expressions": {
                        "type": ["object", "null"],
                        "additionalProperties": {"type": "string"},
                        "x-expression-map": True,
                        "description": 'fields added to the object, each an expression: {"total": "a + b"}',
                    },
                },
            },
        ),
        _builtin(
            NodeType.SWITCH,
            label="Switch",
            help="Takes the first CONDITIONAL connection whose condition holds, else its default.",
            icon="⎇",
            color="#b5651d",
            category="Flow",
            ports=(
                OutputPort(
                    "cases",
                    ConnectionType.CONDITIONAL,
                    required=True,
                    when="a case matches",
                ),
                OutputPort("default", ConnectionType.SEQUENCE),
            ),
            config_schema={"type": "object", "properties": {}},
        ),
        _builtin(
            NodeType.ASSERT,
            label="Assert",
            help="Checks earlier outputs: expressions that must hold and a JSON Schema; fails with a diff.",
            icon="✓",
            color="#5b8c2a",
            category="Data",
            new_config={"assertions": ["response.status == 200"]},
            config_schema={
                "type": "object",
                "x-needs-one-of": {
                    "fields": ["assertions", "schema"],
                    "wanted": "assertions or a schema",
                    "why": "without them it checks nothing",
                },
                "properties": {
                    "assertions": {
                        "type": ["array", "null"],
                        "items": {
                            "type": ["string", "object"],
                            "required": ["that"],
                            "properties": {"that": {"type": "string"}, "message": {"type": "string"}},
                        },
                        "x-expression-list": True,
                        "description": 'expressions that must be true, or {"that": expression, "message": text}',
                    },
                    "schema": {
                        "type": ["object", "null"],
                        "description": "a JSON Schema the checked value must match (default: the response "
                        "schema of the API definition the call before uses, when imported from OpenAPI)",
                    },
                    "value": {
                        "type": ["string", "null"],
                        "description": "what the schema checks: a template (default {{response.data}})",
                    },
                },
            },
        ),
        _builtin(
            NodeType.SUBWORKFLOW,
            label="Sub-workflow",
            help="Runs another stored workflow as a child run; its output is the child's END output.",
            icon="⊞",
            color="#8e44ad",
            category="Flow",
            new_config={"workflow": "", "input": {}, "wait": True},
            config_schema={
                "type": "object",
                "required": ["workflow"],
                "properties": {
                    "workflow": {
                        "type": ["string", "integer"],
                        "x-workflow-ref": True,
                        "description": "the workflow to run: its id or name",
                    },
                    "version": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "description": "the number of a saved version to run (default: the current graph)",
                    },
                    "input": {
                        "type": ["object", "null"],
                        "description": 'the child\'s input, its texts templates: {"id": "{{input.id}}"}',
                    },
                    "wait": {
                        "type": "boolean",
                        "default": True,
                        "x-template": True,
                        "description": "wait for the child and output its result (false: start it and go on)",
                    },
                    "timeout": {
                        "type": ["number", "null"],
                        "exclusiveMinimum": 0,
                        "x-template": True,
                        "description": "seconds the child run may take",
                    },
                },
            },
        ),
    )
}


def _poll_schema(api_call: Mapping[str, Any]) -> dict[str, Any]:
    """POLL's schema: when to stop and how often to ask, then API_CALL's request fields (its
    `timeout` is the whole poll's; one request's is `request_timeout`; no `cache`: a poll asks anew)."""
    request = {k: v for k, v in api_call["properties"].items() if k not in ("timeout", "cache")}
    seconds = {"type": ["number", "null"], "minimum": 0, "maximum": 86_400, "x-template": True}
    return {
        "type": "object",
        "required": ["until"],
        "x-needs-one-of": {
            "fields": ["url", "api_id"],
            "wanted": "a url or an API",
            "why": "it has nothing to ask",
        },
        "properties": {
            "until": {
                "type": "string",
                "x-expression": True,
                "description": "stop asking when this holds; response is the latest answer, poll.attempt counts from 1",
            },
            "interval": {**seconds, "default": 1, "description": "seconds to wait before asking again"},
            "backoff": {
                "type": ["number", "null"],
                "minimum": 1,
                "maximum": 10,
                "default": 1,
                "x-template": True,
                "description": "each wait is the last one times this (1: a fixed interval, 2: doubling)",
            },
            "max_interval": {
                **seconds,
                "default": 60,
                "description": "the longest wait between two requests",
            },
            "timeout": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 604_800,
                "default": 300,
                "x-template": True,
                "description": "give up when the next wait would pass this many seconds since the first request",
            },
            "max_attempts": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 1_000_000,
                "default": 100,
                "x-template": True,
                "description": "give up after this many requests",
            },
            "request_timeout": {**seconds, "description": "seconds one request may take"},
            **request,
        },
    }


BUILTIN_DESCRIPTORS[NodeType.POLL.value] = _builtin(
    NodeType.POLL,
    label="Poll",
    help="Repeats an API call until a condition holds: waits for a job to be done.",
    icon="⟳",
    color="#3f51b5",
    category="Calls",
    new_config={"method": "GET", "url": "", "until": "response.data.status == 'done'", "interval": 1},
    config_schema=_poll_schema(BUILTIN_DESCRIPTORS[NodeType.API_CALL.value].config_schema),
)


JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
"""The type words of JSON Schema (what a short-form config_schema may name)."""


# -- custom types ----------------------------------------------------------------------------

# The seed's short form names types the way people write them; these are the JSON Schema words.
_TYPE_ALIASES = {
    "str": "string",
    "text": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "dict": "object",
    "map": "object",
    "list": "array",
    "none": "null",
}
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _short_type(value: Any) -> str | list[str] | None:
    """A short-form field's type ("string", "int", ["string", "null"]) as JSON Schema words; None
    when it is not one."""
    if isinstance(value, str):
        word = _TYPE_ALIASES.get(value.strip().lower(), value.strip().lower())
        return word if word in JSON_TYPES else None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        words = [_short_type(v) for v in value]
        return [w for w in words if isinstance(w, str)] if all(words) else None
    return None


def _is_full_schema(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or isinstance(schema.get("properties"), Mapping)


def config_schema_problem(schema: Any) -> str | None:
    """What is wrong with a custom type's `config_schema`, as one sentence; None when it is usable."""
    if schema is None:
        return None
    if not isinstance(schema, Mapping):
        return "config_schema must be an object: field names to types, or a JSON Schema"
    if _is_full_schema(schema):
        props = schema.get("properties", {})
        if not isinstance(props, Mapping):
            return "config_schema.properties must be an object of field schemas"
        for key, field_schema in props.items():
            if not isinstance(field_schema, Mapping):
                return f"config_schema.properties.{key} must be an object (a field's JSON Schema)"
            for word in _field_types(field_schema):
                if word not in JSON_TYPES:
                    return f"config_schema.properties.{key}: '{word}' is not a JSON Schema type"
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            return "config_schema.required must be a list of field names"
        color = schema.get("x-color")
        if color is not None and not (isinstance(color, str) and _COLOR.fullmatch(color)):
            return f"config_schema.x-color must be a colour like #3366cc, not {color!r}"
        return None
    for key, value in schema.items():
        if isinstance(value, Mapping):
            continue
        if _short_type(value) is None:
            return (
                f"config_schema.{key}: {value!r} is not a type "
                f"(use one of {', '.join(JSON_TYPES)}, or a JSON Schema object)"
            )
    return None


def _field_types(field_schema: Mapping[str, Any]) -> list[str]:
    types = field_schema.get("type")
    if isinstance(types, str):
        return [types]
    return [str(t) for t in types] if isinstance(types, list) else []


def normalise_config_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """A custom type's `config_schema` as JSON Schema: the full form as it is, the seed's short form
    (`{"processor_type": "string", "parameters": "object"}`) as an object whose fields are all
    required. Call `config_schema_problem` first: parts that are not types are left out here."""
    if not schema:
        return {"type": "object", "properties": {}}
    if _is_full_schema(schema):
        out = dict(schema)
        out.setdefault("type", "object")
        out.setdefault("properties", {})
        return out
    properties: dict[str, Any] = {}
    for key, value in schema.items():
        if isinstance(value, Mapping):
            properties[str(key)] = dict(value)
            continue
        kind = _short_type(value)
        if kind is not None:
            properties[str(key)] = {"type": kind}
    return {"type": "object", "properties": properties, "required": list(properties)}


def describe_custom(
    type_name: str,
    description: str = "",
    config_schema: Mapping[str, Any] | None = None,
    execution_handler: str | None = None,
) -> NodeTypeDescriptor:
    """The descriptor of a registered custom node type (the seed's registration body)."""
    schema = normalise_config_schema(config_schema)
    icon = schema.get("x-icon")
    color = schema.get("x-color")
    category = schema.get("x-category")
    return NodeTypeDescriptor(
        type_name=type_name,
        label=str(schema.get("title") or type_name),
        help=description or str(schema.get("description") or "Custom node type"),
        config_schema=schema,
        icon=icon if isinstance(icon, str) and len(icon) == 1 else CUSTOM_ICON,
        color=color if isinstance(color, str) and _COLOR.fullmatch(color) else CUSTOM_COLOR,
        category=category if isinstance(category, str) and category.strip() else CUSTOM_CATEGORY,
        new_config={k: v["default"] for k, v in schema["properties"].items() if "default" in v},
        handler=execution_handler,
    )


def describe(node_type: str, known: Mapping[str, NodeTypeDescriptor] | None = None) -> NodeTypeDescriptor:
    """The descriptor of `node_type`: a built-in's, else the one in `known`, else a bare one (a custom
    type nothing describes: any config, one `out` port)."""
    found = BUILTIN_DESCRIPTORS.get(str(node_type))
    if found is None and known is not None:
        candidate = known.get(str(node_type))
        if isinstance(candidate, NodeTypeDescriptor):
            found = candidate
    return found if found is not None else _bare(str(node_type))


_BARE: dict[str, NodeTypeDescriptor] = {}


def _bare(node_type: str) -> NodeTypeDescriptor:
    found = _BARE.get(node_type)
    if found is None:
        found = describe_custom(node_type)
        if len(_BARE) < 4096:  # a file of made-up type names must not grow this without end
            _BARE[node_type] = found
    return found


def descriptors_of(node_types: Any) -> dict[str, NodeTypeDescriptor]:
    """Built-ins plus what `node_types` holds: a mapping of name -> descriptor (registered custom
    types), or names only (each described bare)."""
    out = dict(BUILTIN_DESCRIPTORS)
    if isinstance(node_types, Mapping):
        for name, value in node_types.items():
            if name not in out:
                out[name] = value if isinstance(value, NodeTypeDescriptor) else _bare(name)
    elif node_types is not None:
        for name in node_types:
            out.setdefault(name, _bare(name))
    return out


def reserved_owner(connection_type: ConnectionType | str) -> str | None:
    """The built-in node type whose port alone may start `connection_type` (None for common types)."""
    for descriptor in BUILTIN_DESCRIPTORS.values():
        for port in descriptor.ports:
            if port.connection_type == connection_type and port.connection_type not in COMMON_EXITS:
                return descriptor.type_name
    return None


def ordered_type_names(known: Any = None) -> list[str]:
    """Built-in types in their own order, then the other known types by name (palette and menus)."""
    names = list(BUILTIN_DESCRIPTORS)
    return names + sorted(set(known or ()) - set(names))
