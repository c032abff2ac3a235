"""The node-handler registry: node type name -> how a node of that type runs.

Built-in types are registered from `flowdesk.engine.handlers.*` the first time the default registry
is used; custom types come from `register_node_handler(...)` or from packages declaring the
entry-point group `flowdesk.node_handlers` (entry-point name = node type, value = async handler).
The scheduler never branches on node types: it asks the registry. What a type's config looks like
is its descriptor's to say (flowdesk/domain/node_descriptors.py): a custom type registered with a
`config_schema` is described like a built-in, so validation before a run enforces that schema.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowdesk.domain.node_descriptors import (
    BUILTIN_DESCRIPTORS,
    NodeTypeDescriptor,
    config_schema_problem,
    describe_custom,
)

if TYPE_CHECKING:  # pragma: no cover
    from .context import NodeContext

logger = logging.getLogger(__name__)

NodeHandler = Callable[["NodeContext"], Awaitable[dict[str, Any]]]
EdgeRewriter = Callable[[Any, list[Any]], list[Any]]

BUILTIN_HANDLER_MODULES: dict[str, str] = {
    "START": "flowdesk.engine.handlers.start",
    "END": "flowdesk.engine.handlers.end",
    "API_CALL": "flowdesk.engine.handlers.api_call",
    "CONDITION": "flowdesk.engine.handlers.condition",
    "DELAY": "flowdesk.engine.handlers.delay",
    "PARALLEL": "flowdesk.engine.handlers.parallel",
    "LOOP": "flowdesk.engine.handlers.loop",
    "TRANSFORM": "flowdesk.engine.handlers.transform",
    "SWITCH": "flowdesk.engine.handlers.switch",
    "ASSERT": "flowdesk.engine.handlers.assertion",
    "POLL": "flowdesk.engine.handlers.poll",
}
"""Module of each built-in type; each module has `async def handle(ctx)` and may define
`rewrite_edges(node, outgoing) -> outgoing` and `REUSABLE = False` (see NodeKind)."""

ENTRY_POINT_GROUP = "flowdesk.node_handlers"


@dataclass(frozen=True, slots=True)
class NodeKind:
    """How one node type runs.

    `handle` is the async handler; `rewrite_edges(node, outgoing)`, when given, may change the types
    of the node's outgoing connections before a run (CONDITION uses it for true_path/false_path);
    `reusable` says whether `resume` may reuse a succeeded output instead of running the node again
    (False for nodes that run a body of other nodes: PARALLEL, LOOP).
    """

    node_type: str
    handle: NodeHandler
    rewrite_edges: EdgeRewriter | None = None
    reusable: bool = True


class HandlerRegistry:
    """A mapping of node type -> NodeKind, optionally falling back to a parent registry."""

    def __init__(self, parent: HandlerRegistry | None = None) -> None:
        self._kinds: dict[str, NodeKind] = {}
        self._lazy: dict[str, str] = {}  # node type -> module imported when the type is first asked for
        self._lazy_lock = threading.Lock()
        self._parent = parent
        self._descriptors: dict[str, NodeTypeDescriptor] = {}

    def register_module(self, node_type: str, module_name: str) -> None:
        """Register `node_type` from `module_name` (its `handle`, `rewrite_edges`, `REUSABLE`),
        imported only when a node of that type is first looked up: a run of START and END never
        pays for API_CALL's HTTP stack (some 0.4 s of imports)."""
        self._kinds.pop(node_type, None)
        self._lazy[node_type] = module_name

    def load_all(self) -> None:
        """Import every type still waiting for its first lookup (the app does it on a worker thread
        once its window is up, so a first run does not pause for the HTTP stack's imports)."""
        for node_type in list(self._lazy):
            self._load(node_type)

    def _load(self, node_type: str) -> NodeKind | None:
        with self._lazy_lock:
            module_name = self._lazy.get(node_type)
            if module_name is None:
                return self._kinds.get(node_type)
            try:
                _register_module(self, node_type, module_name)
            except ImportError:
                logger.exception("node handler %s could not be imported from %s", node_type, module_name)
                self._lazy.pop(node_type, None)
                return None
            return self._kinds.get(node_type)

    def register(
        self,
        node_type: str,
        handler: NodeHandler,
        *,
        rewrite_edges: EdgeRewriter | None = None,
        reusable: bool = True,
        config_schema: dict[str, Any] | None = None,
        description: str = "",
    ) -> NodeKind:
        """Register (or replace) the handler of `node_type`; returns the NodeKind. A custom type's
        `config_schema` (the seed's short form or JSON Schema) is checked before every run."""
        if not isinstance(node_type, str) or not node_type.strip():
            raise ValueError("a node type is a non-empty string")
        wrong = config_schema_problem(config_schema)
        if wrong is not None:
            raise ValueError(f"node type {node_type!r}: {wrong}")
        if not callable(handler):
            raise TypeError(f"the handler of {node_type!r} is not callable")
        if not inspect.iscoroutinefunction(handler) and not inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004
        ):
            handler = _wrap_sync(handler)
        kind = NodeKind(str(node_type), handler, rewrite_edges, reusable)
        self._lazy.pop(kind.node_type, None)
        self._kinds[kind.node_type] = kind
        if kind.node_type not in BUILTIN_DESCRIPTORS and (config_schema is not None or description):
            self._descriptors[kind.node_type] = describe_custom(kind.node_type, description, config_schema)
        else:
            self._descriptors.pop(kind.node_type, None)
        return kind

    def unregister(self, node_type: str) -> None:
        """Remove a type registered here (built-ins of a parent registry stay)."""
        self._kinds.pop(node_type, None)
        self._lazy.pop(node_type, None)
        self._descriptors.pop(node_type, None)

    def kind(self, node_type: str) -> NodeKind | None:
        """The NodeKind of `node_type`, or None when no handler is registered for it."""
        kind = self._kinds.get(node_type)
        if kind is None and node_type in self._lazy:
            kind = self._load(node_type)
        if kind is None and self._parent is not None:
            return self._parent.kind(node_type)
        return kind

    def types(self) -> frozenset[str]:
        """Every node type this registry (and its parent) can run."""
        own = frozenset(self._kinds) | frozenset(self._lazy)
        return own | self._parent.types() if self._parent is not None else own

    def descriptors(self) -> dict[str, NodeTypeDescriptor | None]:
        """Every type this registry can run, with the descriptor registered for it (None: a custom
        type registered without a schema; a built-in's descriptor is the domain's)."""
        inherited = self._parent.descriptors() if self._parent is not None else {}
        own = {name: self._descriptors.get(name, BUILTIN_DESCRIPTORS.get(name)) for name in self.types()}
        return {**inherited, **{k: v for k, v in own.items() if v is not None or k not in inherited}}

    def __contains__(self, node_type: object) -> bool:
        return isinstance(node_type, str) and self.kind(node_type) is not None


def _wrap_sync(fn: Callable[..., Any]) -> NodeHandler:
    """Let a plain function (or one returning an awaitable) serve as a handler."""

    async def handle(ctx: NodeContext) -> dict[str, Any]:
        result = fn(ctx)
        if inspect.isawaitable(result):
            result = await result
        return result

    handle.__name__ = getattr(fn, "__name__", "handle")
    return handle


_default: HandlerRegistry | None = None
_default_lock = threading.Lock()


def _register_module(registry: HandlerRegistry, node_type: str, module_name: str) -> None:
    module = importlib.import_module(module_name)
    registry.register(
        node_type,
        module.handle,
        rewrite_edges=getattr(module, "rewrite_edges", None),
        reusable=getattr(module, "REUSABLE", True),
    )


def _load_entry_points(registry: HandlerRegistry, entry_points: Iterable[Any] | None = None) -> None:
    if entry_points is None:
        from .plugins import installed_entry_points

        entry_points = installed_entry_points(ENTRY_POINT_GROUP)
    for ep in entry_points:
        try:
            registry.register(ep.name, ep.load())
        except Exception:  # a broken package must not stop the engine
            logger.exception("could not load node handler %r from entry point %s", ep.name, ep.value)


def default_registry() -> HandlerRegistry:
    """The process-wide registry: built-ins, then entry-point handlers, then registered ones."""
    global _default
    if _default is not None:
        return _default
    with _default_lock:
        if _default is None:
            registry = HandlerRegistry()
            for node_type, module_name in BUILTIN_HANDLER_MODULES.items():
                registry.register_module(node_type, module_name)
            _load_entry_points(registry)
            _default = registry
    return _default


def register_node_handler(
    node_type: str,
    handler: NodeHandler,
    *,
    rewrite_edges: EdgeRewriter | None = None,
    reusable: bool = True,
    config_schema: dict[str, Any] | None = None,
    description: str = "",
) -> NodeKind:
    """Register `handler` (`async def handler(ctx) -> dict`) for `node_type` in the default registry;
    `config_schema` (short form or JSON Schema) is then enforced by validation before each run."""
    return default_registry().register(
        node_type,
        handler,
        rewrite_edges=rewrite_edges,
        reusable=reusable,
        config_schema=config_schema,
        description=description,
    )


def node_handler(node_type: str) -> Callable[[NodeHandler], NodeHandler]:
    """Decorator form of register_node_handler."""

    def decorate(fn: NodeHandler) -> NodeHandler:
        register_node_handler(node_type, fn)
        return fn

    return decorate
