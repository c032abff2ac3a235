"""Telling which kind of API document a parsed file is, from its content alone."""

from __future__ import annotations

from typing import Any

from flowdesk.domain.errors import InvalidInputError

_NOT_KNOWN = "is not an OpenAPI 3, Swagger 2.0 or Postman v2 document"


def detect_format(data: Any, *, source_name: str = "") -> str:
    """ "openapi 3.0", "openapi 3.1", "swagger 2.0", "postman 2.0" or "postman 2.1"; else InvalidInputError."""
    what = f"'{source_name}'" if source_name else "The input"
    if not isinstance(data, dict):
        kind = (
            "a list"
            if isinstance(data, list)
            else "plain text"
            if isinstance(data, str)
            else "a single value"
        )
        raise InvalidInputError(f"{what} {_NOT_KNOWN}: it is {kind}, not a mapping of keys.")
    if "openapi" in data:
        version = str(data["openapi"]).strip()
        if version.startswith("3.0") or version.startswith("3.1"):
            return f"openapi {version[:3]}"
        raise InvalidInputError(
            f"{what} is OpenAPI version '{version}', which is not supported (3.0 and 3.1 are)."
        )
    if "swagger" in data:
        version = str(data["swagger"]).strip()
        if version in ("2.0", "2"):
            return "swagger 2.0"
        raise InvalidInputError(f"{what} is Swagger version '{version}', which is not supported (2.0 is).")
    info = data.get("info")
    if isinstance(info, dict) and ("item" in data or "schema" in info or "_postman_id" in info):
        schema = str(info.get("schema", ""))
        if "v2.1" in schema:
            return "postman 2.1"
        if "v2.0" in schema:
            return "postman 2.0"
        if "v1" in schema:
            raise InvalidInputError(
                f"{what} is a Postman v1 collection, which is not supported; export it from Postman as v2.1."
            )
        if "item" in data:
            return "postman 2.1"
    if "requests" in data and "order" in data:
        raise InvalidInputError(
            f"{what} is a Postman v1 collection, which is not supported; export it from Postman as v2.1."
        )
    if "_postman_variable_scope" in data or ("values" in data and "name" in data and "item" not in data):
        raise InvalidInputError(
            f"{what} is a Postman environment, not a collection; import the collection and create the "
            "environment's variables by hand."
        )
    if isinstance(data.get("log"), dict) and "entries" in data["log"]:
        raise InvalidInputError(
            f"{what} is a HAR file, which is not supported; copy a request as cURL instead."
        )
    raise InvalidInputError(
        f"{what} {_NOT_KNOWN}: it has none of the keys 'openapi', 'swagger' or 'info' with 'item'."
    )
