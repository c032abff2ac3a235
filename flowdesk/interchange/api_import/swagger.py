"""Swagger 2.0 documents to API definitions: host + basePath + schemes, body and formData parameters."""

from __future__ import annotations

from typing import Any

from flowdesk.domain.models import ApiParameter

from .document import LoadedDocument
from .openapi import SpecReader, is_form_media, is_json_media, pick_media_type
from .placeholders import param
from .result import ApiImportResult
from .schema_example import SchemaExampler, schema_type


class Swagger2Reader(SpecReader):
    """Swagger 2.0 (OpenAPI 2)."""

    def base_url(self) -> str | None:
        host = self.data.get("host")
        base_path = self.data.get("basePath")
        base_path = base_path if isinstance(base_path, str) else ""
        if base_path and not base_path.startswith("/"):
            base_path = "/" + base_path
        base_path = base_path.rstrip("/")
        if not isinstance(host, str) or not host.strip():
            url = base_path
            self.result.problem(
                "",
                f"The document names no host, so the server URL '{url or '/'}' is relative; base_url was set to "
                f"'{url}', so change it to a full URL (https://host...) in the environment.",
            )
            return url
        schemes = [s for s in self.data.get("schemes") or [] if isinstance(s, str)]
        if not schemes:
            self.result.note("The document lists no schemes; https was assumed for base_url.")
            scheme = "https"
        else:
            scheme = "https" if "https" in schemes else schemes[0]
        return f"{scheme}://{host.strip().rstrip('/')}{base_path}"

    def security_schemes(self) -> dict[str, Any]:
        schemes = self.data.get("securityDefinitions")
        return schemes if isinstance(schemes, dict) else {}

    def parameter_schema(self, parameter: dict) -> Any:
        return parameter  # Swagger 2 puts type/format/enum on the parameter itself

    def query_style(self, p: dict) -> tuple[str, bool]:
        """Swagger 2's collectionFormat as OpenAPI 3's (style, explode); csv is the default."""
        return {
            "multi": ("form", True),
            "ssv": ("spaceDelimited", False),
            "tsv": ("tabDelimited", False),
            "pipes": ("pipeDelimited", False),
        }.get(str(p.get("collectionFormat") or "csv"), ("form", False))

    def _media(self, operation: dict, key: str) -> list[str]:
        value = operation.get(key, self.data.get(key))
        return [str(m) for m in value] if isinstance(value, list) else []

    def accept(self, operation: dict) -> str | None:
        return pick_media_type(self._media(operation, "produces"))

    def read_body(self, operation: dict, params: list[dict], definition: dict) -> None:
        consumes = self._media(operation, "consumes")
        body_param = next((p for p in params if p.get("in") == "body"), None)
        form_params = [p for p in params if p.get("in") == "formData"]
        if body_param is not None:
            schema = body_param.get("schema")
            example = body_param.get("x-example")
            if example is None and schema is not None:
                example = self.sample(schema)
            media_type = pick_media_type([m for m in consumes if not is_form_media(m)]) or "application/json"
            if "*" in media_type:  # a wildcard is no Content-Type to send: JSON-shaped bodies are JSON
                media_type = "text/plain" if isinstance(example, str) else "application/json"
            if example is not None and not isinstance(example, str) and not is_json_media(media_type):
                self.problem(
                    f"the request body is {media_type} without a text example; the body was left empty"
                )
                example = None
            definition["body"] = example
            definition["content_type"] = media_type
            definition["parameters"].extend(self.body_parameters(schema))
        elif form_params:
            has_file = any(p.get("type") == "file" for p in form_params)
            wanted = "multipart/form-data" if has_file else "application/x-www-form-urlencoded"
            forms = [m for m in consumes if is_form_media(m)]
            media_type = wanted if wanted in forms or not forms else forms[0]
            sampler = SchemaExampler(self.resolver, on_unresolved=self.unresolved)
            body: dict[str, Any] = {}
            for p in form_params:
                name = str(p["name"])
                if p.get("type") == "file":
                    value: Any = {"path": param(name)}  # the file to send is given as a parameter
                else:
                    value = p.get("x-example", sampler.example({k: v for k, v in p.items() if k != "name"}))
                body[name] = value
                definition["parameters"].append(
                    ApiParameter(
                        name=name,
                        location="body",
                        required=bool(p.get("required")),
                        type=schema_type(p),
                        description=str(p.get("description") or ""),
                        example=p.get("x-example"),
                    )
                )
            definition["body"] = body
            if media_type.lower().startswith("multipart/form-data"):
                definition["body_type"] = "multipart"  # the sender writes the Content-Type with its boundary
            else:
                definition["content_type"] = media_type


def read_swagger2(doc: LoadedDocument, result: ApiImportResult) -> None:
    """Import a Swagger 2.0 document into `result`."""
    Swagger2Reader(doc, result).read()
