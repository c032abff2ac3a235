"""The API library (definitions, import, export), environments, secrets and custom node types."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from flowdesk.domain.models import ApiDefinition
from flowdesk.services.apis import ApiService

from ..auth import Admin, Editor, Reader
from ..schemas import ApiImportRequest, ApiUpdate, EnvironmentSet, NodeTypeCreate, PathId, SecretSet
from .common import db_of, off_loop

router = APIRouter()


# -- API definitions --------------------------------------------------------------------------------


@router.get("/apis", tags=["api library"], summary="List API definitions")
async def list_apis(
    request: Request,
    user: Reader,
    search: str | None = Query(None),
    tag: str | None = Query(None),
) -> Any:
    apis = await off_loop(ApiService(db_of(request)).list_apis, search=search, tag=tag)
    return [a.model_dump(mode="json") for a in apis]


@router.post("/apis", status_code=201, tags=["api library"], summary="Add an API definition")
async def create_api(request: Request, user: Editor, body: ApiDefinition) -> Any:
    """The body is an API definition: name, method, url, headers, query, body, auth, timeout..."""
    api = body
    return (await off_loop(ApiService(db_of(request)).create_api, api)).model_dump(mode="json")


@router.get("/apis/{api_id}", tags=["api library"], summary="Get an API definition")
async def get_api(api_id: PathId, request: Request, user: Reader) -> Any:
    return (await off_loop(ApiService(db_of(request)).get_api, api_id)).model_dump(mode="json")


@router.patch("/apis/{api_id}", tags=["api library"], summary="Change an API definition")
async def update_api(api_id: PathId, body: ApiUpdate, request: Request, user: Editor) -> Any:
    fields = body.model_dump(exclude_unset=True)
    return (await off_loop(ApiService(db_of(request)).update_api, api_id, **fields)).model_dump(mode="json")


@router.delete("/apis/{api_id}", status_code=204, tags=["api library"], summary="Delete an API definition")
async def delete_api(api_id: PathId, request: Request, user: Editor) -> Response:
    await off_loop(ApiService(db_of(request)).delete_api, api_id)
    return Response(status_code=204)


def _plan_json(plan: Any) -> dict[str, Any]:
    return {
        "format": plan.format,
        "source_name": plan.source_name,
        "counts": plan.counts(),
        "items": [
            {
                "index": item.index,
                "name": item.name,
                "action": item.action,
                "reason": item.reason,
                "existing_id": item.existing_id,
                "changed": item.changed,
                "definition": item.definition.model_dump(mode="json"),
            }
            for item in plan.items
        ],
        "problems": [str(p) for p in getattr(plan.result, "problems", [])],
    }


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "format": report.format,
        "environment": report.environment,
        "added": [a.model_dump(mode="json") for a in report.added],
        "updated": [a.model_dump(mode="json") for a in report.updated],
        "skipped": [{"name": n, "why": why} for n, why in report.skipped],
        "variables_set": sorted(report.variables_set),
        "variables_kept": report.variables_kept,
        "secrets_stored": report.secrets_stored,
        "secrets_kept": report.secrets_kept,
        "problems": [str(p) for p in report.problems],
        "notes": report.notes,
    }


@router.post(
    "/api-imports", tags=["api library"], summary="Import OpenAPI, Swagger, Postman or a curl command"
)
async def import_apis(body: ApiImportRequest, request: Request, user: Editor) -> Any:
    """With `preview` true nothing is written: the answer says what would be added, updated and
    skipped. Otherwise the selected definitions are written in one transaction."""
    from flowdesk.services.api_library import ApiLibraryService

    service = ApiLibraryService(db_of(request))
    text = body.content
    if text.lstrip().startswith("curl "):
        plan = await off_loop(service.plan_curl, text)
    else:
        plan = await off_loop(service.plan_spec, text, source_name=body.source_name)
    if body.preview:
        return _plan_json(plan)
    report = await off_loop(service.apply, plan, selected=body.selected, environment=body.environment)
    return _report_json(report)


@router.get("/api-exports/openapi", tags=["api library"], summary="The API library as an OpenAPI 3 document")
async def export_apis(
    request: Request,
    user: Reader,
    environment: str | None = Query(None, description="Whose base_url to write into servers."),
) -> Any:
    from flowdesk.services.api_library import ApiLibraryService

    return await off_loop(ApiLibraryService(db_of(request)).export_openapi, environment=environment)


# -- environments ------------------------------------------------------------------------------------


def _env_json(env: Any) -> dict[str, Any]:
    return {"id": env.id, "name": env.name, "variables": env.variables, "is_active": env.is_active}


@router.get("/environments", tags=["environments"], summary="List environments")
async def list_environments(request: Request, user: Reader) -> Any:
    from flowdesk.services.environments import EnvironmentService

    return [_env_json(e) for e in await off_loop(EnvironmentService(db_of(request)).list_environments)]


@router.get("/environments/{name}", tags=["environments"], summary="Get an environment")
async def get_environment(name: str, request: Request, user: Reader) -> Any:
    from flowdesk.services.environments import EnvironmentService

    return _env_json(await off_loop(EnvironmentService(db_of(request)).get_environment, name))


@router.put("/environments/{name}", tags=["environments"], summary="Set variables of an environment")
async def set_environment(name: str, body: EnvironmentSet, request: Request, user: Editor) -> Any:
    from flowdesk.services.environments import EnvironmentService

    def work() -> Any:
        service = EnvironmentService(db_of(request))
        env = service.set_variables(name, body.variables)
        return service.activate(name) if body.activate else env

    return _env_json(await off_loop(work))


@router.delete(
    "/environments/{name}", status_code=204, tags=["environments"], summary="Delete an environment"
)
async def delete_environment(name: str, request: Request, user: Editor) -> Response:
    from flowdesk.services.environments import EnvironmentService

    await off_loop(EnvironmentService(db_of(request)).delete_environment, name)
    return Response(status_code=204)


# -- secrets (names only, ever) --------------------------------------------------------------------------


@router.get("/secrets", tags=["secrets"], summary="List secret names (values are never returned)")
async def list_secrets(request: Request, user: Admin) -> Any:
    from flowdesk.services.secrets import SecretService

    return {"names": await off_loop(SecretService(db_of(request)).list_secret_names)}


@router.put("/secrets/{name}", status_code=204, tags=["secrets"], summary="Set a secret")
async def set_secret(name: str, body: SecretSet, request: Request, user: Admin) -> Response:
    from flowdesk.services.secrets import SecretService

    await off_loop(SecretService(db_of(request)).set_secret, name, body.value)
    return Response(status_code=204)


@router.delete("/secrets/{name}", status_code=204, tags=["secrets"], summary="Delete a secret")
async def delete_secret(name: str, request: Request, user: Admin) -> Response:
    from flowdesk.services.secrets import SecretService

    await off_loop(SecretService(db_of(request)).delete_secret, name)
    return Response(status_code=204)


# -- custom node types ------------------------------------------------------------------------------------


def _node_type_json(node_type: Any) -> dict[str, Any]:
    return node_type.model_dump(mode="json")  # type: ignore[no-any-return]


@router.post("/admin/node-types", status_code=201, tags=["node types"], summary="Register a custom node type")
async def register_node_type(body: NodeTypeCreate, request: Request, user: Admin) -> Any:
    from flowdesk.services.node_types import NodeTypeService

    found = await off_loop(
        NodeTypeService(db_of(request)).register_node_type,
        body.type_name,
        body.description,
        body.config_schema,
        body.execution_handler,
    )
    return _node_type_json(found)


@router.get("/node-types", tags=["node types"], summary="Built-in and custom node types")
async def list_node_types(request: Request, user: Reader) -> Any:
    from flowdesk.domain.enums import BUILTIN_NODE_TYPES
    from flowdesk.services.node_types import NodeTypeService

    custom = await off_loop(NodeTypeService(db_of(request)).list_node_types)
    return {"builtin": sorted(BUILTIN_NODE_TYPES), "custom": [_node_type_json(t) for t in custom]}


@router.get("/admin/node-types", tags=["node types"], summary="Custom node types")
async def list_custom_node_types(request: Request, user: Reader) -> Any:
    from flowdesk.services.node_types import NodeTypeService

    return [_node_type_json(t) for t in await off_loop(NodeTypeService(db_of(request)).list_node_types)]


@router.delete(
    "/admin/node-types/{type_name}", status_code=204, tags=["node types"], summary="Remove a custom node type"
)
async def delete_node_type(type_name: str, request: Request, user: Admin) -> Response:
    from flowdesk.services.node_types import NodeTypeService

    await off_loop(NodeTypeService(db_of(request)).delete_node_type, type_name)
    return Response(status_code=204)
