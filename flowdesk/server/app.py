"""The FastAPI application: `create_app(settings)` wires the runtime, the error handlers, the body
limit and the routers. `flowdesk serve` runs it under uvicorn; tests run it the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from . import errors
from .runtime import ServerRuntime, ServerSettings
from .schemas import ERROR_RESPONSES

DESCRIPTION = """\
flowdesk's engine as a service: workflows, nodes and connections, runs and their steps, live events,
the monitor, the API library, environments, secrets, custom node types, users and the audit log.

Authentication: `Authorization: Bearer <token>` (tokens come from `flowdesk token create USER`).
While no user exists and the server listens on loopback only, requests need no token.
Every error is `{"detail": "one sentence", "problems": [...]}`.
"""


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is refused with 413 before it is read whole."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = 0
                if size > self.limit:
                    await self._refuse(send)
                    return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = (
            b'{"detail":"The request body is larger than this server accepts ('
            + f"{self.limit:,} bytes; see flowdesk serve --body-limit".encode()
            + b').","problems":[]}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The REST API application for `settings` (the database is opened when the app starts)."""
    from .routes import admin, executions, library, monitor, workflows

    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await ServerRuntime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="flowdesk",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,  # served below, with the address the client reached the server at
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "workflows", "description": "Workflows, nodes, connections, graphs, versions, files."},
            {"name": "executions", "description": "Running workflows, runs, steps, debugging, live events."},
            {"name": "monitor", "description": "Success rates, durations, slowest nodes, errors, retention."},
            {"name": "api library", "description": "API definitions and their import and export."},
            {"name": "environments", "description": "Named sets of variables ({{env.*}})."},
            {
                "name": "secrets",
                "description": "Encrypted values ({{secrets.*}}); names only are ever returned.",
            },
            {"name": "node types", "description": "Built-in and custom node types."},
            {"name": "users", "description": "Users, roles and API tokens."},
            {"name": "audit", "description": "Who changed what, when."},
        ],
    )
    errors.install(app)
    # Routes are matched in order: GET /executions/{id}, what clients poll, first and alone.
    for router in (
        executions.polled,
        executions.router,
        workflows.router,
        monitor.router,
        library.router,
        admin.router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)
    _add_documentation(app)
    app.add_middleware(BodyLimit, limit=settings.body_limit)
    return app


def _add_documentation(app: FastAPI) -> None:
    """/openapi.json naming this server (so an importer of it, flowdesk's own included, knows where
    to send requests) and /docs, FastAPI's interactive page."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.openapi.utils import get_openapi

    cache: dict[str, Any] = {}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if "document" not in cache:
            cache["document"] = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
        document = dict(cache["document"])
        document["servers"] = [{"url": str(request.base_url).rstrip("/"), "description": "this server"}]
        return JSONResponse(document)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="flowdesk API")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("flowdesk")
    except Exception:  # noqa: BLE001 - running from a source tree that is not installed
        return "0"
