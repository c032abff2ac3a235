"""Custom node types registered in the database (services/node_types.py), made runnable.

Before a run of a graph naming custom types the executor reads their registrations: each one's
`config_schema` is what validation enforces (it wins over a schema given in Python), and its
`execution_handler` (domain/execution_handlers.py) is resolved here:

- `api:NAME`: the node runs as an API_CALL of that API definition, the node's config fields (those
  the schema declares, or all of them when it declares none) being the call's `parameters`;
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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from flowdesk.domain.execution_handlers import parse_handler
from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS, NodeTypeDescriptor

from .registry import HandlerRegistry, NodeHandler, NodeKind

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from .context import NodeContext

OUTPUT_MAPPING_KEY = "output_mapping"


@dataclass(frozen=True)
class StoredTypes:
    """The registrations of some custom types and the ids of the API definitions their handlers name."""

    descriptors: dict[str, NodeTypeDescriptor]
    apis: dict[str, tuple[int, ...]]

    @property
    def key(self) -> str:
        """What a plan compiled with these types depends on (part of the plan cache's key)."""
        parts = [[n, d.handler, d.config_schema] for n, d in sorted(self.descriptors.items())]
        return json.dumps([parts, sorted(self.apis.items())], sort_keys=True, default=str)


def custom_type_names(graph: Any) -> set[str]:
    """The node types of `graph` that are not built in."""
    return {str(n.node_type) for n in graph.nodes if str(n.node_type) not in BUILTIN_DESCRIPTORS}


def stored_types_in(session: Session, names: Collection[str] | None = None) -> StoredTypes:
    """The registered types of `names` (all when None), with the API definitions they name."""
    from flowdesk.services.node_types import api_ids_by_name, stored_descriptors

    descriptors = stored_descriptors(session, names)
    wanted = set()
    for descriptor in descriptors.values():
        try:
            ref = parse_handler(descriptor.handler) if descriptor.handler else None
        except ValueError:
            continue
        if ref is not None and ref.kind == "api":
            wanted.add(ref.target)
    return StoredTypes(descriptors, api_ids_by_name(session, wanted))


def load_stored_types(db: Any, names: Collection[str]) -> StoredTypes:
    """`stored_types_in` on a read-only session of `db`."""
    with db.session(read_only=True) as session:
        return stored_types_in(session, names)


def resolve_handler(
    descriptor: NodeTypeDescriptor, registry: HandlerRegistry, apis: Mapping[str, tuple[int, ...]]
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


def api_call_handler(api_id: int, descriptor: NodeTypeDescriptor) -> NodeHandler:
    """A handler running a node as an API_CALL of API definition `api_id` with the node's config
    fields as the call's `parameters` (templates in them rendered as API_CALL renders parameters)."""
    fields = tuple((descriptor.config_schema.get("properties") or {}).keys())

    async def handle(ctx: NodeContext) -> dict[str, Any]:
        from flowdesk.engine.handlers import api_call

        config = ctx.config or {}
        if fields:
            params = {k: v for k, v in config.items() if k in fields}
        else:
            params = {k: v for k, v in config.items() if k != OUTPUT_MAPPING_KEY}
        ctx.config = {"api_id": api_id, "parameters": params}
        return await api_call.handle(ctx)

    handle.__name__ = f"api_call_{api_id}"
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
        found = resolve_handler(descriptor, registry, stored.apis)
        if isinstance(found, str):
            descriptors[name] = replace(descriptor, cannot_run=found)
            continue
        child.register(name, found.handle, rewrite_edges=found.rewrite_edges, reusable=found.reusable)
        descriptors[name] = descriptor
    return child, descriptors


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
