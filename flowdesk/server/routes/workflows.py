"""Workflows, their nodes and connections, the whole graph in the file format, versions, validation,
import and export."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from flowdesk.domain.models import Workflow
from flowdesk.services.users import User
from flowdesk.services.versions import VersionService
from flowdesk.services.workflows import WorkflowService

from ..auth import Editor, Reader, check_scope
from ..schemas import (
    MAX_ID,
    ConnectionCreate,
    ConnectionUpdate,
    ConnectionView,
    DuplicateRequest,
    NodeCreate,
    NodeUpdate,
    NodeView,
    PathId,
    StatusChange,
    VersionCreate,
    WorkflowCreate,
    WorkflowPage,
    WorkflowUpdate,
    WorkflowView,
)
from .common import db_of, off_loop, workflow_in_scope

router = APIRouter(tags=["workflows"])

_FILE_BODY = Body(
    ...,
    media_type="application/json",
    description="A workflow file (docs/file-format.md), as `flowdesk export` writes it.",
)


def _view(workflow: Workflow) -> dict[str, Any]:
    return workflow.model_dump(mode="json")


def _workflows(request: Request) -> WorkflowService:
    return WorkflowService(db_of(request))


# -- workflows -------------------------------------------------------------------------------------


@router.post("/workflows", status_code=201, response_model=WorkflowView, summary="Create a workflow")
async def create_workflow(body: WorkflowCreate, request: Request, user: Editor) -> Any:
    if user.tags is not None and not set(user.tags) & set(body.tags):
        body = body.model_copy(update={"tags": sorted({*body.tags, *user.tags})})
    workflow = await off_loop(
        _workflows(request).create_workflow,
        body.name,
        description=body.description,
        version=body.version,
        config=body.config,
        tags=body.tags,
        is_active=body.is_active,
    )
    return _view(workflow)


@router.get("/workflows", response_model=WorkflowPage, summary="List workflows")
async def list_workflows(
    request: Request,
    user: Reader,
    tag: str | None = Query(None, description="Only workflows carrying this tag."),
    status: Literal["draft", "active"] | None = Query(None, description="Only drafts, or only active ones."),
    search: str | None = Query(None, description="Text in the name or description (any case)."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> Any:
    found = await off_loop(_workflows(request).list_workflows, tag=tag, search=search, status=status)
    visible = [w for w in found if user.may_see_tags(w.tags)]
    return {
        "items": [_view(w) for w in visible[offset : offset + limit]],
        "total": len(visible),
        "limit": limit,
        "offset": offset,
    }


@router.get("/workflows/{workflow_id}", response_model=WorkflowView, summary="Get a workflow")
async def get_workflow(workflow_id: PathId, request: Request, user: Reader) -> Any:
    return _view(await workflow_in_scope(request, user, workflow_id))


@router.patch(
    "/workflows/{workflow_id}", response_model=WorkflowView, summary="Change a workflow's properties"
)
async def update_workflow(workflow_id: PathId, body: WorkflowUpdate, request: Request, user: Editor) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    fields = body.model_dump(exclude_unset=True)
    return _view(await off_loop(_workflows(request).update_workflow, workflow_id, **fields))


@router.delete("/workflows/{workflow_id}", status_code=204, summary="Delete a workflow and its runs")
async def delete_workflow(workflow_id: PathId, request: Request, user: Editor) -> Response:
    await workflow_in_scope(request, user, workflow_id)
    await off_loop(_workflows(request).delete_workflow, workflow_id)
    return Response(status_code=204)


@router.post(
    "/workflows/{workflow_id}/duplicate",
    status_code=201,
    response_model=WorkflowView,
    summary="Copy a workflow",
)
async def duplicate_workflow(
    workflow_id: PathId,
    request: Request,
    user: Editor,
    body: DuplicateRequest | None = None,
) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    name = body.name if body else None
    return _view(await off_loop(_workflows(request).duplicate_workflow, workflow_id, name=name))


@router.put(
    "/workflows/{workflow_id}/status", response_model=WorkflowView, summary="Make a workflow draft or active"
)
async def set_status(workflow_id: PathId, body: StatusChange, request: Request, user: Editor) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    return _view(await off_loop(_workflows(request).set_status, workflow_id, body.status))


# -- the whole graph as a workflow file ---------------------------------------------------------------


@router.get(
    "/workflows/{workflow_id}/graph",
    summary="The whole workflow as a workflow file",
    response_description="The file format of docs/file-format.md (what `flowdesk export` writes).",
)
async def get_graph(workflow_id: PathId, request: Request, user: Reader) -> Response:
    from flowdesk.services.transfer import TransferService

    await workflow_in_scope(request, user, workflow_id)
    text = await off_loop(TransferService(db_of(request)).export_workflow, workflow_id)
    return Response(text, media_type="application/json")


@router.put("/workflows/{workflow_id}/graph", summary="Replace the whole workflow with a workflow file")
async def put_graph(
    workflow_id: PathId,
    request: Request,
    user: Editor,
    document: dict[str, Any] = _FILE_BODY,
) -> Any:
    """Nodes keep their ids (and run history) when the file has a node of the same name. The file is
    checked as `flowdesk validate` checks it; any problem leaves the workflow as it was (422 with the
    located problems)."""
    from flowdesk.services.transfer import TransferService

    await workflow_in_scope(request, user, workflow_id)
    raw = await request.body()
    graph = await off_loop(TransferService(db_of(request)).replace_graph, workflow_id, raw)
    return {
        "workflow": _view(graph.workflow),
        "nodes": len(graph.nodes),
        "connections": len(graph.connections),
    }


@router.post("/workflow-imports", status_code=201, summary="Import a workflow file as a new workflow")
async def import_workflow(
    request: Request,
    user: Editor,
    document: dict[str, Any] = _FILE_BODY,
    name: str | None = Query(None, description="Store it under this name instead of the file's."),
) -> Any:
    from flowdesk.services.transfer import TransferService

    raw = await request.body()
    transfer = TransferService(db_of(request))
    workflow_file = await off_loop(transfer.read_file, raw)
    check_scope(user, workflow_file.graph.workflow)
    graph = await off_loop(transfer.store, workflow_file, name=name)
    return {
        "workflow": _view(graph.workflow),
        "nodes": len(graph.nodes),
        "connections": len(graph.connections),
        "warnings": [str(p) for p in workflow_file.problems],
    }


@router.post("/validate", summary="Validate a workflow file without storing it")
async def validate_file(request: Request, user: Reader, document: dict[str, Any] = _FILE_BODY) -> Any:
    """Answers 200 with `valid` and every problem, located as `flowdesk validate` locates them."""
    from flowdesk.domain.errors import FileFormatError
    from flowdesk.domain.validation import validate_graph
    from flowdesk.services.transfer import TransferService

    from ..errors import problem_json

    raw = await request.body()
    transfer = TransferService(db_of(request))
    try:
        workflow_file = await off_loop(transfer.read_file, raw)
    except FileFormatError as err:
        return {"valid": False, "problems": [problem_json(p) for p in err.problems]}
    problems = list(workflow_file.problems) + await off_loop(
        validate_graph, workflow_file.graph, node_types=await off_loop(transfer.known_node_types)
    )
    errors = [p for p in problems if str(p.severity) == "error"]
    return {"valid": not errors, "problems": [problem_json(p) for p in problems]}


@router.get("/workflows/{workflow_id}/validate", summary="Validate a stored workflow")
async def validate_workflow(workflow_id: PathId, request: Request, user: Reader) -> Any:
    from flowdesk.domain.validation import validate_graph
    from flowdesk.services.node_types import NodeTypeService

    from ..errors import problem_json

    await workflow_in_scope(request, user, workflow_id)
    db = db_of(request)
    graph = await off_loop(WorkflowService(db).load_graph, workflow_id)
    known = await off_loop(NodeTypeService(db).known_types)
    problems = await off_loop(validate_graph, graph, node_types=known)
    errors = [p for p in problems if str(p.severity) == "error"]
    return {"valid": not errors, "problems": [problem_json(p) for p in problems]}


# -- nodes ------------------------------------------------------------------------------------------


@router.post("/workflows/{workflow_id}/nodes", status_code=201, response_model=NodeView, summary="Add a node")
async def add_node(workflow_id: PathId, body: NodeCreate, request: Request, user: Editor) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    node = await off_loop(_workflows(request).add_node, workflow_id, **body.model_dump())
    return node.model_dump(mode="json")


@router.get(
    "/workflows/{workflow_id}/nodes", response_model=list[NodeView], summary="List a workflow's nodes"
)
async def list_nodes(workflow_id: PathId, request: Request, user: Reader) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    return [n.model_dump(mode="json") for n in await off_loop(_workflows(request).list_nodes, workflow_id)]


async def _node_in_scope(request: Request, user: User, node_id: PathId) -> Any:
    node = await off_loop(_workflows(request).get_node, node_id)
    assert node.workflow_id is not None
    await workflow_in_scope(request, user, node.workflow_id)
    return node


@router.get("/nodes/{node_id}", response_model=NodeView, summary="Get a node")
async def get_node(node_id: PathId, request: Request, user: Reader) -> Any:
    return (await _node_in_scope(request, user, node_id)).model_dump(mode="json")


@router.patch("/nodes/{node_id}", response_model=NodeView, summary="Change a node")
async def update_node(node_id: PathId, body: NodeUpdate, request: Request, user: Editor) -> Any:
    await _node_in_scope(request, user, node_id)
    node = await off_loop(_workflows(request).update_node, node_id, **body.model_dump(exclude_unset=True))
    return node.model_dump(mode="json")


@router.delete("/nodes/{node_id}", status_code=204, summary="Delete a node and its connections")
async def delete_node(node_id: PathId, request: Request, user: Editor) -> Response:
    await _node_in_scope(request, user, node_id)
    await off_loop(_workflows(request).delete_node, node_id)
    return Response(status_code=204)


# -- connections ------------------------------------------------------------------------------------


@router.post(
    "/workflows/{workflow_id}/connections",
    status_code=201,
    response_model=ConnectionView,
    summary="Connect two nodes",
)
async def add_connection(workflow_id: PathId, body: ConnectionCreate, request: Request, user: Editor) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    connection = await off_loop(
        _workflows(request).add_connection,
        workflow_id,
        body.from_node_id,
        body.to_node_id,
        body.connection_type,
        condition=body.condition,
        config=body.config,
    )
    return connection.model_dump(mode="json")


@router.get(
    "/workflows/{workflow_id}/connections",
    response_model=list[ConnectionView],
    summary="List a workflow's connections",
)
async def list_connections(workflow_id: PathId, request: Request, user: Reader) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    found = await off_loop(_workflows(request).list_connections, workflow_id)
    return [c.model_dump(mode="json") for c in found]


async def _connection_in_scope(request: Request, user: User, connection_id: PathId) -> Any:
    connection = await off_loop(_workflows(request).get_connection, connection_id)
    assert connection.workflow_id is not None
    await workflow_in_scope(request, user, connection.workflow_id)
    return connection


@router.get("/connections/{connection_id}", response_model=ConnectionView, summary="Get a connection")
async def get_connection(connection_id: PathId, request: Request, user: Reader) -> Any:
    return (await _connection_in_scope(request, user, connection_id)).model_dump(mode="json")


@router.patch("/connections/{connection_id}", response_model=ConnectionView, summary="Change a connection")
async def update_connection(
    connection_id: PathId,
    body: ConnectionUpdate,
    request: Request,
    user: Editor,
) -> Any:
    await _connection_in_scope(request, user, connection_id)
    fields = body.model_dump(exclude_unset=True)
    connection = await off_loop(_workflows(request).update_connection, connection_id, **fields)
    return connection.model_dump(mode="json")


@router.delete("/connections/{connection_id}", status_code=204, summary="Delete a connection")
async def delete_connection(connection_id: PathId, request: Request, user: Editor) -> Response:
    await _connection_in_scope(request, user, connection_id)
    await off_loop(_workflows(request).delete_connection, connection_id)
    return Response(status_code=204)


# -- versions -----------------------------------------------------------------------------------------


def _version_view(version: Any, *, snapshot: bool = False) -> dict[str, Any]:
    data = version.model_dump(mode="json") if hasattr(version, "model_dump") else dict(vars(version))
    if not snapshot:
        data.pop("snapshot", None)
    return data  # type: ignore[no-any-return]


@router.get("/workflows/{workflow_id}/versions", summary="List a workflow's versions")
async def list_versions(workflow_id: PathId, request: Request, user: Reader) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    versions = await off_loop(VersionService(db_of(request)).list_versions, workflow_id)
    return [_version_view(v) for v in versions]


@router.post("/workflows/{workflow_id}/versions", status_code=201, summary="Save a version")
async def save_version(
    workflow_id: PathId,
    request: Request,
    user: Editor,
    body: VersionCreate | None = None,
) -> Any:
    await workflow_in_scope(request, user, workflow_id)
    body = body or VersionCreate(label=None)
    version = await off_loop(
        VersionService(db_of(request)).save_version, workflow_id, label=body.label, note=body.note
    )
    return _version_view(version)


async def _version_in_scope(request: Request, user: User, version_id: PathId) -> Any:
    version = await off_loop(VersionService(db_of(request)).get_version, version_id)
    await workflow_in_scope(request, user, version.workflow_id)
    return version


@router.get("/versions/{version_id}", summary="Get a version with its snapshot")
async def get_version(version_id: PathId, request: Request, user: Reader) -> Any:
    return _version_view(await _version_in_scope(request, user, version_id), snapshot=True)


@router.get("/versions/{version_id}/diff", summary="What changed between two versions")
async def diff_versions(
    version_id: PathId,
    request: Request,
    user: Reader,
    against: int | None = Query(
        None, ge=1, le=MAX_ID, description="The other version's id (default: the workflow as stored now)."
    ),
) -> Any:
    await _version_in_scope(request, user, version_id)
    service = VersionService(db_of(request))
    if against is None:
        diff = await off_loop(service.diff_with_current, version_id)
    else:
        await _version_in_scope(request, user, against)
        diff = await off_loop(service.diff_versions, version_id, against)
    data = diff.model_dump(mode="json") if hasattr(diff, "model_dump") else {}
    return {"summary": diff.summary(), "empty": diff.is_empty, **data}


@router.post("/versions/{version_id}/restore", summary="Make the workflow what a version was")
async def restore_version(version_id: PathId, request: Request, user: Editor) -> Any:
    await _version_in_scope(request, user, version_id)
    graph = await off_loop(VersionService(db_of(request)).restore_version, version_id)
    return {
        "workflow": _view(graph.workflow),
        "nodes": len(graph.nodes),
        "connections": len(graph.connections),
    }


# -- export ---------------------------------------------------------------------------------------------


@router.get("/workflows/{workflow_id}/export", summary="Download the workflow file")
async def export_workflow(workflow_id: PathId, request: Request, user: Reader) -> Response:
    from flowdesk.services.transfer import TransferService

    workflow = await workflow_in_scope(request, user, workflow_id)
    text = await off_loop(TransferService(db_of(request)).export_workflow, workflow_id)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workflow.name)[:100] or "workflow"
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{safe}.json"'},
    )
