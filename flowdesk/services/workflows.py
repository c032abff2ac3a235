"""Workflow use cases: workflows, their nodes and connections, and whole graphs (editor save/load, import).

Every public method is one transaction and every write adds one audit row. Methods that take
`session=` join the caller's transaction instead (import creates APIs and a graph all or nothing).

Workflow names need not be unique (two teams may both have "Sync users"); `find_workflow` reports an
ambiguous name with the ids to choose from. Node names are unique within a workflow: expressions
refer to nodes by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flowdesk.domain.enums import ConnectionType, NodeType, WorkflowStatus
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.store import Database, graphs
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.graphs import NODES, get_workflow_row, parse_connection_type, read_graph
from flowdesk.store.mapping import (
    NODE_FIELDS,
    WORKFLOW_FIELDS,
    connection_from_row,
    node_from_row,
    node_values,
    workflow_from_row,
    workflow_values,
)
from flowdesk.store.plain_reads import workflow_row, workflow_rows
from flowdesk.store.tables import ConnectionRow, NodeRow, WorkflowRow, get_row, utcnow

from .node_types import check_node_type, known_node_types
from .transaction import transaction


def _validation_sentence(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "value"
    return f"{field}: {first.get('msg', 'invalid value')}"


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"A {what} needs a name.")
    return name


# -- reading and writing inside a session (shared by the services) -----------------------------------


def _check_graph(graph: WorkflowGraph, known_types: Collection[str]) -> None:
    """Problems that would make the graph unstorable (the full validation lives in the domain)."""
    _check_name(graph.workflow.name, "workflow")
    seen: set[str] = set()
    for node in graph.nodes:
        _check_name(node.name, "node")
        if node.name in seen:
            raise ConflictError(
                f"Two nodes are named '{node.name}'; node names must be unique within a workflow."
            )
        seen.add(node.name)
        check_node_type(str(node.node_type), known_types, node=node.name)
    for index, conn in enumerate(graph.connections):
        for end in (conn.from_node, conn.to_node):
            if end not in seen:
                raise NotFoundError(
                    f"Connection {index + 1} ({conn.from_node} -> {conn.to_node}) refers to node '{end}', "
                    "which is not in the workflow."
                )
        parse_connection_type(conn.connection_type)


def insert_graph(session: Session, graph: WorkflowGraph, *, summary: str | None = None) -> WorkflowGraph:
    """Insert a new workflow with its nodes and connections; ids in `graph` are ignored."""
    _check_graph(graph, known_node_types(session))
    stored = graphs.insert_graph(session, graph)
    record_audit(
        session,
        "workflow",
        stored.workflow.id,
        "create",
        summary
        or f"Created workflow '{stored.workflow.name}' with {len(stored.nodes)} nodes and "
        f"{len(stored.connections)} connections.",
    )
    return stored


def write_graph(session: Session, graph: WorkflowGraph, *, summary: str | None = None) -> WorkflowGraph:
    """Replace a stored workflow's graph (store/graphs.py `write_graph`: nodes matched by id, new ones
    inserted, missing ones deleted, connections in the given order, only changed rows written).
    Returns what load_graph will read: nodes in id order, connections in the given order."""
    workflow_id = graph.workflow.id
    if workflow_id is None:
        raise InvalidInputError("This workflow has not been stored yet (it has no id); create it first.")
    created_at = get_workflow_row(session, workflow_id).created_at
    _check_graph(graph, known_node_types(session))
    saved = graphs.write_graph(session, workflow_id, graph, created_at)
    stored = saved.graph
    record_audit(
        session,
        "workflow",
        workflow_id,
        "update",
        summary
        or (
            f"Saved workflow '{stored.workflow.name}': {len(stored.nodes)} nodes ({saved.added} added, "
            f"{saved.removed} removed, {saved.changed} changed), {len(stored.connections)} connections."
        ),
    )
    return stored


def _node_row(session: Session, node_id: int) -> NodeRow:
    return get_row(session, NodeRow, node_id, "Node")


def _connection_row(session: Session, connection_id: int) -> ConnectionRow:
    return get_row(session, ConnectionRow, connection_id, "Connection")


def _names_of(session: Session, *node_ids: int) -> dict[int, str]:
    rows = session.execute(select(NodeRow.id, NodeRow.name).where(NodeRow.id.in_(node_ids)))
    return {r.id: r.name for r in rows}


def _node_name_taken(session: Session, workflow_id: int, name: str, except_id: int | None = None) -> bool:
    stmt = select(NodeRow.id).where(NodeRow.workflow_id == workflow_id, NodeRow.name == name)
    if except_id is not None:
        stmt = stmt.where(NodeRow.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


class WorkflowService:
    """Workflows, nodes, connections and whole graphs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- workflows ---------------------------------------------------------------------------

    def create_workflow(
        self,
        name: str,
        description: str = "",
        version: str = "1.0",
        config: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        is_active: bool = False,
    ) -> Workflow:
        """Create an empty workflow (a draft unless `is_active`)."""
        _check_name(name, "workflow")
        try:
            workflow = Workflow(
                name=name,
                description=description or "",
                version=version,
                config=config or {},
                tags=tags or [],
                is_active=is_active,
            )
        except ValidationError as exc:
            raise InvalidInputError(f"Workflow '{name}': {_validation_sentence(exc)}.") from None
        with self.db.session() as session:
            row = WorkflowRow(**workflow_values(workflow))
            session.add(row)
            session.flush()
            record_audit(session, "workflow", row.id, "create", f"Created workflow '{name}'.")
            return workflow_from_row(row)

    def get_workflow(self, workflow_id: int) -> Workflow:
        """One workflow by id (NotFoundError if there is none)."""
        with self.db.session(read_only=True) as session:
            return workflow_from_row(workflow_row(session, workflow_id))

    def find_workflow(self, id_or_name: int | str) -> Workflow:
        """A workflow by id (an int, or a string of digits that is an existing id) or else by exact name."""
        with self.db.session(read_only=True) as session:
            if isinstance(id_or_name, int):
                return workflow_from_row(workflow_row(session, id_or_name))
            text = str(id_or_name).strip()
            if text.isdigit():
                with contextlib.suppress(NotFoundError):
                    return workflow_from_row(workflow_row(session, int(text)))
            rows = workflow_rows(session, name=text)
            if not rows:
                raise NotFoundError(f"No workflow has the id or name '{text}'.")
            if len(rows) > 1:
                ids = ", ".join(str(r.id) for r in rows)
                raise ConflictError(
                    f"{len(rows)} workflows are named '{text}' (ids {ids}); give the id instead."
                )
            return workflow_from_row(rows[0])

    def list_workflows(
        self, tag: str | None = None, search: str | None = None, status: str | WorkflowStatus | None = None
    ) -> list[Workflow]:
        """Workflows by id, filtered by tag, by a case-insensitive search in name and description, by status."""
        active = None if status is None else self._status(status) == WorkflowStatus.ACTIVE
        with self.db.session(read_only=True) as session:
            workflows = [workflow_from_row(r) for r in workflow_rows(session, active=active)]
        if tag is not None:
            workflows = [w for w in workflows if tag in w.tags]
        if search:
            # casefold in Python: SQLite's lower() only folds ASCII.
            needle = search.casefold()
            workflows = [
                w for w in workflows if needle in w.name.casefold() or needle in w.description.casefold()
            ]
        return workflows

    def update_workflow(self, workflow_id: int, **fields: Any) -> Workflow:
        """Change some of name, description, version, config, tags, is_active (or status)."""
        if "status" in fields:
            fields["is_active"] = self._status(fields.pop("status")) == WorkflowStatus.ACTIVE
        unknown = set(fields) - set(WORKFLOW_FIELDS)
        if unknown:
            raise InvalidInputError(f"A workflow has no field {', '.join(sorted(unknown))}.")
        if "name" in fields:
            _check_name(fields["name"], "workflow")
        with self.db.session() as session:
            row = get_workflow_row(session, workflow_id)
            current = workflow_from_row(row)
            try:
                merged = Workflow.model_validate({**current.model_dump(exclude={"status"}), **fields})
            except ValidationError as exc:
                raise InvalidInputError(f"Workflow {workflow_id}: {_validation_sentence(exc)}.") from None
            values = workflow_values(merged)
            changed = [k for k in fields if getattr(row, k) != values[k]]
            for key in fields:
                setattr(row, key, values[key])
            row.updated_at = utcnow()
            session.flush()
            what = ", ".join(changed) if changed else "nothing changed"
            record_audit(
                session, "workflow", workflow_id, "update", f"Updated workflow '{row.name}': {what}."
            )
            return workflow_from_row(row)

    def set_status(self, workflow_id: int, status: str | WorkflowStatus) -> Workflow:
        """Make a workflow a draft or active."""
        return self.update_workflow(workflow_id, status=status)

    def delete_workflow(self, workflow_id: int) -> None:
        """Delete a workflow with its nodes, connections, runs, run logs and versions (cascade)."""
        with self.db.session() as session:
            row = get_workflow_row(session, workflow_id)
            name = row.name
            session.execute(delete(WorkflowRow).where(WorkflowRow.id == workflow_id))
            record_audit(session, "workflow", workflow_id, "delete", f"Deleted workflow '{name}'.")

    def duplicate_workflow(self, workflow_id: int, name: str | None = None) -> Workflow:
        """Copy a workflow's properties, nodes and connections into a new draft named "X (copy)"."""
        with self.db.session() as session:
            graph = read_graph(session, workflow_id)
            new_name = name if name is not None else f"{graph.workflow.name} (copy)"
            copy = WorkflowGraph.model_construct(
                workflow=graph.workflow.model_copy(update={"id": None, "name": new_name, "is_active": False}),
                nodes=[n.model_copy(update={"id": None, "workflow_id": None}) for n in graph.nodes],
                connections=[
                    c.model_copy(
                        update={"id": None, "workflow_id": None, "from_node_id": None, "to_node_id": None}
                    )
                    for c in graph.connections
                ],
            )
            created = insert_graph(
                session,
                copy,
                summary=f"Duplicated workflow {workflow_id} '{graph.workflow.name}' as '{new_name}'.",
            )
            return created.workflow

    @staticmethod
    def _status(status: str | WorkflowStatus) -> WorkflowStatus:
        try:
            return WorkflowStatus(status)
        except ValueError:
            raise InvalidInputError(f"'{status}' is not a workflow status (use draft or active).") from None

    # -- nodes -------------------------------------------------------------------------------

    def add_node(
        self,
        workflow_id: int,
        name: str,
        node_type: NodeType | str,
        config: dict[str, Any] | None = None,
        position_x: float = 0,
        position_y: float = 0,
        description: str = "",
    ) -> Node:
        """Add one node; its name must be new within the workflow."""
        _check_name(name, "node")
        try:
            node = Node(
                workflow_id=workflow_id,
                name=name,
                node_type=str(node_type),
                config=config or {},
                position_x=position_x,
                position_y=position_y,
                description=description or "",
            )
        except ValidationError as exc:
            raise InvalidInputError(f"Node '{name}': {_validation_sentence(exc)}.") from None
        with self.db.session() as session:
            get_workflow_row(session, workflow_id)
            check_node_type(node.node_type, known_node_types(session), node=name)
            if _node_name_taken(session, workflow_id, name):
                raise ConflictError(f"Workflow {workflow_id} already has a node named '{name}'.")
            row = NodeRow(workflow_id=workflow_id, **node_values(node))
            session.add(row)
            session.flush()
            self._touch(session, workflow_id)
            record_audit(
                session,
                "node",
                row.id,
                "create",
                f"Added {node.node_type} node '{name}' to workflow {workflow_id}.",
            )
            return node_from_row(row)

    def get_node(self, node_id: int) -> Node:
        """One node by id."""
        with self.db.session(read_only=True) as session:
            return node_from_row(_node_row(session, node_id))

    def list_nodes(self, workflow_id: int) -> list[Node]:
        """A workflow's nodes in id order."""
        with self.db.session(read_only=True) as session:
            get_workflow_row(session, workflow_id)
            rows = session.execute(
                select(NODES).where(NODES.c.workflow_id == workflow_id).order_by(NODES.c.id)
            )
            return [node_from_row(r) for r in rows]

    def update_node(self, node_id: int, **fields: Any) -> Node:
        """Change some of name, node_type, config, position_x, position_y, description."""
        unknown = set(fields) - set(NODE_FIELDS)
        if unknown:
            raise InvalidInputError(f"A node has no field {', '.join(sorted(unknown))}.")
        if "name" in fields:
            _check_name(fields["name"], "node")
        with self.db.session() as session:
            row = _node_row(session, node_id)
            current = node_from_row(row)
            try:
                merged = Node.model_validate({**current.model_dump(), **fields})
            except ValidationError as exc:
                raise InvalidInputError(f"Node '{row.name}': {_validation_sentence(exc)}.") from None
            if "node_type" in fields:
                check_node_type(merged.node_type, known_node_types(session), node=merged.name)
            if merged.name != row.name and _node_name_taken(session, row.workflow_id, merged.name, node_id):
                raise ConflictError(f"Workflow {row.workflow_id} already has a node named '{merged.name}'.")
            values = node_values(merged)
            changed = [k for k in fields if getattr(row, k) != values[k]]
            for key in fields:
                setattr(row, key, values[key])
            session.flush()
            self._touch(session, row.workflow_id)
            what = ", ".join(changed) if changed else "nothing changed"
            record_audit(session, "node", node_id, "update", f"Updated node '{row.name}': {what}.")
            return node_from_row(row)

    def delete_node(self, node_id: int) -> None:
        """Delete a node and its connections; its run logs keep their step name, with node_id NULL."""
        with self.db.session() as session:
            row = _node_row(session, node_id)
            name, workflow_id = row.name, row.workflow_id
            session.execute(delete(NodeRow).where(NodeRow.id == node_id))
            self._touch(session, workflow_id)
            record_audit(
                session, "node", node_id, "delete", f"Deleted node '{name}' from workflow {workflow_id}."
            )

    # -- connections -------------------------------------------------------------------------

    def add_connection(
        self,
        workflow_id: int,
        from_node_id: int,
        to_node_id: int,
        connection_type: ConnectionType | str = ConnectionType.SEQUENCE,
        condition: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> Connection:
        """Connect two nodes of the same workflow; the connection goes after the existing ones."""
        ctype = parse_connection_type(connection_type)
        with self.db.session() as session:
            get_workflow_row(session, workflow_id)
            rows = {
                r.id: r
                for r in session.execute(
                    select(NodeRow.id, NodeRow.workflow_id, NodeRow.name).where(
                        NodeRow.id.in_((from_node_id, to_node_id))
                    )
                )
            }
            for end in (from_node_id, to_node_id):
                if end not in rows:
                    raise NotFoundError(f"Node {end} does not exist.")
                if rows[end].workflow_id != workflow_id:
                    raise ConflictError(
                        f"Node {end} ('{rows[end].name}') belongs to workflow {rows[end].workflow_id}, "
                        f"not to workflow {workflow_id}."
                    )
            seq = session.scalar(
                select(func.coalesce(func.max(ConnectionRow.seq), -1)).where(
                    ConnectionRow.workflow_id == workflow_id
                )
            )
            row = ConnectionRow(
                workflow_id=workflow_id,
                from_node_id=from_node_id,
                to_node_id=to_node_id,
                connection_type=ctype.value,
                condition=condition,
                config=dict(config or {}),
                seq=int(seq or 0) + 1,
            )
            session.add(row)
            session.flush()
            self._touch(session, workflow_id)
            names = {k: v.name for k, v in rows.items()}
            record_audit(
                session,
                "connection",
                row.id,
                "create",
                f"Connected '{names[from_node_id]}' to '{names[to_node_id]}' ({ctype.value}) in workflow {workflow_id}.",
            )
            return connection_from_row(row, names)

    def get_connection(self, connection_id: int) -> Connection:
        """One connection by id."""
        with self.db.session(read_only=True) as session:
            row = _connection_row(session, connection_id)
            return connection_from_row(row, _names_of(session, row.from_node_id, row.to_node_id))

    def list_connections(self, workflow_id: int) -> list[Connection]:
        """A workflow's connections in their drawn order."""
        with self.db.session(read_only=True) as session:
            return list(read_graph(session, workflow_id).connections)

    def update_connection(self, connection_id: int, **fields: Any) -> Connection:
        """Change some of connection_type, condition, config, from_node_id, to_node_id."""
        allowed = {"connection_type", "condition", "config", "from_node_id", "to_node_id"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidInputError(f"A connection has no field {', '.join(sorted(unknown))}.")
        if "connection_type" in fields:
            fields["connection_type"] = parse_connection_type(fields["connection_type"]).value
        if "config" in fields:
            fields["config"] = dict(fields["config"] or {})
        with self.db.session() as session:
            row = _connection_row(session, connection_id)
            for key in ("from_node_id", "to_node_id"):
                if key in fields:
                    node = session.get(NodeRow, fields[key])
                    if node is None:
                        raise NotFoundError(f"Node {fields[key]} does not exist.")
                    if node.workflow_id != row.workflow_id:
                        raise ConflictError(
                            f"Node {node.id} ('{node.name}') belongs to workflow {node.workflow_id}, "
                            f"not to workflow {row.workflow_id}."
                        )
            for key, value in fields.items():
                setattr(row, key, value)
            session.flush()
            self._touch(session, row.workflow_id)
            names = _names_of(session, row.from_node_id, row.to_node_id)
            record_audit(
                session,
                "connection",
                connection_id,
                "update",
                f"Updated connection '{names[row.from_node_id]}' -> '{names[row.to_node_id]}': "
                f"{', '.join(sorted(fields)) or 'nothing changed'}.",
            )
            return connection_from_row(row, names)

    def delete_connection(self, connection_id: int) -> None:
        """Delete one connection."""
        with self.db.session() as session:
            row = _connection_row(session, connection_id)
            names = _names_of(session, row.from_node_id, row.to_node_id)
            workflow_id = row.workflow_id
            summary = f"Deleted connection '{names[row.from_node_id]}' -> '{names[row.to_node_id]}'."
            session.execute(delete(ConnectionRow).where(ConnectionRow.id == connection_id))
            self._touch(session, workflow_id)
            record_audit(session, "connection", connection_id, "delete", summary)

    # -- whole graphs ------------------------------------------------------------------------

    def load_graph(self, workflow_id: int, *, session: Session | None = None) -> WorkflowGraph:
        """The workflow with all its nodes and connections."""
        with transaction(self.db, session, read_only=True) as s:
            return read_graph(s, workflow_id)

    def save_graph(self, graph: WorkflowGraph, *, session: Session | None = None) -> WorkflowGraph:
        """Store the editor's whole graph in one transaction; returns it with every id filled in."""
        with transaction(self.db, session) as s:
            try:
                return write_graph(s, graph)
            except IntegrityError as exc:
                raise ConflictError(f"The graph could not be saved: {exc.orig}.") from None

    def create_from_graph(self, graph: WorkflowGraph, *, session: Session | None = None) -> WorkflowGraph:
        """Insert a new workflow with its nodes and connections (import); returns it with ids."""
        with transaction(self.db, session) as s:
            return insert_graph(s, graph)

    @staticmethod
    def _touch(session: Session, workflow_id: int) -> None:
        session.execute(update(WorkflowRow).where(WorkflowRow.id == workflow_id).values(updated_at=utcnow()))
