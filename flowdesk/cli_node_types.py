"""`flowdesk node-type add|list|delete`: custom node types registered without code.

`add FILE` reads a JSON or YAML file holding the seed's registration body (`type_name`,
`description`, `config_schema`, `execution_handler`), or a list of them, and registers each
(an existing type of that name is updated). Every refusal is one sentence naming the file and where
in it; nothing is stored when one entry of the file is refused. docs/cli.md has the details.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowdesk.cli_actions import add_action, add_action_group, cli_module
from flowdesk.domain.errors import InvalidInputError

FIELDS = ("type_name", "description", "config_schema", "execution_handler")


def add_node_type(subparsers: Any) -> None:
    """`flowdesk node-type add FILE | list | delete NAME`."""
    actions = add_action_group(
        subparsers, "node-type", "custom node types: register from a file, list, delete"
    )
    p = add_action(
        actions, "add", "register (or update) the node type(s) described in a JSON or YAML file", cmd_add
    )
    p.add_argument("file", metavar="FILE", help="a registration body, or a list of them (.json, .yaml)")
    p = add_action(actions, "list", "list the registered custom node types", cmd_list)
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p = add_action(actions, "delete", "remove a custom node type no node uses", cmd_delete)
    p.add_argument("name", metavar="NAME", help="the type's name")


def read_registrations(path: Path) -> list[dict[str, Any]]:
    """The registration bodies of a JSON or YAML file; InvalidInputError (one sentence, located)
    when the file cannot be read or an entry is not a registration body."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot be read ({exc.__class__.__name__}).") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise InvalidInputError(f"{path}{where}: not valid YAML ({problem}).") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{path} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})."
            ) from None
    entries = data if isinstance(data, list) else [data]
    if not entries:
        raise InvalidInputError(f"{path}: the list holds no node type.")
    for i, entry in enumerate(entries):
        where = f"{path}" + (f" [{i}]" if isinstance(data, list) else "")
        _check_entry(entry, where)
    return entries


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict):
        raise InvalidInputError(
            f"{where}: a node type is an object with {', '.join(FIELDS)}, not {type(entry).__name__}."
        )
    unknown = [k for k in entry if k not in FIELDS]
    if unknown:
        raise InvalidInputError(
            f"{where}: '{unknown[0]}' is not a field of a node type (the fields: {', '.join(FIELDS)})."
        )
    name = entry.get("type_name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{where}.type_name: a node type needs a name (text).")
    if not isinstance(entry.get("description", ""), str):
        raise InvalidInputError(f"{where}.description: must be text.")
    if not isinstance(entry.get("config_schema", {}), dict | type(None)):
        raise InvalidInputError(
            f"{where}.config_schema: must be an object (field names to types, or a JSON Schema)."
        )


def cmd_add(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.domain.errors import FlowdeskError
    from flowdesk.services.node_types import NodeTypeService

    path = Path(args.file)
    entries = read_registrations(path)
    with cli.open_database(args) as db:
        service = NodeTypeService(db)
        for i, entry in enumerate(entries):  # checked all before storing any
            try:
                service.check_registration(**entry)
            except FlowdeskError as err:
                where = f"{path}" + (f" [{i}]" if len(entries) > 1 else "")
                raise InvalidInputError(f"{where}: {err.message}") from None
        done = service.register_node_types(entries)
    for registered, created in done:
        verb = "Registered" if created else "Updated"
        handler = f" (handler {registered.execution_handler})" if registered.execution_handler else ""
        cli.say(f"{verb} node type '{registered.type_name}'{handler}.")
    return cli.EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.node_types import NodeTypeService

    with cli.open_database(args) as db:
        types = NodeTypeService(db).list_node_types()
    if args.json:
        cli.say(
            json.dumps(
                [t.model_dump(mode="json", exclude={"id", "created_at", "updated_at"}) for t in types],
                ensure_ascii=False,
                indent=2,
            )
        )
        return cli.EXIT_OK
    if not types:
        cli.say("No custom node types.")
        return cli.EXIT_OK
    rows = [
        (
            t.type_name,
            t.execution_handler or "",
            ", ".join(t.descriptor().config_schema["properties"]),
            t.description,
        )
        for t in types
    ]
    cli.say(cli.format_table(("NAME", "HANDLER", "FIELDS", "DESCRIPTION"), rows))
    return cli.EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    cli = cli_module()
    from flowdesk.services.node_types import NodeTypeService

    with cli.open_database(args) as db:
        NodeTypeService(db).delete_node_type(args.name)
    cli.say(f"Deleted node type '{args.name}'.")
    return cli.EXIT_OK
