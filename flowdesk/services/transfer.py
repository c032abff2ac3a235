"""Import and export of workflow files: the file format on one side, the store on the other.

An import is all or nothing: the file is read and checked first (every problem reported at once),
then its APIs, the workflow, its nodes and its connections are written in one transaction.
An export never leaves a half-written file: it writes a temporary file beside the target and
renames it into place.

Opening a file (`open_file`: the app's Open and Import, `flowdesk import` and `flowdesk run FILE`)
never piles up copies: a file whose content matches a stored workflow of that name gives that one
back; a file whose name is taken by a workflow with other content is refused unless the caller
chose to replace that workflow (as a new version, the old state kept as a version too) or to import
the file as a copy under a free name. This is the one place of that rule; the doors only ask.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.execution_handlers import WORKFLOW_PREFIX, parsed_handler
from flowdesk.domain.models import ApiDefinition, WorkflowGraph
from flowdesk.gc_control import gc_paused
from flowdesk.interchange.workflow_file import WorkflowFile, read_workflow_file, write_workflow_file
from flowdesk.store import Database

from .apis import ApiService
from .node_types import NodeTypeDescriptor, NodeTypeService, known_node_types
from .workflows import WorkflowService

__all__ = [
    "NameTaken",
    "OpenedFile",
    "TransferService",
    "WorkflowNameTakenError",
    "graph_signature",
    "read_input",
]

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


class NameTaken(StrEnum):
    """What to do with a file whose workflow name is taken by a stored workflow with other content."""

    REFUSE = "refuse"  # raise WorkflowNameTakenError: the door asks the person
    REPLACE = "replace"  # the file becomes the stored workflow's new version
    AS_NEW = "as_new"  # the file is stored as a copy under a free name ("NAME (copy)")


class WorkflowNameTakenError(ConflictError):
    """A file's workflow name is taken by a stored workflow whose content differs."""

    def __init__(self, name: str, workflow_id: int) -> None:
        self.name, self.workflow_id = name, workflow_id
        super().__init__(f"A different workflow named '{name}' is stored already (workflow {workflow_id}).")


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """What opening a file did: `outcome` is "reused" (identical content was stored), "stored"
    (a new workflow), "replaced" (a new version of the workflow of that name) or "copied"."""

    graph: WorkflowGraph
    outcome: str
    source: str
    problems: list[Any]  # the file's warnings


_VOLATILE = {"id", "workflow_id", "created_at", "updated_at", "from_node_id", "to_node_id", "source"}


def _api_identity(api: ApiDefinition) -> str:
    return json.dumps(api.model_dump(mode="json", exclude={"id", "created_at", "updated_at"}), sort_keys=True)


def graph_signature(graph: WorkflowGraph, apis: dict[Any, ApiDefinition]) -> str:
    """Canonical text of a graph's content (ids, timestamps and status left out, API ids replaced by
    the APIs' content): equal for a file and the workflow stored from it."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in _VOLATILE}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    nodes = []
    for node in graph.nodes:
        data = node.model_dump(mode="json")
        api_id = node.config.get("api_id")
        if api_id in apis:
            data["config"] = {**data["config"], "api_id": _api_identity(apis[api_id])}
        nodes.append(clean(data))
    workflow = clean(graph.workflow.model_dump(mode="json"))
    workflow.pop("status", None)
    connections = [clean(c.model_dump(mode="json")) for c in graph.connections]
    return json.dumps({"workflow": workflow, "nodes": nodes, "connections": connections}, sort_keys=True)


def _in_library(graph: WorkflowGraph, library_ids: dict[int, int], renamed: dict[str, str]) -> WorkflowGraph:
    """`graph` with the file's API ids replaced by the library's and SUBWORKFLOW references to
    renamed carried workflows following their new names."""
    nodes = []
    for node in graph.nodes:
        config = node.config
        file_id = config.get("api_id")
        if isinstance(file_id, int) and not isinstance(file_id, bool) and file_id in library_ids:
            config = {**config, "api_id": library_ids[file_id]}
        called = config.get("workflow") if node.node_type == "SUBWORKFLOW" else None
        if isinstance(called, str) and called in renamed:
            config = {**config, "workflow": renamed[called]}
        nodes.append(node if config is node.config else node.model_copy(update={"config": config}))
    return graph.model_copy(update={"nodes": nodes})


class TransferService:
    """Import workflow files into the store and export stored workflows as files."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.workflows = WorkflowService(db)
        self.apis = ApiService(db)

    def known_node_types(self) -> dict[str, NodeTypeDescriptor]:
        """Built-in node types plus the custom ones registered in this database, with descriptors."""
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

    def _library_graph(
        self, workflow_file: WorkflowFile, name: str | None, session: Session
    ) -> WorkflowGraph:
        """The file's graph with its APIs matched to (or added to) the library and `api_id`s
        rewritten; the sub-workflows it carries are matched to identical stored ones or stored, and
        the custom types it carries registered (NodeTypeService.carry_in: an identical registration
        is reused, a different one refuses the import)."""
        node_types = NodeTypeService(self.db)
        registered = (
            node_types.carry_in(workflow_file.node_types, session=session) if workflow_file.node_types else []
        )
        library_ids: dict[int, int] = {}
        for api in workflow_file.apis:
            stored = self.apis.find_identical(api, session=session)
            if stored is None:
                stored = self.apis.create_api(api, session=session)
            elif stored.id is not None:
                # the same call, stored without the answer's schema (ASSERT's default) or without a
                # response cache option: the file's come with it
                taken = {
                    key: getattr(api, key)
                    for key in ("response_schema", "cache")
                    if getattr(stored, key) is None and getattr(api, key) is not None
                }
                if taken:
                    self.apis.update_api(stored.id, session=session, **taken)
            if api.id is not None and stored.id is not None:
                library_ids[api.id] = stored.id
        renamed = self._store_carried(workflow_file, library_ids, session)
        node_types.follow_renames(registered, renamed, session=session)
        graph = _in_library(workflow_file.graph, library_ids, renamed)
        workflow = graph.workflow if name is None else graph.workflow.model_copy(update={"name": name})
        return graph.model_copy(update={"workflow": workflow})

    def _store_carried(
        self, workflow_file: WorkflowFile, library_ids: dict[int, int], session: Session
    ) -> dict[str, str]:
        """Store the file's carried sub-workflows that the library lacks. One with identical content
        stored under its name (or an earlier copy's) is reused; one whose name is taken by other
        content is stored as `NAME (copy)`. Returns the renames, which the callers' references follow."""
        file_apis = {a.id: a for a in workflow_file.apis if a.id is not None}
        renamed: dict[str, str] = {}
        to_store: list[WorkflowGraph] = []
        for carried in workflow_file.workflows:  # callees first: their renames reach their callers
            wanted_name = carried.workflow.name
            follows = _in_library(carried, {}, renamed)
            listed = self.workflows.list_workflows(search=wanted_name)
            candidates = [
                w for w in listed if w.name == wanted_name or w.name.startswith(f"{wanted_name} (copy")
            ]
            reused = None
            for candidate in candidates:
                assert candidate.id is not None
                as_named = follows.model_copy(
                    update={"workflow": follows.workflow.model_copy(update={"name": candidate.name})}
                )
                stored = self._calls_by_name(self.workflows.load_graph(candidate.id, session=session))
                if graph_signature(stored, self._apis_of(stored)) == graph_signature(as_named, file_apis):
                    reused = candidate.name
                    break
            if reused is not None:
                renamed[wanted_name] = reused
            elif any(w.name == wanted_name for w in listed):
                renamed[wanted_name] = self._copy_name(wanted_name)
                to_store.append(carried)
            else:
                to_store.append(carried)
        for carried in to_store:
            graph = _in_library(carried, library_ids, renamed)
            new_name = renamed.get(carried.workflow.name, carried.workflow.name)
            graph = graph.model_copy(
                update={"workflow": graph.workflow.model_copy(update={"name": new_name})}
            )
            self.workflows.create_from_graph(graph, session=session)
        return {old: new for old, new in renamed.items() if old != new}

    def store(self, workflow_file: WorkflowFile, *, name: str | None = None) -> WorkflowGraph:
        """Write an already-read file's APIs and graph in one transaction (always a new workflow)."""
        with gc_paused(), self.db.session() as session:
            to_store = self._library_graph(workflow_file, name, session)
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

    # -- opening a file without piling up copies -------------------------------------------------

    def open_file(
        self,
        path_or_text: Source,
        *,
        name: str | None = None,
        if_name_taken: NameTaken | str = NameTaken.REFUSE,
    ) -> OpenedFile:
        """The stored workflow for a file: the one with identical content if there is one, else the
        file stored; when its name (or `name`) is taken by other content, `if_name_taken` decides
        (REFUSE raises WorkflowNameTakenError). FileFormatError lists a bad file's problems."""
        workflow_file = self.read_file(path_or_text)
        wanted_name = name if name is not None else workflow_file.graph.workflow.name
        graph = workflow_file.graph
        if name is not None:
            graph = graph.model_copy(update={"workflow": graph.workflow.model_copy(update={"name": name})})
        file_apis = {a.id: a for a in workflow_file.apis if a.id is not None}
        listed = self.workflows.list_workflows(search=wanted_name)
        namesakes = [w for w in listed if w.name == wanted_name]
        # A copy imported earlier ("NAME (copy)", "NAME (copy 2)") with the same content is reused too.
        copies = [w for w in listed if w.name.startswith(f"{wanted_name} (copy")]
        for candidate in [*namesakes, *copies]:
            assert candidate.id is not None
            renamed = graph.workflow.model_copy(update={"name": candidate.name})
            wanted = graph_signature(graph.model_copy(update={"workflow": renamed}), file_apis)
            stored = self.workflows.load_graph(candidate.id)
            if graph_signature(stored, self._apis_of(stored)) == wanted:
                return OpenedFile(stored, "reused", workflow_file.source, workflow_file.problems)
        if not namesakes:
            return OpenedFile(
                self.store(workflow_file, name=name), "stored", workflow_file.source, workflow_file.problems
            )
        choice = NameTaken(if_name_taken)
        newest = max(namesakes, key=lambda w: w.id or 0)
        assert newest.id is not None
        if choice == NameTaken.REFUSE:
            raise WorkflowNameTakenError(wanted_name, newest.id)
        if choice == NameTaken.AS_NEW:
            copy_name = self._copy_name(wanted_name)
            created = self.store(workflow_file, name=copy_name)
            return OpenedFile(created, "copied", workflow_file.source, workflow_file.problems)
        from .versions import replace_as_version

        with gc_paused(), self.db.session() as session:
            target = self._library_graph(workflow_file, name, session)
            replaced = replace_as_version(
                session,
                newest.id,
                target,
                before=(
                    f"before importing {workflow_file.source}",
                    "Saved automatically before a file replaced it.",
                ),
                after=f"imported from {workflow_file.source}",
                summary=f"Replaced workflow {newest.id} '{wanted_name}' with {workflow_file.source}.",
            )
        log.info("replaced workflow %s with %s", newest.id, workflow_file.source)
        return OpenedFile(replaced, "replaced", workflow_file.source, workflow_file.problems)

    def _calls_by_name(self, graph: WorkflowGraph) -> WorkflowGraph:
        """`graph` with SUBWORKFLOW calls by database id naming the workflow instead (as a file does)."""
        nodes = []
        for node in graph.nodes:
            called = node.config.get("workflow") if node.node_type == "SUBWORKFLOW" else None
            if isinstance(called, int) and not isinstance(called, bool):
                try:
                    name = self.workflows.get_workflow(called).name
                except NotFoundError:
                    name = None
                if name is not None:
                    node = node.model_copy(update={"config": {**node.config, "workflow": name}})
            nodes.append(node)
        return graph.model_copy(update={"nodes": nodes})

    def _apis_of(self, graph: WorkflowGraph) -> dict[Any, ApiDefinition]:
        apis: dict[Any, ApiDefinition] = {}
        for node in graph.nodes:
            api_id = node.config.get("api_id")
            if isinstance(api_id, int) and api_id not in apis:
                try:
                    apis[api_id] = self.apis.get_api(api_id)
                except NotFoundError:  # a dangling api_id simply makes the content differ
                    continue
        return apis

    def _copy_name(self, name: str) -> str:
        """`NAME (copy)`, else `NAME (copy 2)`, `NAME (copy 3)`...: a name no stored workflow has."""
        taken = {w.name for w in self.workflows.list_workflows(search=name)}
        candidate, n = f"{name} (copy)", 2
        while candidate in taken:
            candidate, n = f"{name} (copy {n})", n + 1
        return candidate

    def replace_graph(self, workflow_id: int, path_or_text: Source) -> WorkflowGraph:
        """Make stored workflow `workflow_id` what the file describes, in one transaction (the REST
        API's `PUT /workflows/{id}/graph`). As when a file replaces a workflow on open, the state
        before is kept as a version, nodes keep their ids where their names match, and the file's
        APIs are matched or added. Any problem leaves the workflow as it was."""
        from .versions import replace_as_version

        workflow_file = self.read_file(path_or_text)
        with gc_paused(), self.db.session() as session:
            target = self._library_graph(workflow_file, None, session)
            return replace_as_version(
                session,
                workflow_id,
                target,
                before=("before a graph upload", "Saved automatically before a workflow file replaced it."),
                after="uploaded graph",
                summary=f"Replaced workflow {workflow_id}'s graph with an uploaded workflow file.",
            )

    def export_workflow(self, workflow_id: int) -> str:
        """The stored workflow as file-format text, embedding every API its nodes use, every
        workflow its SUBWORKFLOW nodes call, directly or further down (format 2's `workflows`), and
        the registrations of the custom types their nodes use (`node_types`), so the file is
        self-contained."""
        with gc_paused():
            with self.db.session(read_only=True) as session:
                graph = self.workflows.load_graph(workflow_id, session=session)
                known = known_node_types(session)
            carried, apis, registrations = self.export_parts(graph)
        return write_workflow_file(graph, apis, known, workflows=carried, registrations=registrations)

    def export_parts(
        self, graph: WorkflowGraph
    ) -> tuple[list[WorkflowGraph], list[ApiDefinition], list[dict[str, Any]]]:
        """What travels with `graph` in a file (the app's File > Export asks too, so both write the
        same bytes): the workflows it calls (SUBWORKFLOW nodes, and nodes of a custom type whose
        handler is `workflow:NAME`), directly or further down, callees first; the registrations of
        the custom types all of them use, a `workflow:ID` handler naming a carried workflow written
        by its name (ids do not travel); and the API definitions their nodes use, with those the
        types' `api:NAME` handlers name. A handler naming nothing stored is left as it is: the type
        is refused where it would run, naming it."""
        from .subworkflows import called_workflows

        carried = called_workflows(self.db, graph)
        node_types = NodeTypeService(self.db)
        done: set[Any] = {graph.workflow.id, *(g.workflow.id for g in carried)}
        while True:
            registrations = node_types.registrations_used((graph, *carried))
            refs = [parsed_handler(r["execution_handler"]) for r in registrations]
            found = [
                w for w in (self._find(ref.target) for ref in refs if ref and ref.kind == "workflow") if w
            ]
            new = [w for w in found if w.workflow.id not in done]
            if not new:
                break
            for child in new:
                for g in (*called_workflows(self.db, child), child):
                    if g.workflow.id not in done:
                        done.add(g.workflow.id)
                        carried.append(g)
        names = {str(g.workflow.id): g.workflow.name for g in (graph, *carried)}
        for registration, ref in zip(registrations, refs, strict=True):
            if ref is not None and ref.kind == "workflow" and ref.target in names and ref.target.isdigit():
                registration["execution_handler"] = WORKFLOW_PREFIX + names[ref.target]
        apis: dict[Any, ApiDefinition] = {}
        with self.db.session(read_only=True) as session:
            for g in (graph, *carried):
                apis.update((a.id, a) for a in self._apis_used(g, session))
        for ref in refs:
            if ref is not None and ref.kind == "api":
                named = [a for a in self.apis.list_apis(search=ref.target) if a.name == ref.target]
                if len(named) == 1:
                    apis.setdefault(named[0].id, named[0])
        return carried, list(apis.values()), registrations

    def _find(self, reference: str) -> WorkflowGraph | None:
        """The stored graph a `workflow:` handler names (None when none, or several, has that name)."""
        try:
            workflow = self.workflows.find_workflow(reference)
        except (NotFoundError, ConflictError):
            return None
        assert workflow.id is not None
        return self.workflows.load_graph(workflow.id)

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
