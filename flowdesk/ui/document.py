"""The editable workflow document: the truth the canvas mirrors and the undo commands change.

Plain values in a QObject (after orange-canvas-core's scheme/): every mutator checks the graph
rules, changes the values, then emits one signal, and only when something really changed.
Nodes and connections carry a document-local `uid` that survives renames and undo.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS, NodeTypeDescriptor, describe, reserved_owner
from flowdesk.gc_control import gc_paused


class ConnectionRefusedError(InvalidInputError):
    """A connection the graph rules do not allow; the message says why, for the status bar."""


class NodeNameError(ConflictError):
    """A node name that is empty or already used in this workflow."""


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars): several times faster than
    copy.deepcopy, which matters when 2,000 node configs are copied on open."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(json_copy(v) for v in value)
    return value


@dataclass(slots=True)
class NodeState:
    """One node as plain values. `db_id` is the database row id once saved."""

    uid: int
    name: str
    node_type: str
    config: dict[str, Any] = field(default_factory=dict)
    x: float = 0.0
    y: float = 0.0
    description: str = ""
    db_id: int | None = None

    def copy(self) -> NodeState:
        return NodeState(
            self.uid,
            self.name,
            self.node_type,
            json_copy(self.config),
            self.x,
            self.y,
            self.description,
            self.db_id,
        )


@dataclass(slots=True)
class ConnectionState:
    """One typed connection between two nodes, by node uid."""

    uid: int
    source: int
    target: int
    connection_type: ConnectionType = ConnectionType.SEQUENCE
    condition: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    db_id: int | None = None

    def copy(self) -> ConnectionState:
        return ConnectionState(
            self.uid,
            self.source,
            self.target,
            self.connection_type,
            self.condition,
            json_copy(self.config),
            self.db_id,
        )


def allowed_connection_types(descriptor: NodeTypeDescriptor) -> list[ConnectionType]:
    """Connection types a node of this type may start, in menu order (its descriptor's exits)."""
    return descriptor.exits()


class WorkflowDocument(QObject):
    """A workflow being edited: workflow properties, nodes and connections, selection, dirty state."""

    node_added = Signal(int)
    node_removed = Signal(int)
    node_moved = Signal(int)
    node_renamed = Signal(int)
    node_changed = Signal(int)  # config or description
    connection_added = Signal(int)
    connection_removed = Signal(int)
    connection_changed = Signal(int)  # type, condition or config
    workflow_changed = Signal()
    selection_changed = Signal()
    dirty_changed = Signal(bool)
    reset = Signal()  # the whole graph was replaced (load)
    graph_changed = Signal()  # after any edit of nodes, connections or properties

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._uids = itertools.count(1)
        self.workflow = Workflow(name="Untitled workflow")
        # What is known about each node type (the built-ins plus the database's custom types):
        # the ports, the rules and the look are read from here.
        self.node_types: dict[str, NodeTypeDescriptor] = dict(BUILTIN_DESCRIPTORS)
        self._nodes: dict[int, NodeState] = {}
        self._node_order: list[int] = []
        self._names: dict[str, int] = {}
        self._connections: dict[int, ConnectionState] = {}
        self._connection_order: list[int] = []
        self._out: dict[int, list[int]] = {}
        self._in: dict[int, list[int]] = {}
        self._selected_nodes: frozenset[int] = frozenset()
        self._selected_connections: frozenset[int] = frozenset()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    def _clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    # ---------------------------------------------------------------- reading
    @property
    def workflow_id(self) -> int | None:
        return self.workflow.id

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def new_uid(self) -> int:
        return next(self._uids)

    @property
    def node_count(self) -> int:
        return len(self._node_order)

    @property
    def connection_count(self) -> int:
        return len(self._connection_order)

    def nodes(self) -> list[NodeState]:
        return [self._nodes[u] for u in self._node_order]

    def connections(self) -> list[ConnectionState]:
        return [self._connections[u] for u in self._connection_order]

    def node(self, uid: int) -> NodeState:
        try:
            return self._nodes[uid]
        except KeyError:
            raise NotFoundError(f"node {uid} is not in this workflow") from None

    def has_node(self, uid: int) -> bool:
        return uid in self._nodes

    def has_connection(self, uid: int) -> bool:
        return uid in self._connections

    def node_by_name(self, name: str) -> NodeState | None:
        uid = self._names.get(name)
        return self._nodes[uid] if uid is not None else None

    def connection(self, uid: int) -> ConnectionState:
        try:
            return self._connections[uid]
        except KeyError:
            raise NotFoundError(f"connection {uid} is not in this workflow") from None

    def node_connections(self, uid: int) -> list[int]:
        """Uids of the connections touching a node, in document order."""
        touching = set(self._out.get(uid, ())) | set(self._in.get(uid, ()))
        return [c for c in self._connection_order if c in touching] if touching else []

    def outgoing(self, uid: int) -> list[int]:
        return list(self._out.get(uid, ()))

    def incoming(self, uid: int) -> list[int]:
        return list(self._in.get(uid, ()))

    def node_index(self, uid: int) -> int:
        return self._node_order.index(uid)

    def connection_index(self, uid: int) -> int:
        return self._connection_order.index(uid)

    def unique_name(self, base: str) -> str:
        """`base` if free, else `base 2`, `base 3`..."""
        if base not in self._names:
            return base
        for i in itertools.count(2):
            candidate = f"{base} {i}"
            if candidate not in self._names:
                return candidate
        raise AssertionError("unreachable")

    def descriptor(self, node_type: str) -> NodeTypeDescriptor:
        """The descriptor of `node_type` (a bare one for a type nothing describes)."""
        return describe(node_type, self.node_types)

    def default_name(self, node_type: str) -> str:
        return self.unique_name(self.descriptor(node_type).default_name)

    # ---------------------------------------------------------------- rules
    def check_name(self, name: str, uid: int | None = None) -> None:
        """Raise NodeNameError unless `name` can name node `uid` (or a new node)."""
        if not name or not name.strip():
            raise NodeNameError("A node needs a name.")
        if name != name.strip():
            raise NodeNameError("A node name cannot start or end with spaces.")
        owner = self._names.get(name)
        if owner is not None and owner != uid:
            raise NodeNameError(f"Another node is already named '{name}'.")

    def check_connect(
        self, source: int, target: int, connection_type: ConnectionType, *, ignore: int | None = None
    ) -> None:
        """Raise ConnectionRefusedError when source -> target of this type breaks a graph rule.

        `ignore` is a connection uid left out of the check (when changing an existing one's type).
        """
        src, dst = self.node(source), self.node(target)
        if source == target:
            raise ConnectionRefusedError("A node cannot connect to itself.")
        src_type, dst_type = self.descriptor(src.node_type), self.descriptor(dst.node_type)
        if not src_type.ports:
            raise ConnectionRefusedError(f"'{src.name}' is an {src.node_type} node: nothing leaves it.")
        if not dst_type.has_input:
            raise ConnectionRefusedError(f"'{dst.name}' is the {dst.node_type} node: nothing leads into it.")
        kind = ConnectionType(connection_type)
        if kind not in src_type.exits():
            owner = reserved_owner(kind) or "other"
            raise ConnectionRefusedError(
                f"A {kind.value} connection must leave a {owner} node, and '{src.name}' is {src.node_type}."
            )
        for cuid in self._out.get(source, ()):
            if cuid != ignore and self._connections[cuid].target == target:
                raise ConnectionRefusedError(f"'{src.name}' is already connected to '{dst.name}'.")
        if self._creates_cycle_without_loop(source, target):
            raise ConnectionRefusedError(
                f"'{src.name}' -> '{dst.name}' would close a cycle that does not pass through a LOOP node."
            )

    def _creates_cycle_without_loop(self, source: int, target: int) -> bool:
        """True when target already reaches source along nodes none of which runs a body (a LOOP)."""

        def is_loop(uid: int) -> bool:
            return self.descriptor(self._nodes[uid].node_type).runs_body

        if is_loop(source) or is_loop(target):
            return False
        seen = {target}
        stack = [target]
        while stack:
            uid = stack.pop()
            if uid == source:
                return True
            for cuid in self._out.get(uid, ()):
                nxt = self._connections[cuid].target
                if nxt not in seen and not is_loop(nxt):
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    # ---------------------------------------------------------------- mutators
    def add_node(self, node: NodeState, index: int | None = None) -> None:
        """Insert a node (its uid must be new to this document)."""
        if node.uid in self._nodes:
            raise ConflictError(f"node {node.uid} is already in this workflow")
        self.check_name(node.name)
        state = node.copy()
        self._nodes[state.uid] = state
        if index is None or index >= len(self._node_order):
            self._node_order.append(state.uid)
        else:
            self._node_order.insert(index, state.uid)
        self._names[state.name] = state.uid
        self.node_added.emit(state.uid)
        self.graph_changed.emit()

    def remove_node(self, uid: int) -> int:
        """Remove a node that has no connections left; returns its index for undo."""
        node = self.node(uid)
        if self._out.get(uid) or self._in.get(uid):
            raise ConflictError(f"node '{node.name}' still has connections")
        index = self._node_order.index(uid)
        del self._node_order[index]
        del self._nodes[uid]
        del self._names[node.name]
        self._out.pop(uid, None)
        self._in.pop(uid, None)
        if uid in self._selected_nodes:
            self._selected_nodes = self._selected_nodes - {uid}
            self.selection_changed.emit()
        self.node_removed.emit(uid)
        self.graph_changed.emit()
        return index

    def move_node(self, uid: int, x: float, y: float) -> None:
        node = self.node(uid)
        if node.x == x and node.y == y:
            return
        node.x, node.y = float(x), float(y)
        self.node_moved.emit(uid)
        self.graph_changed.emit()

    def rename_node(self, uid: int, name: str) -> None:
        node = self.node(uid)
        if node.name == name:
            return
        self.check_name(name, uid)
        del self._names[node.name]
        node.name = name
        self._names[name] = uid
        self.node_renamed.emit(uid)
        self.graph_changed.emit()

    def set_node_config(self, uid: int, config: dict[str, Any]) -> None:
        node = self.node(uid)
        if node.config == config:
            return
        node.config = json_copy(config)
        self.node_changed.emit(uid)
        self.graph_changed.emit()

    def set_node_description(self, uid: int, description: str) -> None:
        node = self.node(uid)
        if node.description == description:
            return
        node.description = description
        self.node_changed.emit(uid)
        self.graph_changed.emit()

    def add_connection(self, conn: ConnectionState, index: int | None = None, *, check: bool = True) -> None:
        """Insert a connection after checking the graph rules (unless restoring a known-good state)."""
        if conn.uid in self._connections:
            raise ConflictError(f"connection {conn.uid} is already in this workflow")
        self.node(conn.source), self.node(conn.target)
        if check:
            self.check_connect(conn.source, conn.target, conn.connection_type)
        state = conn.copy()
        if type(state.connection_type) is not ConnectionType:
            state.connection_type = ConnectionType(state.connection_type)
        self._connections[state.uid] = state
        if index is None or index >= len(self._connection_order):
            self._connection_order.append(state.uid)
        else:
            self._connection_order.insert(index, state.uid)
        self._out.setdefault(state.source, []).append(state.uid)
        self._in.setdefault(state.target, []).append(state.uid)
        self.connection_added.emit(state.uid)
        self.graph_changed.emit()

    def remove_connection(self, uid: int) -> int:
        conn = self.connection(uid)
        index = self._connection_order.index(uid)
        del self._connection_order[index]
        del self._connections[uid]
        self._out[conn.source].remove(uid)
        self._in[conn.target].remove(uid)
        if uid in self._selected_connections:
            self._selected_connections = self._selected_connections - {uid}
            self.selection_changed.emit()
        self.connection_removed.emit(uid)
        self.graph_changed.emit()
        return index

    def set_connection_type(
        self, uid: int, connection_type: ConnectionType, condition: str | None = None
    ) -> None:
        conn = self.connection(uid)
        connection_type = ConnectionType(connection_type)
        if conn.connection_type == connection_type and conn.condition == condition:
            return
        if conn.connection_type != connection_type:
            self.check_connect(conn.source, conn.target, connection_type, ignore=uid)
        conn.connection_type = connection_type
        conn.condition = condition
        self.connection_changed.emit(uid)
        self.graph_changed.emit()

    def set_workflow_properties(self, **fields: Any) -> None:
        """Change name, description, version, config, tags or is_active."""
        allowed = {"name", "description", "version", "config", "tags", "is_active"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidInputError(f"unknown workflow properties: {', '.join(sorted(unknown))}")
        if "name" in fields and not str(fields["name"]).strip():
            raise InvalidInputError("A workflow needs a name.")
        changes = {k: json_copy(v) for k, v in fields.items() if getattr(self.workflow, k) != v}
        if not changes:
            return
        self.workflow = self.workflow.model_copy(update=changes)
        self.workflow_changed.emit()
        self.graph_changed.emit()

    def workflow_properties(self) -> dict[str, Any]:
        w = self.workflow
        return {
            "name": w.name,
            "description": w.description,
            "version": w.version,
            "config": json_copy(w.config),
            "tags": list(w.tags),
            "is_active": w.is_active,
        }

    # ---------------------------------------------------------------- selection
    @property
    def selected_nodes(self) -> frozenset[int]:
        return self._selected_nodes

    @property
    def selected_connections(self) -> frozenset[int]:
        return self._selected_connections

    def set_selection(self, nodes: Iterable[int] = (), connections: Iterable[int] = ()) -> None:
        n, c = frozenset(nodes), frozenset(connections)
        if n == self._selected_nodes and c == self._selected_connections:
            return
        self._selected_nodes, self._selected_connections = n, c
        self.selection_changed.emit()

    # ---------------------------------------------------------------- graph in and out
    def load_graph(self, graph: WorkflowGraph) -> None:
        """Replace everything by `graph` (no undo: the stack is cleared) and emit `reset`."""
        with gc_paused():
            self._load_graph(graph)

    def _load_graph(self, graph: WorkflowGraph) -> None:
        self._clear()
        self.workflow = graph.workflow.model_copy(deep=True)
        for node in graph.nodes:
            state = node_state_from_domain(node, self.new_uid())
            self._nodes[state.uid] = state
            self._node_order.append(state.uid)
            self._names[state.name] = state.uid
        for conn in graph.connections:
            src, dst = self._names.get(conn.from_node), self._names.get(conn.to_node)
            if src is None or dst is None:
                continue  # a dangling connection cannot be drawn; validation of the file reports it
            conn_state = ConnectionState(
                self.new_uid(),
                src,
                dst,
                ConnectionType(conn.connection_type),
                conn.condition,
                json_copy(conn.config),
                conn.id,
            )
            self._connections[conn_state.uid] = conn_state
            self._connection_order.append(conn_state.uid)
            self._out.setdefault(src, []).append(conn_state.uid)
            self._in.setdefault(dst, []).append(conn_state.uid)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.reset.emit()
        self.graph_changed.emit()

    def _clear(self) -> None:
        self._nodes.clear()
        self._node_order.clear()
        self._names.clear()
        self._connections.clear()
        self._connection_order.clear()
        self._out.clear()
        self._in.clear()
        self._selected_nodes = frozenset()
        self._selected_connections = frozenset()

    def to_graph(self, node_uids: Iterable[int] | None = None) -> WorkflowGraph:
        """The document (or the sub-graph of `node_uids` and the connections among them) as domain values."""
        with gc_paused():
            return self._to_graph(node_uids)

    def _to_graph(self, node_uids: Iterable[int] | None) -> WorkflowGraph:
        if node_uids is None:
            uids = list(self._node_order)
            conns = self.connections()
        else:
            wanted = set(node_uids)
            uids = [u for u in self._node_order if u in wanted]
            conns = [c for c in self.connections() if c.source in wanted and c.target in wanted]
        nodes = [node_state_to_domain(self._nodes[u], self.workflow.id) for u in uids]
        connections = [
            Connection(
                id=c.db_id,
                workflow_id=self.workflow.id,
                from_node=self._nodes[c.source].name,
                to_node=self._nodes[c.target].name,
                from_node_id=self._nodes[c.source].db_id,
                to_node_id=self._nodes[c.target].db_id,
                connection_type=c.connection_type,
                condition=c.condition,
                config=json_copy(c.config),
            )
            for c in conns
        ]
        return WorkflowGraph(
            workflow=self.workflow.model_copy(deep=True), nodes=nodes, connections=connections
        )

    def adopt_saved(self, graph: WorkflowGraph) -> None:
        """Take the database ids of a just-saved graph (matched by node name and order); no signal."""
        self.workflow = self.workflow.model_copy(
            update={
                "id": graph.workflow.id,
                "created_at": graph.workflow.created_at,
                "updated_at": graph.workflow.updated_at,
            }
        )
        for node in graph.nodes:
            uid = self._names.get(node.name)
            if uid is not None:
                self._nodes[uid].db_id = node.id
        for state, conn in zip(self.connections(), graph.connections, strict=False):
            state.db_id = conn.id


def node_state_from_domain(node: Node, uid: int) -> NodeState:
    return NodeState(
        uid,
        node.name,
        str(node.node_type),
        json_copy(node.config),
        float(node.position_x),
        float(node.position_y),
        node.description or "",
        node.id,
    )


def node_state_to_domain(state: NodeState, workflow_id: int | None) -> Node:
    return Node(
        id=state.db_id,
        workflow_id=workflow_id,
        name=state.name,
        node_type=state.node_type,
        config=json_copy(state.config),
        position_x=state.x,
        position_y=state.y,
        description=state.description,
    )
