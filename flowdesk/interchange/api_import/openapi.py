"""OpenAPI 3.0/3.1 documents to API definitions: one definition per operation.

`SpecReader` holds what OpenAPI 3 and Swagger 2 share (walking paths, naming, path and query parameters,
auth, problems); `OpenApi3Reader` adds servers and request bodies. swagger.py has the Swagger 2 reader.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flowdesk.domain.models import ApiDefinition, ApiParameter
from flowdesk.domain.response_cache import cache_option_problem

from .document import LoadedDocument
from .form_encoding import encode_form
from .placeholders import env, param, path_expression, path_to_template
from .references import RefResolver, UnresolvedRef
from .response_schema import SchemaInliner
from .result import ApiImportResult
from .schema_example import SchemaExampler, declared_example, merge_all_of, schema_type
from .security import operation_auth

logger = logging.getLogger(__name__)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SERVER_VARIABLE = re.compile(r"\{([^{}]+)\}")


class SpecReader:
    """Reads the operations of an OpenAPI-family document into `result`."""

    def __init__(self, doc: LoadedDocument, result: ApiImportResult) -> None:
        self.data: dict[str, Any] = doc.data
        self.result = result
        self.resolver = RefResolver(self.data)
        # response schemas inlined: one for the document, so what it learns of a $ref serves every operation
        self.inline = SchemaInliner(self.resolver, self.unresolved)
        info = self.data.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        self.title = (
            str(title).strip() if isinstance(title, str | int | float) and str(title).strip() else "API"
        )
        result.title = self.title
        self._names: set[str] = set()
        self._operation_ids: set[str] = set()
        self._unnamed = 0
        self._label = ""
        self._samples: dict[str, Any] = {}
        if doc.duplicate_keys:
            result.note(
                "The document repeats keys; the last value of each was kept: "
                + ", ".join(doc.duplicate_keys)
                + "."
            )

    def response_schema(self, operation: dict) -> dict[str, Any] | None:
        """The JSON Schema of the first successful (2xx) JSON answer, `$ref`s resolved (for ASSERT):
        OpenAPI 3's `content` or Swagger 2's `schema`."""
        responses = operation.get("responses")
        if not isinstance(responses, dict):
            return None
        for code in sorted(responses, key=lambda c: str(c).upper()):
            if not str(code).startswith("2"):
                continue
            response = self.lookup(responses[code])
            if not isinstance(response, dict):
                continue
            schema = response.get("schema")
            content = response.get("content")
            if isinstance(content, dict):
                json_types = [str(m) for m in content if is_json_media(str(m))]
                media = self.lookup(content[json_types[0]]) if json_types else None
                schema = media.get("schema") if isinstance(media, dict) else None
            if isinstance(schema, dict):
                return self.inline(schema)
        return None

    # -- what subclasses provide ------------------------------------------------------------------
    def base_url(self) -> str | None:
        """The base URL for `{{env.base_url}}`, None when the document names none."""
        raise NotImplementedError

    def security_schemes(self) -> dict[str, Any]:
        """The document's security schemes by name."""
        raise NotImplementedError

    def read_body(self, operation: dict, params: list[dict], definition: dict) -> None:
        """Fill body, content_type and body parameters of `definition`."""
        raise NotImplementedError

    def accept(self, operation: dict) -> str | None:
        """The Accept header value for what the operation answers with, if declared."""
        raise NotImplementedError

    def operation_server(self, path_item: dict, operation: dict) -> str | None:
        """A server URL that this operation alone uses, if any."""
        return None

    def parameter_schema(self, parameter: dict) -> Any:
        """The schema describing a (non-body) parameter."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def problem(self, message: str) -> None:
        """A problem for the operation being read."""
        self.result.problem(self._label, message)

    def lookup(self, node: Any) -> Any:
        """`node` with its `$ref` chain followed; {} (and a problem) when it cannot be."""
        try:
            return self.resolver.resolve(node)[0]
        except UnresolvedRef as err:
            self.unresolved(err)
            return {}

    def unresolved(self, err: UnresolvedRef) -> None:
        """Report a `$ref` that cannot be followed."""
        self.problem(f"$ref '{err.ref}' cannot be resolved ({err.reason}); what it describes was left out")

    def exampler(self) -> SchemaExampler:
        """A schema sampler that reports to the current operation."""
        return SchemaExampler(
            self.resolver,
            on_unresolved=self.unresolved,
            on_cycle=lambda ref: self.result.note(
                f"'{ref}' refers to itself; example bodies stop at its first repeat."
            ),
        )

    def sample(self, schema: Any) -> Any:
        """A sample body for `schema`. Bodies that are one `$ref` are built once per document and the
        same value is shared by every operation using it (a spec with thousands of operations over a few
        hundred schemas would otherwise build and hold thousands of equal copies). A sample whose building
        reported something is not shared, so each operation gets its own report."""
        ref = schema.get("$ref") if isinstance(schema, dict) and len(schema) == 1 else None
        if isinstance(ref, str) and ref in self._samples:
            return self._samples[ref]
        reported = (len(self.result.problems), len(self.result.notes))
        value = self.exampler().example(schema)
        if isinstance(ref, str) and reported == (len(self.result.problems), len(self.result.notes)):
            self._samples[ref] = value
        return value

    def read(self) -> None:
        """Read every operation of the document into the result."""
        base = self.base_url()
        if base is not None:
            self.result.environment["base_url"] = base
        paths = self.data.get("paths")
        if paths is None:
            self.result.problem("", "The document has no 'paths', so there is nothing to import.")
            return
        if not isinstance(paths, dict):
            self.result.problem("", "'paths' is not a mapping, so there is nothing to import.")
            return
        global_security = self.data.get("security")
        for path, item in paths.items():
            self._label = str(path)
            if not str(path).startswith("/"):
                if str(path).startswith("x-"):
                    continue
                self.problem("the path does not start with '/'; it was imported as written")
            item = self.lookup(item)
            if not isinstance(item, dict):
                self.problem("the path item is not a mapping; it was skipped")
                continue
            for method in [k for k in item if isinstance(k, str) and k.lower() in HTTP_METHODS]:
                self._label = f"{method.upper()} {path}"
                operation = self.lookup(item[method])
                if not isinstance(operation, dict):
                    self.problem("the operation is not a mapping; it was skipped")
                    continue
                try:
                    definition = self._definition(str(path), method.upper(), item, operation, global_security)
                except Exception as err:  # keep importing the rest; the problem names this operation
                    logger.exception("operation %s could not be imported", self._label)
                    self.problem(f"the operation could not be imported ({type(err).__name__}: {err})")
                    continue
                self.result.definitions.append(definition)
        if self._unnamed:
            self.result.note(
                f"{self._unnamed} operation(s) have no operationId; they are named by method and path."
            )
        if isinstance(self.data.get("webhooks"), dict) and self.data["webhooks"]:
            self.result.note(
                f"{len(self.data['webhooks'])} webhook(s) were not imported: they are calls the API makes, not calls to it."
            )

    def _definition(
        self, path: str, method: str, item: dict, operation: dict, global_security: Any
    ) -> ApiDefinition:
        name, key = self._name(path, method, operation)
        params = self._merged_parameters(item, operation)
        url_path, path_names = path_to_template(path)
        server = self.operation_server(item, operation)
        if server is not None:
            self.result.note(
                f"'{name}' uses its own server {server}; its URL names that server, not base_url."
            )
        url = (server if server is not None else env("base_url")) + url_path
        definition: dict[str, Any] = {
            "name": name,
            "method": method,
            "url": url,
            "headers": {},
            "query": {},
            "parameters": [],
            "tags": [str(t) for t in operation.get("tags") or [] if isinstance(t, str | int | float)],
            "description": _description(operation),
            "source": f"openapi:{self.title}#{key}",
        }
        declared_path: set[str] = set()
        for p in params:
            if p.get("in") == "body" or p.get("in") == "formData":
                continue
            parameter = self._parameter(p)
            if parameter is None:
                continue
            if parameter.location == "path":
                declared_path.add(parameter.name)
                if parameter.name not in path_names:
                    self.problem(f"path parameter '{parameter.name}' is declared but not in the path")
            elif parameter.location == "query":
                encoded = self._query_templates(p)
                if encoded is not None:  # an array or object sent in its own style: always written out
                    definition["query"].update(encoded)
                elif parameter.required:
                    definition["query"][parameter.name] = param(parameter.name)
            elif parameter.location == "header" and parameter.required:
                definition["headers"][parameter.name] = param(parameter.name)
            definition["parameters"].append(parameter)
        for missing in [n for n in path_names if n not in declared_path]:
            self.problem(
                f"path parameter '{missing}' is used in the path but not declared; it was added as a string"
            )
            definition["parameters"].append(ApiParameter(name=missing, location="path", required=True))
        accept = self.accept(operation)
        if accept:
            definition["headers"].setdefault("Accept", accept)
        self.read_body(operation, params, definition)
        response_schema = self.response_schema(operation)
        if response_schema is not None:
            definition["response_schema"] = response_schema
        cache = operation.get("x-flowdesk-cache")
        if cache is not None:  # flowdesk's own extension (api_export.py writes it)
            wrong = cache_option_problem(cache)
            if wrong is None:
                definition["cache"] = cache
            else:
                self.problem(f"x-flowdesk-cache is not a valid cache option ({wrong}); it was left out")
        security = operation["security"] if "security" in operation else global_security
        required = operation_auth(security, self.security_schemes(), self.lookup, self.problem)
        definition["auth"] = required.auth
        definition["headers"].update(required.headers)
        definition["query"].update(required.query)
        return ApiDefinition(**definition)

    def _name(self, path: str, method: str, operation: dict) -> tuple[str, str]:
        label = f"{method} {path}"
        op_id = operation.get("operationId")
        op_id = str(op_id).strip() if isinstance(op_id, str | int | float) and str(op_id).strip() else None
        if op_id is None:
            self._unnamed += 1
            name, key = label, label
        elif op_id in self._operation_ids:
            name, key = f"{op_id} ({label})", label
            self.problem(
                f"operationId '{op_id}' is used by another operation too; this one is named '{name}'"
            )
        else:
            name, key = op_id, op_id
            self._operation_ids.add(op_id)
        base, n = name, 2
        while name in self._names:
            name = f"{base} ({n})"
            n += 1
        self._names.add(name)
        return name, key

    def _merged_parameters(self, item: dict, operation: dict) -> list[dict]:
        merged: dict[tuple[str, str], dict] = {}
        for source in (item.get("parameters"), operation.get("parameters")):
            if source is None:
                continue
            if not isinstance(source, list):
                self.problem("'parameters' is not a list; it was ignored")
                continue
            for raw in source:
                p = self.lookup(raw)
                if not isinstance(p, dict) or not p:
                    continue
                if not isinstance(p.get("name"), str | int | float) or not isinstance(p.get("in"), str):
                    self.problem("a parameter has no name or no 'in'; it was left out")
                    continue
                merged[(str(p["name"]), p["in"])] = p
        return list(merged.values())

    def _parameter(self, p: dict) -> ApiParameter | None:
        name, location = str(p["name"]), p["in"]
        if location == "cookie":
            self.problem(f"cookie parameter '{name}' is not supported; it was left out")
            return None
        if location not in ("path", "query", "header"):
            self.problem(f"parameter '{name}' is in '{location}', which is unknown; it was left out")
            return None
        if location == "header" and name.lower() in ("accept", "content-type", "authorization"):
            return None  # OpenAPI says these are described elsewhere (content, security)
        schema = self.lookup(self.parameter_schema(p))
        return ApiParameter(
            name=name,
            location=location,
            required=bool(p.get("required")) or location == "path",
            type=schema_type(schema if isinstance(schema, dict) and schema else p),
            description=str(p.get("description") or ""),
            example=self._parameter_example(p, schema),
        )

    def query_style(self, p: dict) -> tuple[str, bool]:
        """The parameter's (style, explode): OpenAPI 3's defaults are form and exploded."""
        style = str(p.get("style") or "form")
        explode = p.get("explode")
        return style, style == "form" if explode is None else bool(explode)

    def _query_templates(self, p: dict) -> dict[str, str] | None:
        """Query entries for an array or object parameter whose style is not "repeat the key for each
        item" (what the engine does with a list), as templates over `params`; None for the rest."""
        name = str(p["name"])
        if "content" in p and "schema" not in p:
            return None  # serialised as its media type says (JSON text), which is what the engine sends
        schema = self.lookup(self.parameter_schema(p))
        schema = schema if isinstance(schema, dict) else {}
        kind = schema_type(schema)
        style, explode = self.query_style(p)
        if kind == "array":
            if style == "form" and explode:
                return None
            if style == "deepObject":
                self.problem(
                    f"query parameter '{name}' is an array in deepObject style, which has no defined form"
                )
                return None
            separator = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}.get(style, ",")
            return {
                name: "{{ join(" + path_expression("params", name) + ", " + json.dumps(separator) + ") }}"
            }
        if kind != "object":
            return None
        properties = _dict(schema.get("properties"))
        if not properties or style not in ("form", "deepObject") or style == "form" and not explode:
            self.problem(
                f"query parameter '{name}' is an object sent in '{style}' style"
                f"{'' if explode else ' without explode'}; flowdesk sends it as JSON text"
            )
            return None
        out: dict[str, str] = {}
        for key in properties:
            field = f"{name}[{key}]" if style == "deepObject" else str(key)
            out[field] = "{{" + path_expression("params", name, str(key)) + "}}"
        return out

    def _parameter_example(self, p: dict, schema: Any) -> Any:
        if "example" in p:
            return p["example"]
        if "x-example" in p:
            return p["x-example"]
        examples = p.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                example = self.lookup(example)
                if isinstance(example, dict) and "value" in example:
                    return example["value"]
        return declared_example(schema)

    def body_parameters(self, schema: Any) -> list[ApiParameter]:
        """One body parameter per top-level property of an object schema (built once per `$ref`)."""
        ref = schema.get("$ref") if isinstance(schema, dict) and len(schema) == 1 else None
        key = f"parameters {ref}"
        if isinstance(ref, str) and key in self._samples:
            return list(self._samples[key])
        reported = len(self.result.problems)
        found = self._body_parameters(schema)
        if isinstance(ref, str) and reported == len(self.result.problems):
            self._samples[key] = found
        return list(found)

    def _body_parameters(self, schema: Any) -> list[ApiParameter]:
        schema = self.lookup(schema)
        if not isinstance(schema, dict):
            return []
        if isinstance(schema.get("allOf"), list):
            schema = merge_all_of(schema, self.exampler())
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return []
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        out: list[ApiParameter] = []
        for name, prop in properties.items():
            prop = self.lookup(prop)
            if not isinstance(prop, dict):
                prop = {}
            if prop.get("readOnly") is True:
                continue
            out.append(
                ApiParameter(
                    name=str(name),
                    location="body",
                    required=name in required,
                    type="file" if _is_binary(prop) else self._effective_type(prop),
                    description=str(prop.get("description") or ""),
                    example=declared_example(prop),
                )
            )
        return out

    def _effective_type(self, schema: dict) -> str:
        """The type of a schema, looking into the first oneOf/anyOf option and allOf parts."""
        for _ in range(8):
            if "type" in schema or "properties" in schema or "items" in schema:
                break
            if isinstance(schema.get("allOf"), list):
                return "object"
            options = schema.get("oneOf") or schema.get("anyOf")
            if not isinstance(options, list) or not options:
                break
            schema = self.lookup(options[0])
            if not isinstance(schema, dict):
                return "string"
        return schema_type(schema)


def _description(operation: dict) -> str:
    parts = [str(operation.get(k)).strip() for k in ("summary", "description") if operation.get(k)]
    return "\n\n".join(p for p in parts if p)


def pick_media_type(media_types: list[str]) -> str | None:
    """JSON first (application/json, then any +json), then forms, then the first listed."""
    if not media_types:
        return None
    lowered = [m.lower() for m in media_types]
    for wanted in ("application/json",):
        for original, low in zip(media_types, lowered, strict=True):
            if low.split(";")[0].strip() == wanted:
                return original
    for original, low in zip(media_types, lowered, strict=True):
        if "json" in low:
            return original
    for wanted in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for original, low in zip(media_types, lowered, strict=True):
            if low.startswith(wanted):
                return original
    return media_types[0]


def is_json_media(media_type: str | None) -> bool:
    """application/json, +json and friends."""
    return bool(media_type) and "json" in str(media_type).lower()


def is_form_media(media_type: str | None) -> bool:
    """URL-encoded or multipart forms (bodies as a mapping of fields)."""
    low = str(media_type or "").lower()
    return low.startswith("application/x-www-form-urlencoded") or low.startswith("multipart/form-data")


class OpenApi3Reader(SpecReader):
    """OpenAPI 3.0 and 3.1."""

    def base_url(self) -> str | None:
        servers = self.data.get("servers")
        if not isinstance(servers, list) or not servers:
            self.result.problem(
                "", "The document names no server; set base_url in the environment to the API's address."
            )
            return None
        url = self._server_url(servers[0])
        if url is None:
            self.result.problem("", "The first server has no URL; set base_url in the environment.")
            return None
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
            self.result.problem(
                "",
                f"The server URL '{url or '/'}' is relative; base_url was set to '{url}', "
                "so change it to a full URL (https://host...) in the environment.",
            )
        return url

    def _server_url(self, server: Any) -> str | None:
        server = self.lookup(server)
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            return None
        variables = _dict(server.get("variables"))

        def substitute(match: re.Match[str]) -> str:
            variable = variables.get(match.group(1))
            if isinstance(variable, dict) and "default" in variable:
                return str(variable["default"])
            return match.group(0)

        return _SERVER_VARIABLE.sub(substitute, server["url"]).rstrip("/")

    def operation_server(self, path_item: dict, operation: dict) -> str | None:
        for holder in (operation, path_item):
            servers = holder.get("servers")
            if isinstance(servers, list) and servers:
                url = self._server_url(servers[0])
                if url is not None and url != self.result.environment.get("base_url"):
                    return url
                return None
        return None

    def security_schemes(self) -> dict[str, Any]:
        components = self.data.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        return schemes if isinstance(schemes, dict) else {}

    def parameter_schema(self, parameter: dict) -> Any:
        if "schema" in parameter:
            return parameter["schema"]
        content = parameter.get("content")
        if isinstance(content, dict) and content:
            media = self.lookup(next(iter(content.values())))
            if isinstance(media, dict):
                return media.get("schema")
        return None

    def accept(self, operation: dict) -> str | None:
        responses = operation.get("responses")
        if not isinstance(responses, dict):
            return None
        media: list[str] = []
        for code, response in responses.items():
            if not str(code).startswith("2"):
                continue
            response = self.lookup(response)
            content = response.get("content") if isinstance(response, dict) else None
            if isinstance(content, dict):
                media.extend(str(m) for m in content if str(m) not in media)
        return pick_media_type(media)

    def read_body(self, operation: dict, params: list[dict], definition: dict) -> None:
        if "requestBody" not in operation:
            return
        body = self.lookup(operation["requestBody"])
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not content:
            return
        media_type = pick_media_type([str(k) for k in content])
        media = self.lookup(content.get(media_type))
        if not isinstance(media, dict):
            media = {}
        example, found = self._media_example(media)
        schema = media.get("schema")
        if not found and schema is not None:
            example = self.sample(schema)
        if (
            example is not None
            and not isinstance(example, str)
            and not (is_json_media(media_type) or is_form_media(media_type) or "*" in str(media_type))
        ):
            self.problem(f"the request body is {media_type} without a text example; the body was left empty")
            example = None
        if media_type is not None and "*" in media_type:
            # A wildcard (*/*, application/*) is no Content-Type to send: a JSON-shaped body is JSON
            # (Kubernetes describes every body so), text is text.
            media_type = "text/plain" if isinstance(example, str) else "application/json"
        if is_form_media(media_type) and isinstance(example, dict):
            example = self.form_body(example, schema, media, media_type or "", definition)
        else:
            definition["content_type"] = media_type
        definition["body"] = example
        if schema is not None:
            definition["parameters"].extend(self.body_parameters(schema))

    def form_body(
        self, example: dict[str, Any], schema: Any, media: dict, media_type: str, definition: dict
    ) -> dict[str, Any]:
        """A form example as the fields to send: URL-encoded per the `encoding` rules, or multipart parts
        (binary properties as file parts whose path is a parameter)."""
        if not media_type.lower().startswith("multipart/"):
            definition["content_type"] = media_type
            return encode_form(example, media.get("encoding"))
        definition["body_type"] = "multipart"  # the sender writes the Content-Type with its boundary
        resolved = self.lookup(schema) if schema is not None else {}
        if isinstance(resolved, dict) and isinstance(resolved.get("allOf"), list):
            resolved = merge_all_of(resolved, self.exampler())
        properties = _dict(resolved.get("properties")) if isinstance(resolved, dict) else {}
        encoding = _dict(media.get("encoding"))
        parts: dict[str, Any] = {}
        for name, prop in properties.items():  # files an example leaves out are still parts to send
            prop = self.lookup(prop)
            if name not in example and isinstance(prop, dict) and _is_binary(prop):
                example = {**example, name: None}
        for name, value in example.items():
            prop = self.lookup(properties.get(name, {}))
            prop = prop if isinstance(prop, dict) else {}
            items = self.lookup(prop.get("items", {})) if prop.get("type") == "array" else {}
            if _is_binary(prop) or _is_binary(items if isinstance(items, dict) else {}):
                part: dict[str, Any] = {"path": param(name)}
                part_type = str(_dict(encoding.get(name)).get("contentType") or "")
                if part_type and "," not in part_type and "*" not in part_type:
                    part["content_type"] = part_type
                parts[name] = part
            elif (
                isinstance(value, dict) or isinstance(value, list) and any(isinstance(v, dict) for v in value)
            ):
                parts[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            else:
                parts[name] = value
        return parts

    def _media_example(self, media: dict) -> tuple[Any, bool]:
        if "example" in media:
            return media["example"], True
        examples = media.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                example = self.lookup(example)
                if isinstance(example, dict) and "value" in example:
                    return example["value"], True
        return None, False


def read_openapi3(doc: LoadedDocument, result: ApiImportResult) -> None:
    """Import an OpenAPI 3.x document into `result`."""
    OpenApi3Reader(doc, result).read()


def _is_binary(schema: dict) -> bool:
    """A file: `format: binary`/`base64` (3.0) or a `contentMediaType`/`contentEncoding` (3.1)."""
    return (
        schema.get("format") in ("binary", "base64")
        or "contentMediaType" in schema
        or "contentEncoding" in schema
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
