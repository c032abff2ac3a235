"""Workflow inputs: what a run's `{{input.*}}` must hold, declared in `workflow.config.inputs`.

The declaration is a JSON Schema object (validated with the `jsonschema` library):

    {"type": "object",
     "properties": {"base_url": {"type": "string", "default": "http://127.0.0.1:8765",
                                 "description": "Where the demo server listens"}},
     "required": ["base_url"]}

One place holds the rules every door applies (the engine, so the CLI, the Python API and the app):
the input must be a JSON object (or nothing), declared defaults fill what is missing, a required
input that is still missing is refused with one sentence, and the rest is checked against the
schema. Without a declaration, `propose_inputs` reads the workflow's `{{input.*}}` references and
proposes one (names, and types where the use shows them), which the run dialog offers as a form.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInputError
from .expressions import references
from .json_names import json_kind, json_path
from .node_config import OUTPUT_MAPPING_KEY
from .node_descriptors import describe

__all__ = [
    "INPUTS_KEY",
    "InputField",
    "apply_inputs",
    "declared_inputs",
    "input_fields",
    "inputs_schema_problems",
    "propose_inputs",
]

INPUTS_KEY = "inputs"  # the key of workflow.config that holds the declaration
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")

SchemaPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class InputField:
    """One declared (or proposed) input, as a form shows it."""

    name: str
    type: str | None  # a JSON Schema type name; None when any value goes
    required: bool = False
    has_default: bool = False
    default: Any = None
    description: str = ""


def declared_inputs(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The `inputs` declaration of a workflow's config, or None when it declares none."""
    schema = (config or {}).get(INPUTS_KEY)
    return schema if isinstance(schema, dict) else None


def _validator_for(schema: Mapping[str, Any]) -> Any:
    # Imported here: jsonschema costs start-up time that commands without inputs need not pay.
    from jsonschema import validators

    return validators.validator_for(schema, default=validators.Draft202012Validator)(schema)


def inputs_schema_problems(schema: Any) -> list[tuple[SchemaPath, str]]:
    """What is wrong with an `inputs` declaration: (path inside it, one sentence) pairs; [] when fine."""
    if not isinstance(schema, dict):
        return [((), f"inputs must be a JSON Schema object describing the input, found {json_kind(schema)}")]
    if schema.get("type", "object") != "object":
        return [
            (("type",), f'inputs must describe an object: "type" must be "object", not {schema["type"]!r}')
        ]
    from jsonschema import exceptions, validators

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as err:
        path = tuple(err.path)
        if path and path[-1] == "type" and isinstance(err.instance, str):
            known = ", ".join(t for t in JSON_TYPES)
            return [(path, f"'{err.instance}' is not a JSON Schema type (use one of {known})")]
        return [(path, f"not a valid JSON Schema: {err.message}")]
    problems: list[tuple[SchemaPath, str]] = []
    properties = schema.get("properties") or {}
    for name, prop in properties.items():
        if isinstance(prop, dict) and "default" in prop:
            error = _first_error(_validator_for(prop), prop["default"])
            if error is not None:
                problems.append(
                    (
                        ("properties", name, "default"),
                        f"the default of '{name}' does not fit: {error.message}",
                    )
                )
    return problems


def _first_error(validator: Any, value: Any) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(validator.iter_errors(value))


def apply_inputs(config: Mapping[str, Any] | None, input_data: Any, workflow_name: str) -> Any:
    """The input a run gets: checked to be an object (or nothing), declared defaults filled in,
    required inputs present, values fitting the declaration. InvalidInputError says what is wrong.

    Without a declaration the input is passed through (None stays None)."""
    where = f"workflow '{workflow_name}'"
    if input_data is not None and not isinstance(input_data, dict):
        raise InvalidInputError(
            f"the input of {where} must be a JSON object of named values such as "
            f'{{"base_url": "..."}}, not {json_kind(input_data)}.'
        )
    schema = declared_inputs(config)
    if schema is None:
        return input_data
    problems = inputs_schema_problems(schema)
    if problems:
        path, message = problems[0]
        at = json_path(("config", INPUTS_KEY, *path))
        raise InvalidInputError(f"The inputs declared in {where} cannot be used: {at}: {message}.")
    data = dict(input_data or {})
    for name, prop in (schema.get("properties") or {}).items():
        if name not in data and isinstance(prop, dict) and "default" in prop:
            data[name] = copy.deepcopy(prop["default"])
    for name in schema.get("required") or ():
        if name not in data:
            raise InvalidInputError(f"input '{name}' is required (declared in {where})")
    error = _first_error(_validator_for(schema), data)
    if error is not None:
        where_in = json_path(error.absolute_path)
        subject = f"input '{where_in}'" if where_in else "the input"
        raise InvalidInputError(f"{subject} does not fit its declaration in {where}: {error.message}")
    return data


def input_fields(schema: Mapping[str, Any]) -> list[InputField]:
    """The top-level inputs of a declaration, in their declared order, as a form shows them."""
    required = set(schema.get("required") or ())
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type")
        if isinstance(kind, list):  # ["string", "null"]: the first that is not null
            kind = next((k for k in kind if k != "null"), None)
        fields.append(
            InputField(
                name=str(name),
                type=kind if kind in JSON_TYPES else None,
                required=name in required,
                has_default="default" in prop,
                default=prop.get("default"),
                description=str(prop.get("description") or ""),
            )
        )
    for name in schema.get("required") or ():
        if name not in (schema.get("properties") or {}):
            fields.append(InputField(name=str(name), type=None, required=True))
    return fields


# -- proposing a declaration from the references -----------------------------------------------

# A config value that is exactly one reference, at these keys, shows the input's type.
_WHOLE_VALUE_TYPES = {("LOOP", "items"): "array", ("DELAY", "seconds"): "number"}


def _strings(value: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, key if key is not None else str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def propose_inputs(graph: Any) -> dict[str, Any]:
    """A declaration proposed from the `{{input.*}}` references of `graph` (a WorkflowGraph):
    every top-level name read, typed where the use shows it (`input.user.id`: an object; a loop's
    items: an array; inside a longer text such as a URL: a string). Nothing is marked required."""
    types: dict[str, str | None] = {}

    def note(name: str, kind: str | None) -> None:
        if kind is not None or name not in types:
            types[name] = kind if kind is not None else types.get(name)

    def scan(text: str, kind: str, whole_type: str | None) -> None:
        found = references(text, kind=kind)  # type: ignore[arg-type]
        paths = [p for p in found if len(p) >= 2 and p[0] == "input" and isinstance(p[1], str)]
        bare = text.strip()
        whole = (
            kind == "template"
            and len(found) == 1
            and bare.startswith("{{")
            and bare.endswith("}}")
            and bare.count("{{") == 1
        )
        for path in paths:
            name = str(path[1])
            if len(path) > 2:
                note(name, "array" if isinstance(path[2], int) else "object")
            elif whole:
                note(name, whole_type)
            elif kind == "template":
                note(name, "string")  # part of a longer text
            else:
                note(name, None)

    for node in graph.nodes:
        node_type = str(node.node_type)
        descriptor = describe(node_type)
        expression_keys = set(descriptor.expression_keys)
        skip = set(descriptor.node_name_keys)
        for top, value in (node.config or {}).items():
            if top in skip:
                continue
            as_expression = (
                top in expression_keys
                or top == OUTPUT_MAPPING_KEY
                or top in descriptor.expression_map_keys
                or top in descriptor.expression_list_keys
            )
            for _key, text in _strings(value):
                scan(text, "auto" if as_expression else "template", _WHOLE_VALUE_TYPES.get((node_type, top)))
    for connection in graph.connections:
        if connection.condition:
            scan(connection.condition, "auto", None)
    properties: dict[str, Any] = {}
    for name in types:  # in the order the workflow first reads them
        kind = types[name]
        properties[name] = {"type": kind} if kind else {}
    return {"type": "object", "properties": properties}
