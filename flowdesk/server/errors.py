"""Every error the server answers is JSON `{"detail": "one sentence", "problems": [...]}` with the
right status. No traceback ever reaches a client; the server log keeps it (with secrets masked by the
engine before they get that far)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowdesk.domain.errors import (
    ConflictError,
    DatabaseUnavailableError,
    FileFormatError,
    FlowdeskError,
    InvalidInputError,
    NotFoundError,
)

log = logging.getLogger(__name__)


def problem_json(problem: Any) -> dict[str, Any]:
    """A located problem (domain Problem, or anything with the same fields) as JSON."""
    if hasattr(problem, "model_dump"):
        data = problem.model_dump(mode="json", exclude_none=True)
        data["text"] = str(problem)
        return data  # type: ignore[no-any-return]
    return {"message": str(problem), "severity": "error"}


def error_response(
    status: int, detail: str, problems: list[Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "problems": [problem_json(p) for p in problems or []]},
        status_code=status,
        headers=headers or None,
    )


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location as a JSON path: ("body", "config", "timeout") -> "body.config.timeout"."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _subject(loc: tuple[Any, ...] | list[Any]) -> str:
    """Where a pydantic error is, in words: "field config.timeout of the request body"."""
    if not loc:
        return "the request"
    kind, rest = str(loc[0]), list(loc[1:])
    path = _where(rest)
    if kind == "body":
        return f"field '{path}' of the request body" if path else "the request body"
    if kind in ("query", "path", "header", "cookie"):
        return f"{kind} parameter '{path}'"
    return f"'{_where(loc)}'"


def _sentence(error: dict[str, Any]) -> str:
    loc = error.get("loc", ())
    subject = _subject(loc)
    message = str(error.get("msg", "is not valid")).rstrip(".")
    if error.get("type") == "missing":
        return f"{subject} is required"
    if error.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({message})"
    if error.get("type") == "extra_forbidden":
        return f"{subject} is not a known field"
    return f"{subject}: {message[:1].lower()}{message[1:]}"


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path accepts (Starlette names only the first route's)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods.update(route.methods)
        elif match == Match.NONE and getattr(route, "methods", None):
            for method in route.methods:
                m, _ = route.matches({**request.scope, "method": method})
                if m == Match.FULL:
                    methods.add(method)
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        problems = [
            {"path": _where(e.get("loc", ())), "message": _sentence(e), "severity": "error"} for e in errors
        ]
        first = _sentence(errors[0]) if errors else "the request is not valid"
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        return JSONResponse(
            {"detail": f"{first[:1].upper()}{first[1:]}{more}.", "problems": problems}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no endpoint {request.method} {request.url.path}; the list is at /docs."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.url.path} does not accept {request.method} (it accepts {', '.join(allowed)})."
        return error_response(exc.status_code, detail, headers=headers)

    @app.exception_handler(FileFormatError)
    async def file_error(request: Request, exc: FileFormatError) -> JSONResponse:
        return error_response(422, str(exc), exc.problems)

    @app.exception_handler(FlowdeskError)
    async def flowdesk_error(request: Request, exc: FlowdeskError) -> JSONResponse:
        problems = list(getattr(exc, "problems", None) or [])
        from flowdesk.engine.errors import ExecutionNotResumableError

        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, ConflictError | ExecutionNotResumableError):
            status = 409
        elif isinstance(exc, DatabaseUnavailableError):
            status = 503
        elif problems:
            status = 422  # a workflow that does not validate, with its located problems
        elif isinstance(exc, InvalidInputError):
            status = 400
        else:
            status = 400
        return error_response(status, str(exc), problems)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error serving %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "The server hit an unexpected error; the details are in its log.")
