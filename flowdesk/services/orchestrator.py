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
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from flowdesk.domain.enums import ConnectionType, NodeType, WorkflowStatus
from flowdesk.domain.models import (
    ApiDefinition,
    Connection,
    Execution,
    ExecutionLog,
    Node,
    Workflow,
    WorkflowGraph,
)
from flowdesk.store import Database

from .apis import ApiService
from .audit import AuditEntry, AuditService
from .executions import ExecutionService
from .node_types import NodeTypeDefinition, NodeTypeService
from .versions import VersionDiff, VersionService, WorkflowVersion
from .workflows import WorkflowService


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
                from flowdesk.domain.errors import FlowdeskError

                raise FlowdeskError("This orchestrator has been closed.")
            if self._db is None:
                self._db = Database(self._db_arg)  # type: ignore[arg-type]
            return self._db

    async def _with(self, service: type, method: str, /, *args: Any, **kwargs: Any) -> Any:
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

    async def create_workflow(
        self,
        name: str,
        description: str = "",
        version: str = "1.0",
        config: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        is_active: bool = False,
    ) -> Workflow:
        """Create a workflow (a draft unless `is_active`); returns it with `.id` and `.status`."""
        return await self._with(
            WorkflowService,
            "create_workflow",
            name,
            description=description,
            version=version,
            config=config,
            tags=tags,
            is_active=is_active,
        )

    async def get_workflow(self, workflow_id: int) -> Workflow:
        """One workflow by id."""
        return await self._with(WorkflowService, "get_workflow", workflow_id)

    async def find_workflow(self, id_or_name: int | str) -> Workflow:
        """One workflow by id or exact name."""
        return await self._with(WorkflowService, "find_workflow", id_or_name)

    async def list_workflows(
        self, tag: str | None = None, search: str | None = None, status: str | WorkflowStatus | None = None
    ) -> list[Workflow]:
        """Workflows filtered by tag, name/description search and status."""
        return await self._with(WorkflowService, "list_workflows", tag=tag, search=search, status=status)

    async def update_workflow(self, workflow_id: int, **fields: Any) -> Workflow:
        """Change name, description, version, config, tags, is_active or status."""
        return await self._with(WorkflowService, "update_workflow", workflow_id, **fields)

    async def delete_workflow(self, workflow_id: int) -> None:
        """Delete a workflow with its nodes, connections, runs and versions."""
        await self._with(WorkflowService, "delete_workflow", workflow_id)

    async def duplicate_workflow(self, workflow_id: int, name: str | None = None) -> Workflow:
        """Copy a workflow (nodes, connections, config, tags) into a new draft."""
        return await self._with(WorkflowService, "duplicate_workflow", workflow_id, name=name)

    async def set_status(self, workflow_id: int, status: str | WorkflowStatus) -> Workflow:
        """Make a workflow a draft or active."""
        return await self._with(WorkflowService, "set_status", workflow_id, status)

    async def activate_workflow(self, workflow_id: int) -> Workflow:
        """Shorthand for set_status(workflow_id, "active")."""
        return await self.set_status(workflow_id, WorkflowStatus.ACTIVE)

    async def load_graph(self, workflow_id: int) -> WorkflowGraph:
        """The workflow with all its nodes and connections."""
        return await self._with(WorkflowService, "load_graph", workflow_id)

    async def save_graph(self, graph: WorkflowGraph) -> WorkflowGraph:
        """Store a whole graph in one transaction (nodes matched by id)."""
        return await self._with(WorkflowService, "save_graph", graph)

    async def validate_workflow(self, workflow_id: int) -> list[Any]:
        """Every validation problem of the stored workflow (see flowdesk.domain.validation)."""
        from flowdesk.domain.validation import validate_graph

        def work() -> list[Any]:
            db = self._database()
            graph = WorkflowService(db).load_graph(workflow_id)
            return validate_graph(graph, node_types=NodeTypeService(db).known_types())

        return await asyncio.to_thread(work)

    # -- nodes -------------------------------------------------------------------------------

    async def add_node(
        self,
        workflow_id: int,
        name: str,
        node_type: NodeType | str,
        config: dict[str, Any] | None = None,
        position_x: float = 0,
        position_y: float = 0,
        description: str = "",
    ) -> Node:
        """Add a node; names are unique within a workflow."""
        return await self._with(
            WorkflowService,
            "add_node",
            workflow_id,
            name=name,
            node_type=node_type,
            config=config,
            position_x=position_x,
            position_y=position_y,
            description=description,
        )

    async def get_node(self, node_id: int) -> Node:
        """One node by id."""
        return await self._with(WorkflowService, "get_node", node_id)

    async def list_nodes(self, workflow_id: int) -> list[Node]:
        """A workflow's nodes."""
        return await self._with(WorkflowService, "list_nodes", workflow_id)

    async def update_node(self, node_id: int, **fields: Any) -> Node:
        """Change name, node_type, config, position_x, position_y or description."""
        return await self._with(WorkflowService, "update_node", node_id, **fields)

    async def delete_node(self, node_id: int) -> None:
        """Delete a node and its connections (run history keeps the step, with node_id NULL)."""
        await self._with(WorkflowService, "delete_node", node_id)

    # -- connections -------------------------------------------------------------------------

    async def add_connection(
        self,
        workflow_id: int,
        from_node_id: int,
        to_node_id: int,
        connection_type: ConnectionType | str = ConnectionType.SEQUENCE,
        condition: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> Connection:
        """Connect two nodes of the workflow."""
        return await self._with(
            WorkflowService,
            "add_connection",
            workflow_id,
            from_node_id,
            to_node_id,
            connection_type,
            condition=condition,
            config=config,
        )

    async def get_connection(self, connection_id: int) -> Connection:
        """One connection by id."""
        return await self._with(WorkflowService, "get_connection", connection_id)

    async def list_connections(self, workflow_id: int) -> list[Connection]:
        """A workflow's connections in their drawn order."""
        return await self._with(WorkflowService, "list_connections", workflow_id)

    async def update_connection(self, connection_id: int, **fields: Any) -> Connection:
        """Change connection_type, condition, config, from_node_id or to_node_id."""
        return await self._with(WorkflowService, "update_connection", connection_id, **fields)

    async def delete_connection(self, connection_id: int) -> None:
        """Delete one connection."""
        await self._with(WorkflowService, "delete_connection", connection_id)

    # -- versions ----------------------------------------------------------------------------

    async def save_version(
        self, workflow_id: int, label: str | None = None, note: str = ""
    ) -> WorkflowVersion:
        """Snapshot the workflow as stored now."""
        return await self._with(VersionService, "save_version", workflow_id, label=label, note=note)

    async def list_versions(self, workflow_id: int) -> list[WorkflowVersion]:
        """A workflow's versions, oldest first."""
        return await self._with(VersionService, "list_versions", workflow_id)

    async def get_version(self, version_id: int) -> WorkflowVersion:
        """One version with its snapshot."""
        return await self._with(VersionService, "get_version", version_id)

    async def diff_versions(self, a_id: int, b_id: int) -> VersionDiff:
        """What changed from version a to version b."""
        return await self._with(VersionService, "diff_versions", a_id, b_id)

    async def restore_version(self, version_id: int) -> WorkflowGraph:
        """Make the workflow what the version was (recorded as a new version)."""
        return await self._with(VersionService, "restore_version", version_id)

    # -- import / export -----------------------------------------------------------------------

    async def import_workflow(
        self, path_or_text: str | os.PathLike[str] | bytes, name: str | None = None
    ) -> WorkflowGraph:
        """Import a workflow file (a path, or the JSON text itself), all or nothing."""
        from .transfer import TransferService

        return await self._with(TransferService, "import_file", path_or_text, name=name)

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

    # -- API library ---------------------------------------------------------------------------

    async def create_api(self, api: ApiDefinition | None = None, **fields: Any) -> ApiDefinition:
        """Add an API definition (an ApiDefinition, or fields name=..., url=..., method=...)."""
        return await self._with(ApiService, "create_api", api, **fields)

    async def get_api(self, api_id: int) -> ApiDefinition:
        """One API definition by id."""
        return await self._with(ApiService, "get_api", api_id)

    async def list_apis(self, search: str | None = None, tag: str | None = None) -> list[ApiDefinition]:
        """API definitions, filtered by search text and tag."""
        return await self._with(ApiService, "list_apis", search=search, tag=tag)

    async def update_api(self, api_id: int, **fields: Any) -> ApiDefinition:
        """Change fields of an API definition."""
        return await self._with(ApiService, "update_api", api_id, **fields)

    async def delete_api(self, api_id: int) -> None:
        """Delete an API definition (refused while a workflow uses it)."""
        await self._with(ApiService, "delete_api", api_id)

    async def preview_api_import(self, text_or_bytes: str | bytes, *, source_name: str = "") -> Any:
        """Read a spec, collection or curl command; an ApiImportPlan (what would be added/updated/skipped)."""
        from .api_library import ApiLibraryService

        return await self._with(ApiLibraryService, "plan_spec", text_or_bytes, source_name=source_name)

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

        return await self._with(
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

        await self._with(SecretService, "set_secret", name, value)

    async def run_values(self, environment: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """(variables, secrets) for a run: pass them to WorkflowExecutor(environment=..., secrets=...)."""
        from .environments import run_values

        return await asyncio.to_thread(run_values, self._database(), environment)

    # -- runs (read side; running is WorkflowExecutor's) ----------------------------------------

    async def list_executions(
        self, workflow_id: int | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Execution]:
        """Runs, newest first."""
        return await self._with(
            ExecutionService,
            "list_executions",
            workflow_id=workflow_id,
            status=status,
            limit=limit,
            offset=offset,
        )

    async def get_execution(self, execution_id: int) -> Execution:
        """One run by id."""
        return await self._with(ExecutionService, "get_execution", execution_id)

    async def get_execution_logs(self, execution_id: int) -> list[ExecutionLog]:
        """A run's step rows in the order the steps started."""
        return await self._with(ExecutionService, "get_logs", execution_id)

    # -- node types and audit --------------------------------------------------------------------

    async def register_node_type(
        self,
        type_name: str,
        description: str = "",
        config_schema: dict[str, Any] | None = None,
        execution_handler: str | None = None,
    ) -> NodeTypeDefinition:
        """Register (or update) a custom node type."""
        return await self._with(
            NodeTypeService, "register_node_type", type_name, description, config_schema, execution_handler
        )

    async def list_node_types(self) -> list[NodeTypeDefinition]:
        """Registered custom node types."""
        return await self._with(NodeTypeService, "list_node_types")

    async def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The audit trail, newest first."""
        return await self._with(AuditService, "list_entries", entity=entity, entity_id=entity_id, limit=limit)
