"""Undo commands: every user edit of a WorkflowDocument, calling document methods only.

After orange-canvas-core's document/commands.py: removing nodes removes their connections first
(recording indices, so undo restores the original order); a multi-node drag is one
MoveNodesCommand pushed on release; paste, auto-layout and import are one step each.

A command is a list of small steps (plain Python objects with redo/undo) run in order and undone
in reverse. Steps are not QUndoCommand children: PySide's ownership of child commands is fragile
(a child's Python object can die before or after its C++ twin), and plain steps cost less.
Rules are checked when a command is built, so a refused edit raises before it reaches the stack.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from flowdesk.domain.enums import ConnectionType
from flowdesk.gc_control import gc_paused

from .document import ConnectionState, NodeState, WorkflowDocument

# ---------------------------------------------------------------- steps


class _AddNode:
    def __init__(self, doc: WorkflowDocument, node: NodeState, index: int | None = None) -> None:
        self.doc, self.node, self.index = doc, node.copy(), index

    def redo(self) -> None:
        self.doc.add_node(self.node, self.index)

    def undo(self) -> None:
        # keep what the node became meanwhile (a database id given by a save), for the next redo
        self.node = self.doc.node(self.node.uid).copy()
        self.doc.remove_node(self.node.uid)


class _RemoveNode:
    def __init__(self, doc: WorkflowDocument, uid: int) -> None:
        self.doc, self.node, self.index = doc, doc.node(uid).copy(), -1

    def redo(self) -> None:
        self.node = self.doc.node(self.node.uid).copy()
        self.index = self.doc.remove_node(self.node.uid)

    def undo(self) -> None:
        self.doc.add_node(self.node, self.index)


class _AddConnection:
    def __init__(self, doc: WorkflowDocument, conn: ConnectionState) -> None:
        self.doc, self.conn = doc, conn.copy()

    def redo(self) -> None:
        self.doc.add_connection(self.conn, check=False)  # checked when the command was built

    def undo(self) -> None:
        self.conn = self.doc.connection(self.conn.uid).copy()
        self.doc.remove_connection(self.conn.uid)


class _RemoveConnection:
    def __init__(self, doc: WorkflowDocument, uid: int) -> None:
        self.doc, self.conn, self.index = doc, doc.connection(uid).copy(), -1

    def redo(self) -> None:
        self.conn = self.doc.connection(self.conn.uid).copy()
        self.index = self.doc.remove_connection(self.conn.uid)

    def undo(self) -> None:
        self.doc.add_connection(self.conn, self.index, check=False)


class _Move:
    def __init__(self, doc: WorkflowDocument, uid: int, old: tuple[float, float], new: tuple[float, float]):
        self.doc, self.uid, self.old, self.new = doc, uid, old, new

    def redo(self) -> None:
        self.doc.move_node(self.uid, *self.new)

    def undo(self) -> None:
        self.doc.move_node(self.uid, *self.old)


class _EditNode:
    def __init__(self, doc: WorkflowDocument, uid: int, config: dict | None, description: str | None) -> None:
        node = doc.node(uid)
        self.doc, self.uid = doc, uid
        self.old = (copy.deepcopy(node.config), node.description)
        self.new = (
            copy.deepcopy(config) if config is not None else copy.deepcopy(node.config),
            description if description is not None else node.description,
        )

    def redo(self) -> None:
        self.doc.set_node_config(self.uid, self.new[0])
        self.doc.set_node_description(self.uid, self.new[1])

    def undo(self) -> None:
        self.doc.set_node_config(self.uid, self.old[0])
        self.doc.set_node_description(self.uid, self.old[1])


class _Rename:
    def __init__(self, doc: WorkflowDocument, uid: int, old: str, new: str) -> None:
        self.doc, self.uid, self.old, self.new = doc, uid, old, new

    def redo(self) -> None:
        self.doc.rename_node(self.uid, self.new)

    def undo(self) -> None:
        self.doc.rename_node(self.uid, self.old)


class _SetConnectionType:
    def __init__(self, doc: WorkflowDocument, uid: int, ctype: ConnectionType, condition: str | None) -> None:
        conn = doc.connection(uid)
        self.doc, self.uid = doc, uid
        self.old = (conn.connection_type, conn.condition)
        self.new = (ConnectionType(ctype), condition)

    def redo(self) -> None:
        self.doc.set_connection_type(self.uid, *self.new)

    def undo(self) -> None:
        self.doc.set_connection_type(self.uid, *self.old)


class _WorkflowProperties:
    def __init__(self, doc: WorkflowDocument, fields: dict[str, Any]) -> None:
        current = doc.workflow_properties()
        self.doc = doc
        self.old = {k: current[k] for k in fields}
        self.new = copy.deepcopy(fields)

    def redo(self) -> None:
        self.doc.set_workflow_properties(**self.new)

    def undo(self) -> None:
        self.doc.set_workflow_properties(**self.old)


def _removal_steps(doc: WorkflowDocument, nodes: Iterable[int], connections: Iterable[int]) -> list:
    """Connections first (highest index first, so undo re-inserts lowest first at the recorded
    indices and the original order comes back), then nodes the same way."""
    node_set = set(nodes)
    conn_set = set(connections)
    for uid in node_set:
        conn_set.update(doc.outgoing(uid))
        conn_set.update(doc.incoming(uid))
    conn_index = {c.uid: i for i, c in enumerate(doc.connections())}
    node_index = {n.uid: i for i, n in enumerate(doc.nodes())}
    steps: list = [
        _RemoveConnection(doc, c) for c in sorted(conn_set, key=conn_index.__getitem__, reverse=True)
    ]
    steps += [_RemoveNode(doc, n) for n in sorted(node_set, key=node_index.__getitem__, reverse=True)]
    return steps


# ---------------------------------------------------------------- commands


class DocumentCommand(QUndoCommand):
    """One undo step made of several document steps."""

    def __init__(self, text: str, steps: list | None = None) -> None:
        super().__init__(text)
        self.steps: list = list(steps or [])

    def redo(self) -> None:
        with gc_paused():
            for step in self.steps:
                step.redo()

    def undo(self) -> None:
        with gc_paused():
            for step in reversed(self.steps):
                step.undo()


class AddNodeCommand(DocumentCommand):
    """Add one node."""

    def __init__(self, doc: WorkflowDocument, node: NodeState) -> None:
        doc.check_name(node.name)
        super().__init__(f"Add {node.name}", [_AddNode(doc, node)])
        self.node = node


class AddConnectionCommand(DocumentCommand):
    """Add one connection; raises ConnectionRefusedError at once when the rules refuse it."""

    def __init__(self, doc: WorkflowDocument, conn: ConnectionState) -> None:
        doc.check_connect(conn.source, conn.target, ConnectionType(conn.connection_type))
        super().__init__(
            f"Connect ({ConnectionType(conn.connection_type).value})", [_AddConnection(doc, conn)]
        )


class RemoveItemsCommand(DocumentCommand):
    """Delete nodes (with their connections) and connections as one step."""

    def __init__(
        self,
        doc: WorkflowDocument,
        nodes: Iterable[int],
        connections: Iterable[int] = (),
        text: str = "Delete",
    ) -> None:
        super().__init__(text, _removal_steps(doc, nodes, connections))


class MoveNodesCommand(DocumentCommand):
    """Move several nodes at once (a drag, an auto-layout): one undo step."""

    def __init__(
        self,
        doc: WorkflowDocument,
        moves: Mapping[int, tuple[tuple[float, float], tuple[float, float]]],
        text: str = "Move",
    ) -> None:
        super().__init__(text, [_Move(doc, uid, old, new) for uid, (old, new) in moves.items()])


class SetConnectionTypeCommand(DocumentCommand):
    """Change a connection's type (and the condition a CONDITIONAL carries)."""

    def __init__(
        self, doc: WorkflowDocument, uid: int, connection_type: ConnectionType, condition: str | None = None
    ) -> None:
        conn = doc.connection(uid)
        if ConnectionType(connection_type) != conn.connection_type:
            doc.check_connect(conn.source, conn.target, ConnectionType(connection_type), ignore=uid)
        super().__init__(
            f"Make connection {ConnectionType(connection_type).value}",
            [_SetConnectionType(doc, uid, connection_type, condition)],
        )


class EditNodeCommand(DocumentCommand):
    """Change a node's config and/or description."""

    def __init__(
        self,
        doc: WorkflowDocument,
        uid: int,
        config: dict[str, Any] | None = None,
        description: str | None = None,
        text: str = "Edit node",
    ) -> None:
        super().__init__(text, [_EditNode(doc, uid, config, description)])


def referencing_nodes(doc: WorkflowDocument, name: str) -> list[str]:
    """Names of nodes (and 'a -> b' for connections) whose texts refer to node `name`."""
    from flowdesk.domain.node_config import rename_in_condition, rename_in_config

    probe = "renamed\u2063probe"
    found: list[str] = []
    for node in doc.nodes():
        if rename_in_config(node.node_type, node.config, name, probe) != node.config:
            found.append(node.name)
    for conn in doc.connections():
        if conn.condition and rename_in_condition(conn.condition, name, probe) != conn.condition:
            found.append(f"{doc.node(conn.source).name} -> {doc.node(conn.target).name}")
    return found


def _reference_steps(doc: WorkflowDocument, old: str, new: str) -> list:
    from flowdesk.domain.node_config import rename_in_condition, rename_in_config

    steps: list = []
    for node in doc.nodes():
        config = rename_in_config(node.node_type, node.config, old, new)
        if config != node.config:
            steps.append(_EditNode(doc, node.uid, config, None))
    for conn in doc.connections():
        if conn.condition:
            condition = rename_in_condition(conn.condition, old, new)
            if condition != conn.condition:
                steps.append(_SetConnectionType(doc, conn.uid, conn.connection_type, condition))
    return steps


class RenameNodeCommand(DocumentCommand):
    """Rename a node; with `update_references`, rewrite `{{old.x}}` in every config and condition."""

    def __init__(
        self, doc: WorkflowDocument, uid: int, new_name: str, *, update_references: bool = False
    ) -> None:
        old_name = doc.node(uid).name
        doc.check_name(new_name, uid)
        steps: list = [_Rename(doc, uid, old_name, new_name)]
        if update_references:
            steps += _reference_steps(doc, old_name, new_name)
        super().__init__(f"Rename {old_name} to {new_name}", steps)


class AddGraphCommand(DocumentCommand):
    """Add nodes and connections in one step (paste, duplicate, restore).

    Connections are added as they come: a paste must never half-apply because of a rule; live
    validation marks anything wrong, like any other edit. Names must be free (callers make them so).
    """

    def __init__(
        self,
        doc: WorkflowDocument,
        nodes: list[NodeState],
        connections: list[ConnectionState],
        text: str = "Paste",
    ) -> None:
        names = [n.name for n in nodes]
        if len(set(names)) != len(names):
            raise ValueError("pasted node names must be unique")
        for name in names:
            doc.check_name(name)
        steps: list = [_AddNode(doc, n) for n in nodes]
        steps += [_AddConnection(doc, c) for c in connections]
        super().__init__(text, steps)
        self.node_uids = [n.uid for n in nodes]


class SetWorkflowPropertiesCommand(DocumentCommand):
    """Change the workflow's own properties (name, description, version, tags, config, status)."""

    def __init__(self, doc: WorkflowDocument, text: str = "Workflow properties", **fields: Any) -> None:
        if "name" in fields and not str(fields["name"]).strip():
            from flowdesk.domain.errors import InvalidInputError

            raise InvalidInputError("A workflow needs a name.")
        super().__init__(text, [_WorkflowProperties(doc, fields)])


class ReplaceGraphCommand(DocumentCommand):
    """Replace all nodes and connections (and properties) by another graph's: one step."""

    def __init__(
        self,
        doc: WorkflowDocument,
        nodes: list[NodeState],
        connections: list[ConnectionState],
        properties: dict[str, Any] | None = None,
        text: str = "Replace workflow",
    ) -> None:
        steps = _removal_steps(doc, [n.uid for n in doc.nodes()], [])
        steps += [_AddNode(doc, n) for n in nodes]
        steps += [_AddConnection(doc, c) for c in connections]
        if properties:
            steps.append(_WorkflowProperties(doc, properties))
        super().__init__(text, steps)
