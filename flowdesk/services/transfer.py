"""Import and export of workflow files: the file format on one side, the store on the other.

An import is all or nothing: the file is read and checked first (every problem reported at once),
then its APIs, the workflow, its nodes and its connections are written in one transaction.
An export never leaves a half-written file: it writes a temporary file beside the target and
renames it into place.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.domain.models import ApiDefinition, WorkflowGraph
from flowdesk.gc_control import gc_paused
from flowdesk.interchange.workflow_file import WorkflowFile, read_workflow_file, write_workflow_file
from flowdesk.store import Database

from .apis import ApiService
from .node_types import known_node_types
from .workflows import WorkflowService

__all__ = ["TransferService", "read_input"]

log = logging.getLogger(__name__)

Source = str | bytes | bytearray | os.PathLike[str]


def read_input(path_or_text: Source) -> tuple[str | bytes, str]:
    """The content to read and the name to report it under.

    Bytes and strings that start like JSON (`{` or `[`) are content; anything else is a path.
    A file that cannot be read raises InvalidInputError naming it and the reason.
    """
    if isinstance(path_or_text, (bytes, bytearray)):
        return bytes(path_or_text), "<input>"
    if isinstance(path_or_text, str) and path_or_text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        return path_or_text, "<input>"
    path = Path(path_or_text)
    try:
        return path.read_bytes(), path.name
    except FileNotFoundError:
        raise InvalidInputError(f"Cannot read {path}: there is no such file.") from None
    except IsADirectoryError:
        raise InvalidInputError(f"Cannot read {path}: it is a folder, not a file.") from None
    except PermissionError:
        raise InvalidInputError(f"Cannot read {path}: permission denied.") from None
    except OSError as err:
        raise InvalidInputError(f"Cannot read {path}: {err.strerror or err}.") from None


class TransferService:
    """Import workflow files into the store and export stored workflows as files."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.workflows = WorkflowService(db)
        self.apis = ApiService(db)

    def known_node_types(self) -> set[str]:
        """Built-in node types plus the custom ones registered in this database."""
        with self.db.session(read_only=True) as session:
            return known_node_types(session)

    def read_file(self, path_or_text: Source) -> WorkflowFile:
        """Read and check a file against this database's node types (FileFormatError lists every problem)."""
        data, source = read_input(path_or_text)
        return read_workflow_file(data, source=source, node_types=self.known_node_types())

    def import_file(self, path_or_text: Source, *, name: str | None = None) -> WorkflowGraph:
        """Store the file's workflow (renamed to `name` if given), in one transaction; returns it with ids.

        Each API of the file is matched to an identical one in the library (same method, URL,
        headers, query, body, auth and timeout) or added to it, and the nodes' `api_id`s are
        rewritten to the library's ids. Any failure leaves the database as it was.
        """
        workflow_file = self.read_file(path_or_text)
        return self.store(workflow_file, name=name)

    def store(self, workflow_file: WorkflowFile, *, name: str | None = None) -> WorkflowGraph:
        """Write an already-read file's APIs and graph in one transaction."""
        graph = workflow_file.graph
        with gc_paused(), self.db.session() as session:
            library_ids = self._store_apis(workflow_file, session)
            nodes = []
            for node in graph.nodes:
                file_id = node.config.get("api_id")
                if isinstance(file_id, int) and not isinstance(file_id, bool) and file_id in library_ids:
                    node = node.model_copy(update={"config": {**node.config, "api_id": library_ids[file_id]}})
                nodes.append(node)
            workflow = graph.workflow if name is None else graph.workflow.model_copy(update={"name": name})
            to_store = graph.model_copy(update={"workflow": workflow, "nodes": nodes})
            created = self.workflows.create_from_graph(to_store, session=session)
        log.info(
            "imported %s as workflow %s (%d nodes, %d connections, %d APIs)",
            workflow_file.source,
            created.workflow.id,
            len(created.nodes),
            len(created.connections),
            len(workflow_file.apis),
        )
        return created

    def replace_graph(self, workflow_id: int, path_or_text: Source) -> WorkflowGraph:
        """Make stored workflow `workflow_id` what the file describes, in one transaction.

        The file's workflow properties (name, description, version, config, tags) and graph replace the
        stored ones; a node keeps its id (and so its run history) when the file has a node of the same
        name. The file's APIs are matched or added as on import. Any problem leaves the workflow as it was.
        """
        workflow_file = self.read_file(path_or_text)
        graph = workflow_file.graph
        with gc_paused(), self.db.session() as session:
            current = self.workflows.load_graph(workflow_id, session=session)
            ids_by_name = {n.name: n.id for n in current.nodes}
            library_ids = self._store_apis(workflow_file, session)
            nodes = []
            for node in graph.nodes:
                update: dict[str, object] = {"id": ids_by_name.get(node.name), "workflow_id": workflow_id}
                file_id = node.config.get("api_id")
                if isinstance(file_id, int) and not isinstance(file_id, bool) and file_id in library_ids:
                    update["config"] = {**node.config, "api_id": library_ids[file_id]}
                nodes.append(node.model_copy(update=update))
            workflow = graph.workflow.model_copy(
                update={"id": workflow_id, "created_at": current.workflow.created_at}
            )
            return self.workflows.save_graph(
                graph.model_copy(update={"workflow": workflow, "nodes": nodes}), session=session
            )

    def _store_apis(self, workflow_file: WorkflowFile, session: Session) -> dict[int, int]:
        """Match or add the file's APIs in the library; file API id -> library id."""
        library_ids: dict[int, int] = {}
        for api in workflow_file.apis:
            stored = self.apis.find_identical(api, session=session)
            if stored is None:
                stored = self.apis.create_api(api, session=session)
            if api.id is not None and stored.id is not None:
                library_ids[api.id] = stored.id
        return library_ids

    def export_workflow(self, workflow_id: int) -> str:
        """The stored workflow as file-format text, embedding every API its nodes use."""
        with gc_paused(), self.db.session(read_only=True) as session:
            graph = self.workflows.load_graph(workflow_id, session=session)
            apis = self._apis_used(graph, session)
        return write_workflow_file(graph, apis)

    def _apis_used(self, graph: WorkflowGraph, session: Session) -> list[ApiDefinition]:
        apis: dict[int, ApiDefinition] = {}
        for node in graph.nodes:
            api_id = node.config.get("api_id")
            if isinstance(api_id, int) and not isinstance(api_id, bool) and api_id not in apis:
                try:
                    apis[api_id] = self.apis.get_api(api_id, session=session)
                except NotFoundError:
                    raise InvalidInputError(
                        f"Node '{node.name}' uses API {api_id}, which is no longer in the API library; "
                        "choose another API for it before exporting."
                    ) from None
        return list(apis.values())

    def export_to_file(self, workflow_id: int, path: str | os.PathLike[str]) -> Path:
        """Write the export to `path` atomically: a temporary file in the same folder, then a rename."""
        target = Path(path)
        data = self.export_workflow(workflow_id).encode("utf-8")
        folder = target.parent if str(target.parent) else Path(".")
        try:
            handle = tempfile.NamedTemporaryFile(
                mode="wb", dir=folder, prefix=f".{target.name}.", suffix=".tmp", delete=False
            )
        except FileNotFoundError:
            raise InvalidInputError(f"Cannot write {target}: the folder {folder} does not exist.") from None
        except OSError as err:
            raise InvalidInputError(f"Cannot write {target}: {err.strerror or err}.") from None
        try:
            with handle:
                if hasattr(os, "fchmod"):  # a temporary file is private (0600); an export is not
                    os.fchmod(handle.fileno(), _mode_for(target))
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, target)
        except OSError as err:
            Path(handle.name).unlink(missing_ok=True)
            raise InvalidInputError(f"Cannot write {target}: {err.strerror or err}.") from None
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        return target


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual rw-r--r--."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o644
