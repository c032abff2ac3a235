"""API importers: OpenAPI 3.0/3.1, Swagger 2.0, Postman v2.0/v2.1 and cURL commands to API definitions.

Pure functions: nothing is written; the services layer shows a preview and stores what the user keeps.
docs/api-import.md describes the mapping rules.
"""

from __future__ import annotations

from flowdesk.domain.errors import InvalidInputError
from flowdesk.gc_control import gc_paused

from .curl import import_curl
from .detect import detect_format
from .document import ApiSpecSyntaxError, decode_text, load_document
from .openapi import read_openapi3
from .postman import read_postman
from .result import ApiImportResult, ImportProblem
from .swagger import read_swagger2

__all__ = [
    "ApiImportResult",
    "ApiSpecSyntaxError",
    "ImportProblem",
    "detect_format",
    "import_api_spec",
    "import_curl",
]


def import_api_spec(text_or_bytes: str | bytes, *, source_name: str = "") -> ApiImportResult:
    """Read an OpenAPI, Swagger or Postman document (JSON or YAML), or a curl command, detected from content.

    Raises InvalidInputError (one plain sentence, with line and column for syntax errors) when the input
    is none of those.
    """
    # Python's cyclic collector walks the hundreds of thousands of containers a big spec makes (none in a
    # cycle) again and again as they pile up: paused, a 14 MB YAML spec imports in 0.4x the CPU time and
    # a 13 MB JSON one in 0.75x (benchmarks/bench_api_import.py). Reference counting frees as usual.
    with gc_paused():
        return _import(text_or_bytes, source_name)


def _import(text_or_bytes: str | bytes, source_name: str) -> ApiImportResult:
    text = decode_text(text_or_bytes, source_name=source_name)
    first = _first_line(text)
    if first.startswith("curl ") or first == "curl":
        return import_curl(text)
    doc = load_document(text, source_name=source_name)
    if isinstance(doc.data, dict) and isinstance(doc.data.get("collection"), dict) and "info" not in doc.data:
        doc.data = doc.data["collection"]  # the Postman API wraps collections in {"collection": ...}
    fmt = detect_format(doc.data, source_name=source_name)
    result = ApiImportResult(format=fmt)
    try:
        if fmt.startswith("openapi"):
            read_openapi3(doc, result)
        elif fmt.startswith("swagger"):
            read_swagger2(doc, result)
        else:
            read_postman(doc, result)
    except RecursionError:
        raise InvalidInputError("The document is nested too deeply to import.") from None
    return result


def _first_line(text: str) -> str:
    """The first line that is neither blank nor a shell comment (a paste of curl commands may start so).
    Lines are taken one at a time: splitting a 13 MB spec into all its lines cost 0.1 s, twice."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        for line in text[start:end].splitlines() or [""]:  # the other line breaks splitlines knows
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return stripped
        start = end + 1
    return ""
