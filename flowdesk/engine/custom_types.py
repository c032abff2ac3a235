"""Custom node types registered in the database (services/node_types.py), made runnable.

Before a run of a graph naming custom types the executor reads their registrations: each one's
`config_schema` is what validation enforces (it wins over a schema given in Python), and its
`execution_handler` (domain/execution_handlers.py) is resolved here:

- `api:NAME`: the node runs as an API_CALL of that API definition, the node's config fields (those
  the schema declares, or all of them when it declares none) being the call's `parameters`;
- `workflow:NAME` / `workflow:ID`: the node runs as a SUBWORKFLOW call of that stored workflow
  (engine/handlers/subworkflow.py: a child run linked to this step, the depth limit, cancellation),
  the node's config fields, templates rendered, being the child run's input;
- `package.module:function`: that function, imported (sync or async, called with the NodeContext);
- a name: the handler installed under it (entry-point group `flowdesk.node_handlers`) or registered,
  else, for a dotted name, the function it names (the seed's `package.module.function`);
- nothing: the handler installed or registered under the type's own name.

A handler that cannot be found leaves the descriptor's `cannot_run` sentence, which validation reports
on every node of the type (the pre-run check, `flowdesk validate`): the type itself stays stored and
editable.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from flowdesk.domain.execution_handlers import parse_handler, parsed_handler
from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS, NodeTypeDescriptor

from .registry import HandlerRegistry, NodeHandler, NodeKind

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from .context import NodeContext

OUTPUT_MAPPING_KEY = "output_mapping"


@dataclass(frozen=True)
class StoredTypes:
    """The registrations of some custom types and the ids of the API definitions and stored
    workflows their handlers name."""

    descriptors: dict[str, NodeTypeDescriptor]
    apis: dict[str, tuple[int, ...]]
    workflows: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What a plan compiled with these types depends on (part of the plan cache's key)."""
        parts = [[n, d.handler, d.config_schema] for n, d in sorted(self.descriptors.items())]
        named = [sorted(self.apis.items()), sorted(self.workflows.items())]
        return json.dumps([parts, named], sort_keys=True, default=str)


def custom_type_names(graph: Any) -> set[str]:
    """The node types of `graph` that are not built in."""
    return {str(n.node_type) for n in graph.nodes if str(n.node_type) not in BUILTIN_DESCRIPTORS}


def stored_types_in(session: Session, names: Collection[str] | None = None) -> StoredTypes:
    """The registered types of `names` (all when None), with the API definitions and workflows
    they name."""
    from flowdesk.services.node_types import api_ids_by_name, stored_descriptors, workflow_ids_by_reference

    descriptors = stored_descriptors(session, names)
    wanted: dict[str, set[str]] = {"api": set(), "workflow": set()}
    for descriptor in descriptors.values():
        ref = parsed_handler(descriptor.handler)
        if ref is not None and ref.kind in wanted:
            wanted[ref.kind].add(ref.target)
    return StoredTypes(
        descriptors,
        api_ids_by_name(session, wanted["api"]),
        workflow_ids_by_reference(session, wanted["workflow"]),
    )


def load_stored_types(db: Any, names: Collection[str]) -> StoredTypes:
    """`stored_types_in` on a read-only session of `db`."""
    with db.session(read_only=True) as session:
        return stored_types_in(session, names)


def resolve_handler(
    descriptor: NodeTypeDescriptor,
    registry: HandlerRegistry,
    apis: Mapping[str, tuple[int, ...]],
    workflows: Mapping[str, tuple[int, ...]] | None = None,
) -> NodeKind | str:
    """How nodes of this stored type run, or one sentence saying why they cannot."""
    name = descriptor.type_name
    text = (descriptor.handler or "").strip()
    if not text:
        kind = registry.kind(name)
        if kind is not None:
            return kind
        return (
            f"node type '{name}' cannot run: it has no execution_handler and no handler is installed "
            "or registered under its name"
        )
    try:
        ref = parse_handler(text)
    except ValueError as exc:
        return f"node type '{name}' cannot run: {exc}"
    if ref.kind == "api":
        ids = apis.get(ref.target, ())
        if not ids:
            return (
                f"node type '{name}' cannot run: its handler '{text}' names no API definition of the library"
            )
        if len(ids) > 1:
            return (
                f"node type '{name}' cannot run: its handler '{text}' names {len(ids)} API definitions "
                "of that name (rename all but one)"
            )
        return NodeKind(name, api_call_handler(ids[0], descriptor))
    if ref.kind == "workflow":
        ids = (workflows or {}).get(ref.target, ())
        if not ids:
            return f"node type '{name}' cannot run: its handler '{text}' names no stored workflow"
        if len(ids) > 1:
            return (
                f"node type '{name}' cannot run: its handler '{text}' names {len(ids)} workflows of "
                f"that name (ids {', '.join(map(str, ids))}; name one by its id: 'workflow:{ids[0]}')"
            )
        return NodeKind(name, workflow_handler(ids[0], ref.target, descriptor), reusable=False)
    if ref.kind == "named":
        kind = registry.kind(ref.target)
        if kind is not None:
            return NodeKind(name, kind.handle, kind.rewrite_edges, kind.reusable)
        if "." in ref.target:  # the seed's `package.module.function`
            module_name, _, attr = ref.target.rpartition(".")
            found = _python_handler(name, f"{module_name}:{attr}", shown=text)
            if not isinstance(found, str):
                return found
        return (
            f"node type '{name}' cannot run: its handler '{text}' is neither installed (entry-point "
            "group flowdesk.node_handlers), registered, nor a function that can be imported"
        )
    return _python_handler(name, text)


def _python_handler(name: str, text: str, shown: str | None = None) -> NodeKind | str:
    module_name, _, attr = text.partition(":")
    text = shown or text
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or module_name
        return f"node type '{name}' cannot run: its handler '{text}' cannot be found (no module named '{missing}')"
    except Exception as exc:  # the module raised while it was imported
        return (
            f"node type '{name}' cannot run: its handler '{text}' could not be imported "
            f"(the module raised {type(exc).__name__})"
        )
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            return f"node type '{name}' cannot run: its handler '{text}' cannot be found (module '{module_name}' has no '{attr}')"
    if not callable(target):
        return f"node type '{name}' cannot run: its handler '{text}' is not a function"
    scratch = HandlerRegistry()
    return scratch.register(name, target)  # wraps a sync function like any registered handler


def _declared_fields(descriptor: NodeTypeDescriptor, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The node's config fields the type's schema declares (all but `output_mapping` when it
    declares none): an `api:` type's parameters, a `workflow:` type's input."""
    fields = (descriptor.config_schema.get("properties") or {}).keys()
    config = config or {}
    if fields:
        return {k: v for k, v in config.items() if k in fields}
    return {k: v for k, v in config.items() if k != OUTPUT_MAPPING_KEY}


def api_call_handler(api_id: int, descriptor: NodeTypeDescriptor) -> NodeHandler:
    """A handler running a node as an API_CALL of API definition `api_id` with the node's config
    fields as the call's `parameters` (templates in them rendered as API_CALL renders parameters)."""

    async def handle(ctx: NodeContext) -> dict[str, Any]:
        from flowdesk.engine.handlers import api_call

        ctx.config = {"api_id": api_id, "parameters": _declared_fields(descriptor, ctx.config)}
        return await api_call.handle(ctx)

    handle.__name__ = f"api_call_{api_id}"
    return handle


def workflow_handler(workflow_id: int, shown: str, descriptor: NodeTypeDescriptor) -> NodeHandler:
    """A handler running a node as a SUBWORKFLOW call of the stored workflow `shown` (the handler's
    name or id of it, found as `workflow_id` when the plan was made), the node's config fields its
    input: the SUBWORKFLOW handler renders their templates, starts the child run linked to this
    step, keeps the depth limit and cancellation, and outputs the child's END output. The child is
    called as the handler names it, so the run log and a depth-limit chain show that name."""

    async def handle(ctx: NodeContext) -> Any:
        from flowdesk.engine.handlers import subworkflow

        ctx.config = {"workflow": shown, "input": _declared_fields(descriptor, ctx.config)}
        return await subworkflow.handle(ctx)

    handle.__name__ = f"workflow_{workflow_id}"
    handle.__qualname__ = f"workflow_{workflow_id} ({shown})"
    return handle


def runnable(
    stored: StoredTypes, registry: HandlerRegistry
) -> tuple[HandlerRegistry, dict[str, NodeTypeDescriptor | None]]:
    """A registry over `registry` that also runs the stored types, and the descriptors validation
    checks a graph with (a stored type's schema wins; one that cannot run says why)."""
    child = HandlerRegistry(parent=registry)
    descriptors: dict[str, NodeTypeDescriptor | None] = dict(registry.descriptors())
    for name, descriptor in stored.descriptors.items():
        if name in BUILTIN_DESCRIPTORS:
            continue
        found = resolve_handler(descriptor, registry, stored.apis, stored.workflows)
        if isinstance(found, str):
            descriptors[name] = replace(descriptor, cannot_run=found)
            continue
        child.register(name, found.handle, rewrite_edges=found.rewrite_edges, reusable=found.reusable)
        descriptors[name] = descriptor
    return child, descriptors


def checked_registrations(
    registrations: list[dict[str, Any]],
    *,
    carried_apis: Collection[str] = (),
    carried_workflows: Collection[str] = (),
    session: Session | None = None,
    registry: HandlerRegistry | None = None,
) -> dict[str, NodeTypeDescriptor]:
    """The descriptors of the custom types a file carries (`node_types`), `cannot_run` set where a
    handler cannot be found: an `api:` or `workflow:` handler finds what the file carries beside it
    (an import stores it) or, given a `session`, what the database holds; a Python handler is
    looked up as for a registered type (what `flowdesk validate FILE` checks carried types with)."""
    from flowdesk.domain.node_descriptors import describe_custom
    from flowdesk.services.node_types import api_ids_by_name, workflow_ids_by_reference

    from .registry import default_registry

    descriptors = {body["type_name"]: describe_custom(**body) for body in registrations}
    wanted: dict[str, set[str]] = {"api": set(), "workflow": set()}
    for descriptor in descriptors.values():
        ref = parsed_handler(descriptor.handler)
        if ref is not None and ref.kind in wanted:
            wanted[ref.kind].add(ref.target)
    apis = api_ids_by_name(session, wanted["api"]) if session is not None else {}
    workflows = workflow_ids_by_reference(session, wanted["workflow"]) if session is not None else {}
    for name in wanted["api"] & set(carried_apis):
        apis[name] = (0,)  # the file's own: found (the id is never used, nothing runs here)
    for name in wanted["workflow"] & set(carried_workflows):
        workflows[name] = (0,)
    checked = runnable(StoredTypes(descriptors, apis, workflows), registry or default_registry())[1]
    return {name: d for name, d in checked.items() if d is not None and name in descriptors}


def checked_descriptors(
    session: Session, registry: HandlerRegistry | None = None
) -> dict[str, NodeTypeDescriptor]:
    """Every registered custom type's descriptor, `cannot_run` set where its handler cannot be found
    (what `flowdesk validate` checks a file with)."""
    from .registry import default_registry

    stored = stored_types_in(session)
    base = registry or default_registry()
    return {
        name: d
        for name, d in runnable(stored, base)[1].items()
        if d is not None and name in stored.descriptors
    }
