"""`WorkflowOrchestrator`: the async Python door onto workflows, nodes, connections, versions, the API
library and import/export.

    from flowdesk import WorkflowOrchestrator, NodeType, ConnectionType

    async with WorkflowOrchestrator(db="flows.db") as orchestrator:
        workflow = await orchestrator.create_workflow(name="示例工作流", description="...", version="1.0",
                                                      config={"timeout": 300}, tags=["demo"])
        start = await orchestrator.add_node(workflow.id, name="开始", node_type=NodeType.START)
        ...

Every method runs the synchronous service call in a worker thread (`asyncio.to_thread`), so the
event loop (qasync's Qt loop included) never waits on the database. The database is opened on first use,
also in a worker thread (creating or upgrading a schema takes longer than a call should block).

The facade is generated from the services: `offload(WorkflowService.get_workflow)` is the whole
definition of `get_workflow`, an async method with the service method's signature (less `session=`:
a session cannot cross threads), docstring and types, which opens the service on the orchestrator's
database and runs the call off the loop. A new service method needs one such line, not a copy.
Written out by hand are only the calls that combine services or whose public signature the seed
fixed differently (`validate_workflow`, `export_workflow`, `import_apis`, ...); they go through the
same wrapper, `_call`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from flowdesk.domain.enums import WorkflowStatus
from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import Workflow, WorkflowGraph
from flowdesk.store import Database

from .apis import ApiService
from .audit import AuditEntry, AuditService
from .executions import ExecutionService
from .node_types import NodeTypeService
from .versions import VersionService
from .workflows import WorkflowService

P = ParamSpec("P")
R = TypeVar("R")

# Keyword parameters of service methods that the facade leaves out: a SQLAlchemy session belongs to
# the thread that opened it, so a caller on the event loop can never pass one.
HIDDEN_PARAMETERS = frozenset({"session"})


def offload(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """The async form of a service method: `await orchestrator.name(...)` opens the method's service
    on the orchestrator's database and runs the call in a worker thread.

    The result keeps the method's docstring, annotations and signature (without `session=`), so
    help(), IDEs and `inspect.signature` show the service's own parameters; the method itself is
    looked up by name on each call, so the facade always runs the service's current code.
    """
    service = _owning_class(method)
    name = method.__name__
    signature = inspect.signature(method)
    signature = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name not in HIDDEN_PARAMETERS]
    )

    @functools.wraps(method)
    async def call(self: WorkflowOrchestrator, /, *args: Any, **kwargs: Any) -> Any:
        signature.bind(self, *args, **kwargs)  # a TypeError here, as a direct call would raise
        return await self._call(service, name, *args, **kwargs)

    del call.__wrapped__  # inspect.signature must read __signature__, not the service's (session=)
    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__offloaded__ = (service, name)  # type: ignore[attr-defined]
    return call


def _owning_class(method: Callable[..., Any]) -> type:
    """The class a method was defined in (`WorkflowService.get_workflow` -> WorkflowService)."""
    owner_name, _, attribute = method.__qualname__.rpartition(".")
    owner = inspect.getmodule(method)
    for part in owner_name.split(".") if owner_name else ():
        owner = getattr(owner, part, None)
    if not isinstance(owner, type) or getattr(owner, attribute, None) is not method:
        raise TypeError(f"offload() wants a method of a service class, not {method.__qualname__}")
    return owner


class WorkflowOrchestrator:
    """Create, edit, version, import and export workflows (async; database work runs in threads).

    `db` is a path, a SQLAlchemy URL, an open `Database` (shared, not closed by `close()`), or
    None for the default database (`$FLOWDESK_DB`, else the user data directory).
    """

    def __init__(self, db: str | os.PathLike[str] | Database | None = None) -> None:
        self._db_arg = db
        self._db: Database | None = db if isinstance(db, Database) else None
        self._owns_db = not isinstance(db, Database)
        self._open_lock = threading.Lock()
        self._closed = False

    # -- plumbing ----------------------------------------------------------------------------

    def _database(self) -> Database:
        with self._open_lock:
            if self._closed:
                raise FlowdeskError("This orchestrator has been closed.")
            if self._db is None:
                self._db = Database(self._db_arg)  # type: ignore[arg-type]
            return self._db

    async def _call(self, service: type, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """Run `service(db).method(*args, **kwargs)` in a worker thread: the one wrapper."""

        # Positional-only, so callers' keyword arguments (name=, method=, ...) pass through untouched.
        def work() -> Any:
            return getattr(service(self._database()), method)(*args, **kwargs)

        return await asyncio.to_thread(work)

    @property
    def database(self) -> Database:
        """The open Database (opened now if it was not yet: call from a thread or at start-up)."""
        return self._database()

    async def open(self) -> WorkflowOrchestrator:
        """Open (create or upgrade) the database now rather than on first use."""
        await asyncio.to_thread(self._database)
        return self

    async def close(self) -> None:
        """Close the database if this orchestrator opened it."""
        with self._open_lock:
            db, self._db, self._closed = self._db, None, True
        if db is not None and self._owns_db:
            await asyncio.to_thread(db.close)

    async def __aenter__(self) -> WorkflowOrchestrator:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- workflows ---------------------------------------------------------------------------

    create_workflow = offload(WorkflowService.create_workflow)
    get_workflow = offload(WorkflowService.get_workflow)
    find_workflow = offload(WorkflowService.find_workflow)
    list_workflows = offload(WorkflowService.list_workflows)
    update_workflow = offload(WorkflowService.update_workflow)
    delete_workflow = offload(WorkflowService.delete_workflow)
    duplicate_workflow = offload(WorkflowService.duplicate_workflow)
    set_status = offload(WorkflowService.set_status)
    load_graph = offload(WorkflowService.load_graph)
    save_graph = offload(WorkflowService.save_graph)

    async def activate_workflow(self, workflow_id: int) -> Workflow:
        """Shorthand for set_status(workflow_id, "active")."""
        return await self.set_status(workflow_id, WorkflowStatus.ACTIVE)

    async def validate_workflow(self, workflow_id: int) -> list[Any]:
        """Every validation problem of the stored workflow (see flowdesk.domain.validation)."""
        from flowdesk.domain.validation import validate_graph

        from .subworkflows import subworkflow_problems

        def work() -> list[Any]:
            db = self._database()
            graph = WorkflowService(db).load_graph(workflow_id)
            types = NodeTypeService(db).known_types()
            problems = validate_graph(graph, node_types=types)
            handlers = {name: d.handler for name, d in types.items() if d.handler is not None}
            return [*problems, *subworkflow_problems(db, graph, handlers=handlers)]

        return await asyncio.to_thread(work)

    # -- nodes and connections ---------------------------------------------------------------

    add_node = offload(WorkflowService.add_node)
    get_node = offload(WorkflowService.get_node)
    list_nodes = offload(WorkflowService.list_nodes)
    update_node = offload(WorkflowService.update_node)
    delete_node = offload(WorkflowService.delete_node)
    add_connection = offload(WorkflowService.add_connection)
    get_connection = offload(WorkflowService.get_connection)
    list_connections = offload(WorkflowService.list_connections)
    update_connection = offload(WorkflowService.update_connection)
    delete_connection = offload(WorkflowService.delete_connection)

    # -- versions ----------------------------------------------------------------------------

    save_version = offload(VersionService.save_version)
    list_versions = offload(VersionService.list_versions)
    get_version = offload(VersionService.get_version)
    diff_versions = offload(VersionService.diff_versions)
    restore_version = offload(VersionService.restore_version)

    # -- import / export (the transfer service is imported when first used) ---------------------

    async def import_workflow(
        self, path_or_text: str | os.PathLike[str] | bytes, name: str | None = None
    ) -> WorkflowGraph:
        """Import a workflow file (a path, or the JSON text itself), all or nothing."""
        from .transfer import TransferService

        return await self._call(TransferService, "import_file", path_or_text, name=name)

    async def export_workflow(self, workflow_id: int, path: str | os.PathLike[str] | None = None) -> str:
        """The workflow as file-format JSON; also written to `path` when given."""
        from .transfer import TransferService

        def work() -> str:
            service = TransferService(self._database())
            text = service.export_workflow(workflow_id)
            if path is not None:
                service.export_to_file(workflow_id, Path(path))
            return text

        return await asyncio.to_thread(work)

    # -- API library, environments, secrets ------------------------------------------------------

    create_api = offload(ApiService.create_api)
    get_api = offload(ApiService.get_api)
    list_apis = offload(ApiService.list_apis)
    update_api = offload(ApiService.update_api)
    delete_api = offload(ApiService.delete_api)

    async def preview_api_import(self, text_or_bytes: str | bytes, *, source_name: str = "") -> Any:
        """Read a spec, collection or curl command; an ApiImportPlan (what would be added/updated/skipped)."""
        from .api_library import ApiLibraryService

        return await self._call(ApiLibraryService, "plan_spec", text_or_bytes, source_name=source_name)

    async def import_apis(
        self,
        text_or_bytes: str | bytes,
        *,
        source_name: str = "",
        selected: Any = None,
        environment: str = "default",
    ) -> Any:
        """Import a spec, collection or curl command in one transaction; an ApiImportReport."""
        from .api_library import ApiLibraryService

        return await self._call(
            ApiLibraryService,
            "import_spec",
            text_or_bytes,
            source_name=source_name,
            selected=selected,
            environment=environment,
        )

    async def set_environment(self, name: str, variables: dict[str, Any], *, activate: bool = False) -> Any:
        """Set variables of an environment (created if missing); optionally make it the active one."""
        from .environments import EnvironmentService

        def work() -> Any:
            service = EnvironmentService(self._database())
            env = service.set_variables(name, variables)
            return service.activate(name) if activate else env

        return await asyncio.to_thread(work)

    async def set_secret(self, name: str, value: str) -> None:
        """Store a secret encrypted (`{{secrets.NAME}}`)."""
        from .secrets import SecretService

        await self._call(SecretService, "set_secret", name, value)

    async def run_values(self, environment: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """(variables, secrets) for a run: pass them to WorkflowExecutor(environment=..., secrets=...)."""
        from .environments import run_values

        return await asyncio.to_thread(run_values, self._database(), environment)

    # -- runs (read side; running is WorkflowExecutor's) ----------------------------------------

    list_executions = offload(ExecutionService.list_executions)
    get_execution = offload(ExecutionService.get_execution)
    get_execution_logs = offload(ExecutionService.get_logs)

    # -- node types and audit --------------------------------------------------------------------

    register_node_type = offload(NodeTypeService.register_node_type)
    list_node_types = offload(NodeTypeService.list_node_types)

    async def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The audit trail, newest first."""
        return await self._call(AuditService, "list_entries", entity=entity, entity_id=entity_id, limit=limit)


def _name_offloaded(cls: type) -> None:
    """Give each offloaded method the name it has on `cls` (`get_execution_logs`, not `get_logs`)."""
    for attribute, value in vars(cls).items():
        if getattr(value, "__offloaded__", None) is not None:
            value.__name__ = attribute
            value.__qualname__ = f"{cls.__qualname__}.{attribute}"
            value.__module__ = cls.__module__


_name_offloaded(WorkflowOrchestrator)
