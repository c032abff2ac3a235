"""The workflow file format (format 1): one JSON document that moves a workflow between databases.

Reading checks the whole document and reports every problem at once, each with its JSON path
(`nodes[2].node_type`) and, where the text allows, its line. Writing produces the canonical form:
sorted keys, two-space indent, UTF-8, nodes and connections in the graph's order, API ids
renumbered 1, 2, 3... in order of first use. docs/file-format.md is the user-facing reference.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from flowdesk.gc_control import gc_paused

from ..domain.enums import BUILTIN_NODE_TYPES, ConnectionType, Severity
from ..domain.errors import FileFormatError, InvalidInputError
from ..domain.execution_handlers import normalise_handler, parsed_handler
from ..domain.json_names import json_path
from ..domain.models import ApiDefinition, ApiParameter, Connection, Node, Problem, Workflow, WorkflowGraph
from ..domain.node_descriptors import config_schema_problem, describe_custom, descriptors_of
from ..domain.response_cache import cache_option_problem
from ..domain.validation import NodeTypes, locate_graph_problems, one_line, suggest
from .canonical_json import dumps_canonical
from .export_redaction import redact_for_export
from .json_locate import (
    JsonPath,
    describe_json_error,
    find_token,
    line_column,
    locate_paths,
    path_at,
    repeated_keys,
)

__all__ = [
    "FORMAT_VERSION",
    "WorkflowFile",
    "read_workflow_file",
    "write_workflow_file",
    "workflow_document",
    "describe_problem",
]

FORMAT_VERSION = 2
"""Format 2 adds `workflows` (the sub-workflows a file carries); a file without them is written as
format 1, which every flowdesk reads. Format 1 files are read as before (`workflows` is unknown there).
`node_types` (the custom types' registrations the file's nodes use) may appear in either format: a
flowdesk that does not know it ignores it with a warning and needs the types registered itself, so
it needs no new format number."""

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_TOP_KEYS = ("flowdesk", "workflow", "nodes", "connections", "apis", "node_types")
_NODE_TYPE_KEYS = ("type_name", "description", "config_schema", "execution_handler")
_TOP_KEYS_2 = (*_TOP_KEYS, "workflows")  # format 2
_CARRIED_KEYS = ("workflow", "nodes", "connections")
_WORKFLOW_KEYS = ("name", "description", "version", "config", "tags", "is_active")
_NODE_KEYS = ("name", "node_type", "config", "position_x", "position_y", "description")
_CONNECTION_KEYS = ("from", "to", "connection_type", "condition", "config")
# Always written for an API; the optional ones only when they differ from their default.
_API_KEYS = ("id", "name", "method", "url", "headers", "query", "body", "timeout", "auth", "description")
_API_OPTIONAL_KEYS = (
    "content_type",
    "body_type",
    "tags",
    "parameters",
    "source",
    "connection",
    "response_schema",
    "cache",
)
_POSITION_LIMIT = 1e9
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")


@dataclass
class WorkflowFile:
    """A workflow file read and checked: the graph, its APIs (ids as in the file) and its warnings."""

    graph: WorkflowGraph
    apis: list[ApiDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source: str = "<input>"
    workflows: list[WorkflowGraph] = field(default_factory=list)  # the sub-workflows it carries (format 2)
    node_types: list[dict[str, Any]] = field(default_factory=list)
    """The custom types' registrations it carries (`type_name`, `description`, `config_schema`,
    `execution_handler`: the seed's body, the handler in its stored text form)."""


def describe_problem(problem: Problem, source: str | None = None) -> str:
    """One line for a person: `workflow.json, line 12: nodes[2].node_type: ... (did you mean API_CALL?)`."""
    where = source or ""
    if problem.line is not None:
        where += f", line {problem.line}" if where else f"line {problem.line}"
        if problem.column is not None and problem.node is None and problem.connection is None:
            where += f", column {problem.column}"
    label = "" if problem.severity == Severity.ERROR else "warning: "
    text = f"{label}{problem}"
    return one_line(f"{where}: {text}" if where else text)


# -- reading -----------------------------------------------------------------------------------


class _Unparsable(Exception):
    """The text is not JSON (or not text); `problem` says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _decode(data: str | bytes | bytearray) -> str:
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            raise _Unparsable(
                Problem(
                    message=f"the file is not UTF-8 text: byte {err.start} (0x{raw[err.start]:02x}) "
                    "cannot be decoded; save it as UTF-8",
                    line=line,
                )
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise TypeError(f"expected text or bytes, got {type(data).__name__}")
    return text[1:] if text.startswith("\ufeff") else text


class _NotFinite(ValueError):
    pass


def _reject_constant(token: str) -> Any:
    raise _NotFinite(token)


def _parse_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotFinite(token)
    return value


class _TooLong(ValueError):
    pass


def _parse_int(token: str) -> int:
    try:
        return int(token)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits, 4300)
        raise _TooLong(token) from None


class _Objects:
    """Builds JSON objects as `json` does, noting whether any gave a key twice (the last one wins)."""

    def __init__(self) -> None:
        self.repeated = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.repeated = True
        return obj


def _parse_json(text: str) -> tuple[Any, bool]:
    """The document, and whether some object in it repeats a key."""
    objects = _Objects()
    try:
        document = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
            object_pairs_hook=objects,
        )
    except json.JSONDecodeError as err:
        raise _Unparsable(
            Problem(message=describe_json_error(err), line=err.lineno, column=err.colno)
        ) from None
    except _NotFinite as err:
        token = str(err)
        offset = find_token(text, lambda t: t == token) or 0
        line, column = line_column(text, offset)
        raise _Unparsable(
            Problem(
                message=f"{token} is not a number JSON allows (numbers must be finite)",
                line=line,
                column=column,
            )
        ) from None
    except _TooLong as err:
        token = str(err)
        offset = find_token(text, lambda t: t == token) or 0
        line, column = line_column(text, offset)
        digits = len(token.lstrip("-"))
        raise _Unparsable(
            Problem(
                message=f"a whole number of {digits:,} digits is too long to read (at most "
                f"{sys.get_int_max_str_digits():,}); write it in double quotes to keep it as text",
                path=json_path(path_at(text, offset)) or None,
                line=line,
                column=column,
            )
        ) from None
    except RecursionError:
        raise _Unparsable(Problem(message="the document is nested too deeply to read", line=1)) from None
    if _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(text)
    return document, objects.repeated


def _reject_lone_surrogates(text: str) -> None:
    for match in _SURROGATE_ESCAPE.finditer(text):
        start = match.start()
        if text[start - 1 : start] == "\\" and (start < 2 or text[start - 2] != "\\"):
            continue  # an escaped backslash followed by "u...", not an escape
        code = int(match.group()[2:], 16)
        following = text[match.end() : match.end() + 6]
        is_pair = code < 0xDC00 and re.fullmatch(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", following)
        preceded = text[max(0, start - 6) : start]
        is_low_of_pair = code >= 0xDC00 and re.fullmatch(r"\\u[dD][89abAB][0-9a-fA-F]{2}", preceded)
        if not (is_pair or is_low_of_pair):
            line, column = line_column(text, start)
            raise _Unparsable(
                Problem(
                    message=f"{match.group()} is half of a UTF-16 surrogate pair, not a character",
                    line=line,
                    column=column,
                )
            )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_MISSING = object()


class _Reader:
    """Checks a parsed document part by part, collecting every problem with its path."""

    def __init__(self) -> None:
        self.found: list[tuple[Problem, JsonPath]] = []
        # Nodes/connections whose name or ends could not be read: graph checks about them are noise.
        self.unnamed_entries: set[JsonPath] = set()
        self.prefix: JsonPath = ()  # ("workflows", k) while a carried sub-workflow is read
        self.format = FORMAT_VERSION

    def problem(
        self, path: JsonPath, message: str, severity: Severity = Severity.ERROR, **extra: Any
    ) -> None:
        where = (*self.prefix, *path)
        self.found.append((Problem(severity=severity, message=one_line(message), **extra), where))

    def repeated_keys(self, text: str) -> None:
        """A warning at each key an object gives twice: JSON keeps the last one, silently."""
        for path, first, _again in repeated_keys(text):
            line = line_column(text, first)[0]
            self.problem(
                path,
                f"the key {json.dumps(path[-1], ensure_ascii=False)} is given twice in this object "
                f"(first on line {line}); the last one is used",
                Severity.WARNING,
            )

    def unknown_keys(self, obj: Mapping[str, Any], known: Iterable[str], path: JsonPath) -> None:
        known = tuple(known)
        for key in obj:
            if key not in known:
                hint = suggest(key, known)
                self.problem(
                    (*path, key),
                    "unknown key, ignored" + (f" (did you mean {hint}?)" if hint else ""),
                    Severity.WARNING,
                )

    def get(
        self,
        obj: Mapping[str, Any],
        key: str,
        path: JsonPath,
        expected: str,
        ok: Any,
        default: Any = _MISSING,
    ) -> Any:
        """The value of `key` if `ok(value)`; otherwise record what was expected and return `default`."""
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.problem((*path, key), f"missing; expected {expected}")
                return None
            return default
        if not ok(value):
            self.problem((*path, key), f"expected {expected}, found {_kind(value)}")
            return None if default is _MISSING else default
        return value

    def entries(
        self, raw: list[Any], key: str, what: str, known: Iterable[str]
    ) -> Iterator[tuple[int, JsonPath, dict[str, Any]]]:
        """(index, path, entry) of each object of the list `raw` (the document's `key`); an entry that
        is not an object is reported as not being `what`, unknown keys of the others as warnings."""
        for index, item in enumerate(raw):
            path: JsonPath = (key, index)
            if not isinstance(item, dict):
                self.problem(path, f"expected {what} (an object), found {_kind(item)}")
                continue
            self.unknown_keys(item, known, path)
            yield index, path, item

    # -- the parts ---------------------------------------------------------------------------

    def version(self, document: Mapping[str, Any]) -> None:
        version = document.get("flowdesk", _MISSING)
        if version is _MISSING:
            self.problem(
                ("flowdesk",),
                'missing; a flowdesk workflow file starts with the format version, "flowdesk": 1',
            )
        elif not _is_int(version):
            self.problem(
                ("flowdesk",), f"expected the format version as a whole number (1), found {_kind(version)}"
            )
        elif version > FORMAT_VERSION:
            self.problem(
                ("flowdesk",),
                f"written by a newer flowdesk (format {version}); this version reads format {FORMAT_VERSION}",
            )
            raise _Refused
        elif version < 1:
            self.problem(
                ("flowdesk",), f"format {version} does not exist; this version reads format {FORMAT_VERSION}"
            )
        else:
            self.format = version

    def carried(
        self, document: Mapping[str, Any], apis: list[ApiDefinition], node_types: NodeTypes
    ) -> list[WorkflowGraph]:
        """Format 2's `workflows`: the sub-workflows the file carries, each read and checked like the
        file's own workflow (their problems at `workflows[k]....`), their names unique in the file."""
        raw = self.get(document, "workflows", (), "a list of workflows", _is_list, [])
        graphs: list[WorkflowGraph] = []
        names: dict[str, int] = {}
        top = document.get("workflow", {}).get("name") if isinstance(document.get("workflow"), dict) else None
        for k, entry in enumerate(raw):
            if not isinstance(entry, dict):
                self.problem(("workflows", k), f"expected a workflow (an object), found {_kind(entry)}")
                continue
            self.prefix = ("workflows", k)
            try:
                self.unknown_keys(entry, _CARRIED_KEYS, ())
                workflow = self.workflow(entry)
                nodes = self.nodes(entry)
                connections = self.connections(entry)
                if workflow.name in names or workflow.name == top:
                    where = (
                        f"workflows[{names[workflow.name]}]"
                        if workflow.name in names
                        else "the file's workflow"
                    )
                    self.problem(("workflow", "name"), f"'{workflow.name}' is the name of {where} too")
                names.setdefault(workflow.name, k)
                if nodes is not None:
                    self.api_references(nodes, apis, None)
                    graph = WorkflowGraph(workflow=workflow, nodes=nodes, connections=connections)
                    _add_graph_problems(self, graph, node_types)
                    graphs.append(graph)
            finally:
                self.prefix = ()
        return graphs

    def workflow(self, document: Mapping[str, Any]) -> Workflow:
        path: JsonPath = ("workflow",)
        raw = self.get(document, "workflow", (), "an object with the workflow's name and settings", _is_dict)
        if raw is None:
            return Workflow(name="")
        self.unknown_keys(raw, _WORKFLOW_KEYS, path)
        name = self.get(raw, "name", path, "text: the workflow's name", _is_str)
        if isinstance(name, str) and not name.strip():
            self.problem((*path, "name"), "the workflow needs a name")
        return Workflow(
            name=name or "",
            description=self.get(raw, "description", path, "text", _is_str, ""),
            version=self.get(raw, "version", path, 'text such as "1.0"', _is_str, "1.0"),
            config=self.get(raw, "config", path, "an object", _is_dict, {}),
            tags=self.get(raw, "tags", path, "a list of text", _is_text_list, []),
            is_active=self.get(raw, "is_active", path, "true or false", _is_bool, False),
        )

    def nodes(self, document: Mapping[str, Any]) -> list[Node] | None:
        raw = self.get(document, "nodes", (), "a list of nodes", _is_list)
        if raw is None:
            return None
        nodes = []
        for i, path, item in self.entries(raw, "nodes", "a node", _NODE_KEYS):
            name = self.get(item, "name", path, "text: the node's name", _is_str)
            if name is None:
                self.unnamed_entries.add((*self.prefix, *path))
            node_type = self.get(item, "node_type", path, "text: the node type, such as API_CALL", _is_str)
            nodes.append(
                Node(
                    name=name if name is not None else f"\0nodes[{i}]",
                    node_type=node_type or "",
                    config=self.get(item, "config", path, "an object", _is_dict, {}),
                    position_x=self.position(item, "position_x", path),
                    position_y=self.position(item, "position_y", path),
                    description=self.get(item, "description", path, "text", _is_str, ""),
                )
            )
        return nodes

    def position(self, item: Mapping[str, Any], key: str, path: JsonPath) -> float:
        value = self.get(item, key, path, "a number", _is_number, 0)
        if abs(value) > _POSITION_LIMIT:
            self.problem((*path, key), f"{value!r} is too far away; positions lie between -1e9 and 1e9")
            return 0.0
        return float(value)

    def connections(self, document: Mapping[str, Any]) -> list[Connection]:
        raw = self.get(document, "connections", (), "a list of connections", _is_list, [])
        connections = []
        kinds = [k.value for k in ConnectionType]
        for j, path, item in self.entries(raw, "connections", "a connection", _CONNECTION_KEYS):
            source = self.get(item, "from", path, "text: the name of the node it leaves", _is_str)
            target = self.get(item, "to", path, "text: the name of the node it enters", _is_str)
            if source is None or target is None:
                self.unnamed_entries.add((*self.prefix, *path))
            kind = self.get(item, "connection_type", path, "text: a connection type", _is_str, "SEQUENCE")
            if kind not in kinds:
                hint = suggest(kind, kinds)
                self.problem(
                    (*path, "connection_type"),
                    f"'{kind}' is not a connection type"
                    + (f" (did you mean {hint}?)" if hint else f" (known: {', '.join(kinds)})"),
                )
                kind = "SEQUENCE"
            connections.append(
                Connection(
                    from_node=source if source is not None else f"\0connections[{j}].from",
                    to_node=target if target is not None else f"\0connections[{j}].to",
                    connection_type=ConnectionType(kind),
                    condition=self.get(item, "condition", path, "text or null", _is_str_or_null, None),
                    config=self.get(item, "config", path, "an object", _is_dict, {}),
                )
            )
        return connections

    def apis(self, document: Mapping[str, Any]) -> list[ApiDefinition]:
        raw = self.get(document, "apis", (), "a list of API definitions", _is_list, [])
        apis: list[ApiDefinition] = []
        seen: dict[int, int] = {}
        for k, path, item in self.entries(
            raw, "apis", "an API definition", (*_API_KEYS, *_API_OPTIONAL_KEYS)
        ):
            api_id = self.get(item, "id", path, "a whole number that nodes' api_id refer to", _is_int)
            if api_id is not None and api_id in seen:
                self.problem((*path, "id"), f"apis[{seen[api_id]}] already has the id {api_id}")
            elif api_id is not None:
                seen[api_id] = k
            name = self.get(item, "name", path, "text: the API's name", _is_str)
            url = self.get(item, "url", path, "text: the URL (templates allowed)", _is_str)
            # The API library refuses these too; said here, with the place, before anything is stored.
            if isinstance(name, str) and not name.strip():
                self.problem((*path, "name"), "an API needs a name (this one is empty)")
            if isinstance(url, str) and not url.strip():
                self.problem((*path, "url"), "an API needs a URL (this one is empty)")
            method = self.get(item, "method", path, "text: an HTTP method such as GET", _is_str, "GET")
            if method.upper() not in HTTP_METHODS:
                hint = suggest(method, HTTP_METHODS)
                self.problem(
                    (*path, "method"),
                    f"'{method}' is not an HTTP method" + (f" (did you mean {hint}?)" if hint else ""),
                )
                method = "GET"
            timeout = self.get(item, "timeout", path, "a number of seconds", _is_number, 30)
            if not 0 < timeout <= 86_400:
                self.problem(
                    (*path, "timeout"), f"{timeout!r} seconds is not a usable timeout (0 < timeout <= 86400)"
                )
                timeout = 30
            parameters = []
            for p, param in enumerate(
                self.get(item, "parameters", path, "a list of parameters", _is_list, [])
            ):
                try:
                    parameters.append(ApiParameter.model_validate(param))
                except ValidationError as err:
                    for detail in err.errors():
                        loc = tuple(x for x in detail["loc"] if isinstance(x, (str, int)))
                        self.problem((*path, "parameters", p, *loc), detail["msg"].lower())
            cache = self.get(
                item, "cache", path, 'an object such as {"ttl": 60}, or null', _is_dict_or_null, None
            )
            wrong = cache_option_problem(cache)
            if wrong is not None:
                self.problem((*path, "cache"), f"the cache option is not valid: {wrong}")
                cache = None
            definition = ApiDefinition(
                id=api_id,
                name=name or "",
                method=method.upper(),
                url=url or "",
                headers=self.get(item, "headers", path, "an object of text values", _is_text_dict, {}),
                query=self.get(item, "query", path, "an object", _is_dict, {}),
                body=item.get("body"),
                content_type=self.get(item, "content_type", path, "text or null", _is_str_or_null, None),
                body_type=self.get(item, "body_type", path, "text or null", _is_str_or_null, None),
                timeout=timeout,
                auth=self.get(item, "auth", path, "an object or null", _is_dict_or_null, None),
                connection=self.get(item, "connection", path, "an object", _is_dict, {}),
                description=self.get(item, "description", path, "text", _is_str, ""),
                tags=self.get(item, "tags", path, "a list of text", _is_text_list, []),
                parameters=parameters,
                source=self.get(item, "source", path, "text or null", _is_str_or_null, None),
                response_schema=self.get(
                    item, "response_schema", path, "a JSON Schema (an object) or null", _is_dict_or_null, None
                ),
                cache=cache,
            )
            apis.append(definition)
        return apis

    def node_types(self, document: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`node_types`: the registrations of the custom types the file's nodes use, each checked as
        a registration is (a usable config_schema, a handler of one of the forms), names unique."""
        raw = self.get(document, "node_types", (), "a list of node type registrations", _is_list, [])
        bodies: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for k, path, item in self.entries(raw, "node_types", "a node type registration", _NODE_TYPE_KEYS):
            name = self.get(item, "type_name", path, "text: the node type's name", _is_str)
            if name is None:
                continue
            name = name.strip()
            if not name:
                self.problem((*path, "type_name"), "a node type needs a name (this one is empty)")
                continue
            if name in BUILTIN_NODE_TYPES:
                self.problem(
                    (*path, "type_name"), f"'{name}' is a built-in node type and cannot be registered"
                )
                continue
            if name in seen:
                self.problem((*path, "type_name"), f"node_types[{seen[name]}] registers '{name}' already")
                continue
            seen[name] = k
            schema = self.get(item, "config_schema", path, "an object", _is_dict, {})
            wrong = config_schema_problem(schema)
            if wrong is not None:
                self.problem((*path, "config_schema"), wrong)
                continue
            try:
                handler = normalise_handler(item.get("execution_handler"))
            except ValueError as exc:
                self.problem((*path, "execution_handler"), str(exc))
                continue
            bodies.append(
                {
                    "type_name": name,
                    "description": self.get(item, "description", path, "text", _is_str, ""),
                    "config_schema": schema,
                    "execution_handler": handler,
                }
            )
        return bodies

    def api_references(
        self, nodes: list[Node], apis: list[ApiDefinition], used_elsewhere: Iterable[Any] | None = ()
    ) -> None:
        """Each node's `api_id` names one of the file's APIs; an API no node uses is a warning
        (`used_elsewhere`: ids the carried workflows use; None: leave unused ones to the top level)."""
        ids = {a.id for a in apis if a.id is not None}
        used: set[int] = set()
        for i, node in enumerate(nodes):
            if "api_id" not in node.config:
                continue
            api_id = node.config["api_id"]
            path: JsonPath = ("nodes", i, "config", "api_id")
            if api_id is None:
                continue
            if not _is_int(api_id):
                self.problem(
                    path,
                    f"expected the id of one of this file's apis (a whole number), found {_kind(api_id)}",
                )
            elif api_id not in ids:
                self.problem(path, f"{api_id} does not match any apis[].id in this file")
            else:
                used.add(api_id)
        if used_elsewhere is None:
            return
        used.update(i for i in used_elsewhere if _is_int(i))
        for k, api in enumerate(apis):
            if api.id is not None and api.id not in used:
                self.problem(
                    ("apis", k),
                    "no node uses this API; it is imported into the library anyway",
                    Severity.WARNING,
                )


class _Refused(Exception):
    """The document cannot be read at all (a newer format); stop after the problems found so far."""


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _is_dict_or_null(v: Any) -> bool:
    return v is None or isinstance(v, dict)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_str_or_null(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_text_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_text_dict(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def read_workflow_file(
    data: str | bytes | bytearray, *, source: str = "<input>", node_types: NodeTypes = None
) -> WorkflowFile:
    """Read and check a workflow file; raise `FileFormatError` listing every problem if it has errors.

    The returned `WorkflowFile.problems` holds the warnings (they do not block an import).
    """
    with gc_paused():
        return _read(data, source, node_types)


def _read(data: str | bytes | bytearray, source: str, node_types: NodeTypes) -> WorkflowFile:
    try:
        text = _decode(data)
        document, repeats = _parse_json(text)
    except _Unparsable as err:
        raise FileFormatError(describe_problem(err.problem, source), [err.problem]) from None

    reader = _Reader()
    if repeats:
        reader.repeated_keys(text)
    graph: WorkflowGraph | None = None
    apis: list[ApiDefinition] = []
    carried: list[WorkflowGraph] = []
    registrations: list[dict[str, Any]] = []
    if not isinstance(document, dict):
        reader.problem(
            (), f'expected a JSON object with "flowdesk", "workflow" and "nodes", found {_kind(document)}'
        )
    else:
        try:
            reader.version(document)
            reader.unknown_keys(document, _TOP_KEYS if reader.format < 2 else _TOP_KEYS_2, ())
            registrations = reader.node_types(document)
            node_types = _with_carried_types(node_types, registrations)
            workflow = reader.workflow(document)
            nodes = reader.nodes(document)
            connections = reader.connections(document)
            apis = reader.apis(document)
            if nodes is not None:
                elsewhere = [*_handler_api_ids(apis, registrations)]
                if reader.format >= 2:
                    elsewhere += _carried_api_ids(document)
                reader.api_references(nodes, apis, elsewhere)
                graph = WorkflowGraph(workflow=workflow, nodes=nodes, connections=connections)
                _add_graph_problems(reader, graph, node_types)
            if reader.format >= 2:
                carried = reader.carried(document, apis, node_types)
        except _Refused:
            pass

    problems = _locate(text, reader.found, document)
    problems.sort(key=lambda p: (p.severity != Severity.ERROR, p.line or 0))
    errors = [p for p in problems if p.severity == Severity.ERROR]
    warnings = [p for p in problems if p.severity != Severity.ERROR]
    if errors or graph is None:
        first = describe_problem(errors[0], source) if errors else f"{source}: the file has no nodes"
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        raise FileFormatError(first + more, errors + warnings)
    return WorkflowFile(
        graph=graph, apis=apis, problems=warnings, source=source, workflows=carried, node_types=registrations
    )


def _with_carried_types(node_types: NodeTypes, registrations: list[dict[str, Any]]) -> NodeTypes:
    """What the file's nodes are checked against: the types the reader was given (the database's)
    with the file's own registrations in place of theirs, since the file's nodes were made for those
    (an import then refuses a carried registration that differs from the one stored, in one sentence
    naming the type: services/node_types.py's `carry_in`)."""
    if not registrations:
        return node_types
    known: dict[str, Any] = {}
    if isinstance(node_types, Mapping):
        known.update(node_types)
    elif node_types is not None:
        known.update(descriptors_of(node_types))
    for body in registrations:
        described = describe_custom(**body)
        given = known.get(body["type_name"])
        if given is None or replace(given, cannot_run=None) != described:
            known[body["type_name"]] = described  # else the given one: the same type, its handler checked
    return known


def _handler_api_ids(apis: list[ApiDefinition], registrations: list[dict[str, Any]]) -> list[Any]:
    """The file ids of the APIs the carried types' `api:NAME` handlers name (used, though by no node)."""
    named = {t for t in map(_api_target, registrations) if t is not None}
    return [a.id for a in apis if a.name in named]


def _api_target(registration: Mapping[str, Any]) -> str | None:
    """The API name an `api:NAME` handler names (None for the other forms)."""
    ref = parsed_handler(registration.get("execution_handler"))
    return ref.target if ref is not None and ref.kind == "api" else None


def _carried_api_ids(document: Mapping[str, Any]) -> list[Any]:
    """The `api_id`s the nodes of a format-2 file's carried workflows name (as written)."""
    found: list[Any] = []
    raw = document.get("workflows")
    for entry in raw if isinstance(raw, list) else ():
        for node in (entry.get("nodes") or ()) if isinstance(entry, dict) else ():
            config = node.get("config") if isinstance(node, dict) else None
            if isinstance(config, dict) and "api_id" in config:
                found.append(config["api_id"])
    return found


def _add_graph_problems(reader: _Reader, graph: WorkflowGraph, node_types: NodeTypes) -> None:
    reported = {path for problem, path in reader.found if problem.severity == Severity.ERROR}
    for found in locate_graph_problems(graph, node_types=node_types):
        path = (*reader.prefix, *found.path)
        if tuple(path[: len(reader.prefix) + 2]) in reader.unnamed_entries:
            continue  # that node or connection could not be read; its shape problem says why
        if any(path[:n] in reported for n in range(1, len(path) + 1)):
            continue  # already reported as a shape problem of that value
        reader.found.append((found.problem, path))


def _node_name(document: Any, path: JsonPath) -> str | None:
    """The name of the node a path lies in (`nodes[1]...`), as the canvas shows it, if it has one."""
    if len(path) < 2 or path[0] != "nodes" or not isinstance(path[1], int) or not isinstance(document, dict):
        return None
    nodes = document.get("nodes")
    if not isinstance(nodes, list) or not 0 <= path[1] < len(nodes) or not isinstance(nodes[path[1]], dict):
        return None
    name = nodes[path[1]].get("name")
    return name if isinstance(name, str) and name.strip() else None


def _locate(text: str, found: list[tuple[Problem, JsonPath]], document: Any = None) -> list[Problem]:
    positions = locate_paths(text, [path for _, path in found]) if found else {}
    problems = []
    for problem, path in found:
        updates: dict[str, Any] = {"path": json_path(path) or None}
        if problem.node is None and (name := _node_name(document, path)) is not None:
            updates["node"] = one_line(name if len(name) <= 80 else name[:77] + "...")
        position = positions.get(path)
        if position is not None:
            updates["line"] = position[0]
            if problem.column is None and not path:
                updates["column"] = position[1]
        problems.append(problem.model_copy(update=updates))
    return problems


# -- writing -----------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    """220.0 is written as 220, so a file's integers survive a round trip through float fields."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def workflow_document(
    graph: WorkflowGraph,
    apis: Iterable[ApiDefinition] = (),
    workflows: Iterable[WorkflowGraph] = (),
    registrations: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The file-format document (a plain dict) of `graph`, embedding the APIs its nodes use, the
    sub-workflows given (`workflows`, format 2) and the custom types' registrations given
    (`registrations`, the seed's body each, written as `node_types` by name): an exported file is
    then self-contained.

    API ids are local to the file: the APIs are numbered 1, 2, 3... in order of first use and the
    nodes' `api_id`s rewritten to match. A SUBWORKFLOW naming a carried workflow by its database id
    names it by its name instead (ids do not travel). A node naming an API not given raises
    InvalidInputError.
    """
    carried = list(workflows)
    writer = _GraphWriter(
        {a.id: a for a in apis}, {g.workflow.id: g.workflow.name for g in carried if g.workflow.id}
    )
    document: dict[str, Any] = {"flowdesk": 2 if carried else 1, **writer.parts(graph)}
    if carried:
        document["workflows"] = [writer.parts(g) for g in carried]
    types = sorted(registrations, key=lambda body: str(body["type_name"]))
    if types:
        document["node_types"] = [{key: body.get(key) for key in _NODE_TYPE_KEYS} for body in types]
        by_name = {a.name: a for a in writer.by_id.values()}
        for target in sorted({t for t in map(_api_target, types) if t is not None}):
            if target in by_name:  # an `api:NAME` handler's definition travels with its type
                writer.embed(by_name[target])
    if writer.embedded:
        document["apis"] = writer.embedded
    return document


class _GraphWriter:
    """Writes graphs into one document: the APIs they use numbered once for all of them."""

    def __init__(self, apis: dict[Any, ApiDefinition], names: dict[int, str]) -> None:
        self.by_id = apis
        self.names = names  # database id -> name of each carried workflow
        self.renumber: dict[Any, int] = {}  # library id -> file id
        self.embedded: list[dict[str, Any]] = []

    def config(self, node: Node) -> dict[str, Any]:
        config = node.config
        api_id = config.get("api_id")
        if isinstance(api_id, int) and not isinstance(api_id, bool):
            if api_id not in self.renumber:
                api = self.by_id.get(api_id)
                if api is None:
                    raise InvalidInputError(
                        f"node '{node.name}' uses API {api_id}, which is not in the API library"
                    )
                self.embed(api)
            config = {**config, "api_id": self.renumber[api_id]}
        called = config.get("workflow") if node.node_type == "SUBWORKFLOW" else None
        if isinstance(called, int) and not isinstance(called, bool) and called in self.names:
            config = {**config, "workflow": self.names[called]}
        return config

    def embed(self, api: ApiDefinition) -> None:
        """Write `api` into the document's `apis` (once), numbered after the ones before it."""
        if api.id in self.renumber:
            return
        self.renumber[api.id] = len(self.renumber) + 1
        self.embedded.append(_api_entry(api, self.renumber[api.id]))

    def parts(self, graph: WorkflowGraph) -> dict[str, Any]:
        wf = graph.workflow
        return {
            "workflow": {
                "name": wf.name,
                "description": wf.description,
                "version": wf.version,
                "config": wf.config,
                "tags": list(wf.tags),
                "is_active": wf.is_active,
            },
            "nodes": [
                {
                    "name": node.name,
                    "node_type": str(node.node_type),
                    "config": self.config(node),
                    "position_x": _number(node.position_x),
                    "position_y": _number(node.position_y),
                    "description": node.description,
                }
                for node in graph.nodes
            ],
            "connections": [
                {
                    "from": c.from_node,
                    "to": c.to_node,
                    "connection_type": ConnectionType(c.connection_type).value,
                    "condition": c.condition,
                    "config": c.config,
                }
                for c in graph.connections
            ],
        }


def _api_entry(api: ApiDefinition, file_id: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": file_id,
        "name": api.name,
        "method": api.method,
        "url": api.url,
        "headers": dict(api.headers),
        "query": dict(api.query),
        "body": api.body,
        "timeout": _number(api.timeout),
        "auth": api.auth,
        "description": api.description,
    }
    if api.content_type is not None:
        entry["content_type"] = api.content_type
    if api.body_type is not None:
        entry["body_type"] = api.body_type
    if api.tags:
        entry["tags"] = list(api.tags)
    if api.parameters:
        entry["parameters"] = [p.model_dump(mode="json") for p in api.parameters]
    if api.source is not None:
        entry["source"] = api.source
    if api.connection:
        entry["connection"] = dict(api.connection)
    if api.response_schema is not None:  # ASSERT's default schema (read from OpenAPI) travels too
        entry["response_schema"] = api.response_schema
    if api.cache is not None:
        entry["cache"] = dict(api.cache)
    return entry


def write_workflow_file(
    graph: WorkflowGraph,
    apis: Iterable[ApiDefinition] = (),
    node_types: NodeTypes = None,
    workflows: Iterable[WorkflowGraph] = (),
    registrations: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The canonical file text of `graph`: UTF-8-ready JSON, sorted keys, indent 2, trailing newline.

    The document passes through `redact_for_export` first, so no secret reaches a file; `node_types`
    (name -> descriptor, as validation takes them) describes its custom types, whose `x-secret`
    fields are masked too; `workflows` are the sub-workflows it carries (format 2), `registrations`
    the custom types' registrations it carries (`node_types`).
    """
    known = node_types if isinstance(node_types, Mapping) else None
    with gc_paused():
        document = redact_for_export(workflow_document(graph, apis, workflows, registrations), known)
        return dumps_canonical(document) + "\n"
