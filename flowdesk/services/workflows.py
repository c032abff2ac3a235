"""Workflow use cases: workflows, their nodes and connections, and whole graphs (editor save/load, import).

Every public method is one transaction and every write adds one audit row. Methods that take
`session=` join the caller's transaction instead (import creates APIs and a graph all or nothing).

Workflow names need not be unique (two teams may both have "Sync users"); `find_workflow` reports an
ambiguous name with the ids to choose from. Node names are unique within a workflow: expressions
refer to nodes by name.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flowdesk.domain.enums import ConnectionType, NodeType, WorkflowStatus
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.bulk import (
    datetime_decoder,
    encode_rows,
    insert_rows,
    read_raw,
    read_rows,
    update_changed,
    update_rows,
)
from flowdesk.store.mapping import (
    CONNECTION_COLUMNS,
    NODE_COLUMNS,
    NODE_FIELDS,
    WORKFLOW_FIELDS,
    connection_from_row,
    connections_from_tuples,
    node_from_row,
    node_values,
    nodes_from_tuples,
    with_changes,
    workflow_from_row,
    workflow_values,
)
from flowdesk.store.tables import ConnectionRow, NodeRow, WorkflowRow, utcnow

from .node_types import check_node_type, known_node_types
from .transaction import transaction

NODES: Table = NodeRow.__table__  # type: ignore[assignment]
CONNECTIONS: Table = ConnectionRow.__table__  # type: ignore[assignment]
_CHUNK = 500  # ids per IN (...) list


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _validation_sentence(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "value"
    return f"{field}: {first.get('msg', 'invalid value')}"


_CONNECTION_TYPES = {t.value: t for t in ConnectionType}
_TYPE_TEXT = {t: t.value for t in ConnectionType}  # enum .value is a slow descriptor on 3.11


def _connection_type(value: Any) -> ConnectionType:
    if isinstance(value, ConnectionType):
        return value
    found = _CONNECTION_TYPES.get(value)
    if found is None:
        known = ", ".join(_CONNECTION_TYPES)
        raise InvalidInputError(f"'{value}' is not a connection type (known types: {known}).")
    return found


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"A {what} needs a name.")
    return name


# -- reading and writing inside a session (shared by the services) -----------------------------------


def get_workflow_row(session: Session, workflow_id: int) -> WorkflowRow:
    """The workflow's row, or NotFoundError."""
    row = session.get(WorkflowRow, workflow_id)
    if row is None:
        raise NotFoundError(f"Workflow {workflow_id} does not exist.")
    return row


def read_graph(session: Session, workflow_id: int) -> WorkflowGraph:
    """The whole graph of one workflow: nodes in id order, connections in their drawn order."""
    workflow = workflow_from_row(get_workflow_row(session, workflow_id))
    conn = session.connection()
    nodes = nodes_from_tuples(read_rows(conn, NODES, NODE_COLUMNS, "workflow_id", workflow_id, ["id"]))
    names: dict[int, str] = {n.id: n.name for n in nodes}  # type: ignore[misc]
    connections = connections_from_tuples(
        read_rows(conn, CONNECTIONS, CONNECTION_COLUMNS, "workflow_id", workflow_id, ["seq", "id"]), names
    )
    return WorkflowGraph.model_construct(workflow=workflow, nodes=nodes, connections=connections)


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
        _connection_type(conn.connection_type)


_CONNECTION_STORED = ("from_node_id", "to_node_id", "connection_type", "condition", "config", "seq")


def _connection_rows(
    workflow_id: int, connections: Sequence[Connection], ids: dict[str, int], now: Any
) -> list[dict[str, Any]]:
    return [
        {
            "workflow_id": workflow_id,
            "from_node_id": ids[c.from_node],
            "to_node_id": ids[c.to_node],
            "connection_type": _TYPE_TEXT[_connection_type(c.connection_type)],
            "condition": c.condition,
            "config": c.config,
            "seq": seq,
            "created_at": c.created_at or now,
        }
        for seq, c in enumerate(connections)
    ]


def _stored_connections(
    connections: Sequence[Connection],
    rows: Sequence[dict[str, Any]],
    ids: Sequence[int],
    created: Sequence[Any],
) -> list[Connection]:
    return [
        with_changes(
            c,
            id=cid,
            workflow_id=row["workflow_id"],
            from_node_id=row["from_node_id"],
            to_node_id=row["to_node_id"],
            connection_type=_CONNECTION_TYPES[row["connection_type"]],
            created_at=at,
        )
        for c, row, cid, at in zip(connections, rows, ids, created, strict=True)
    ]


def _insert_connections(
    session: Session, workflow_id: int, connections: Sequence[Connection], ids: dict[str, int], now: Any
) -> list[Connection]:
    if not connections:
        return []
    rows = _connection_rows(workflow_id, connections, ids, now)
    new_ids = insert_rows(session.connection(), CONNECTIONS, rows)
    return _stored_connections(connections, rows, new_ids, [r["created_at"] for r in rows])


def _insert_nodes(session: Session, workflow_id: int, nodes: Sequence[Node], now: Any) -> list[Node]:
    if not nodes:
        return []
    rows = [{**node_values(n), "workflow_id": workflow_id, "created_at": now} for n in nodes]
    new_ids = insert_rows(session.connection(), NODES, rows)
    return [
        with_changes(n, id=nid, workflow_id=workflow_id, created_at=now)
        for n, nid in zip(nodes, new_ids, strict=True)
    ]


def insert_graph(session: Session, graph: WorkflowGraph, *, summary: str | None = None) -> WorkflowGraph:
    """Insert a new workflow with its nodes and connections; ids in `graph` are ignored."""
    _check_graph(graph, known_node_types(session))
    now = utcnow()
    values = workflow_values(graph.workflow)
    workflow_id = session.execute(
        insert(WorkflowRow).values(**values, created_at=now, updated_at=now).returning(WorkflowRow.id)
    ).scalar_one()
    nodes = _insert_nodes(session, workflow_id, graph.nodes, now)
    ids = {n.name: n.id for n in nodes}
    connections = _insert_connections(session, workflow_id, graph.connections, ids, now)  # type: ignore[arg-type]
    workflow = graph.workflow.model_copy(update={"id": workflow_id, "created_at": now, "updated_at": now})
    record_audit(
        session,
        "workflow",
        workflow_id,
        "create",
        summary
        or f"Created workflow '{workflow.name}' with {len(nodes)} nodes and {len(connections)} connections.",
    )
    return WorkflowGraph.model_construct(workflow=workflow, nodes=nodes, connections=connections)


def _write_connections(
    session: Session,
    connections: Sequence[Connection],
    rows: list[dict[str, Any]],
    old: Sequence[Any],
    removed: set[int],
    decode_time: Any,
) -> list[Connection]:
    """Bring the stored connections to `rows` (in order) touching as few rows as possible.

    A connection whose ends, type, condition and config are unchanged keeps its row. `seq` only has
    to order the list, so kept rows keep their seq while their order holds and new rows go after
    them; otherwise everything is renumbered 0..n-1 (one executemany of seq updates).
    """
    conn = session.connection()
    # Rows of removed nodes went with them (cascade); a new node may even have taken such an id.
    survivors = [r for r in old if r[1] not in removed and r[2] not in removed]
    wanted = encode_rows(conn, CONNECTIONS, _CONNECTION_STORED, rows)
    pool: dict[tuple[Any, ...], deque[Any]] = {}
    for r in survivors:
        pool.setdefault(tuple(r[1:6]), deque()).append(r)
    matches = []
    for key in wanted:
        candidates = pool.get(key[:5])
        matches.append(candidates.popleft() if candidates else None)
    stale = [r[0] for leftover in pool.values() for r in leftover]

    kept = [(i, m) for i, m in enumerate(matches) if m is not None]
    kept_seqs = [m[6] for _, m in kept]
    first_new = next((i for i, m in enumerate(matches) if m is None), len(matches))
    in_order = all(a < b for a, b in zip(kept_seqs, kept_seqs[1:], strict=False)) and (
        not kept or first_new > kept[-1][0]
    )
    if in_order:
        base = max((r[6] for r in survivors), default=-1) + 1
        seqs = [m[6] if m is not None else base + i for i, m in enumerate(matches)]
    else:
        seqs = list(range(len(matches)))
    for row, seq in zip(rows, seqs, strict=True):
        row["seq"] = seq

    for chunk in _chunks(stale):
        session.execute(delete(CONNECTIONS).where(CONNECTIONS.c.id.in_(chunk)))
    update_rows(conn, CONNECTIONS, [{"id": m[0], "seq": seqs[i]} for i, m in kept if m[6] != seqs[i]])
    fresh = [i for i, m in enumerate(matches) if m is None]
    fresh_ids = iter(insert_rows(conn, CONNECTIONS, [rows[i] for i in fresh]))
    ids, created = [], []
    for i, m in enumerate(matches):
        if m is None:
            ids.append(next(fresh_ids))
            created.append(rows[i]["created_at"])
        else:
            ids.append(m[0])
            created.append(decode_time(m[-1]))
    return _stored_connections(connections, rows, ids, created)


def write_graph(session: Session, graph: WorkflowGraph, *, summary: str | None = None) -> WorkflowGraph:
    """Replace a stored workflow's graph: nodes matched by id (kept, so run history keeps pointing at
    them), new nodes (id None) inserted, missing ones deleted, connections stored in the given order.
    Returns what load_graph will read: nodes in id order, connections in the given order.

    Only rows that really change are written: a save after moving three nodes of two thousand
    updates three rows and leaves the connections alone (compared on their stored encoding)."""
    workflow_id = graph.workflow.id
    if workflow_id is None:
        raise InvalidInputError("This workflow has not been stored yet (it has no id); create it first.")
    created_at = get_workflow_row(session, workflow_id).created_at
    _check_graph(graph, known_node_types(session))
    now = utcnow()
    session.execute(
        update(WorkflowRow)
        .where(WorkflowRow.id == workflow_id)
        .values(**workflow_values(graph.workflow), updated_at=now)
    )
    conn = session.connection()
    decode_time = datetime_decoder()
    existing = {
        r[0]: r
        for r in read_raw(conn, NODES, ("id", *NODE_FIELDS, "created_at"), "workflow_id", workflow_id, ["id"])
    }
    old_connections = read_raw(
        conn,
        CONNECTIONS,
        ("id", *_CONNECTION_STORED, "created_at"),
        "workflow_id",
        workflow_id,
        ["seq", "id"],
    )
    kept = [n for n in graph.nodes if n.id is not None]
    for node in kept:
        if node.id not in existing:
            raise NotFoundError(f"Node {node.id} ('{node.name}') is not part of workflow {workflow_id}.")
    kept_ids = {n.id for n in kept}
    if len(kept_ids) != len(kept):
        raise ConflictError("The same node id appears twice in the graph.")
    removed = sorted(set(existing) - kept_ids)
    for chunk in _chunks(removed):  # their connections go with them (ON DELETE CASCADE)
        session.execute(delete(NODES).where(NODES.c.id.in_(chunk)))

    width = len(NODE_FIELDS)
    encoded = encode_rows(conn, NODES, NODE_FIELDS, [node_values(n) for n in kept])
    changed = [
        (n, enc) for n, enc in zip(kept, encoded, strict=True) if tuple(existing[n.id][1 : 1 + width]) != enc
    ]
    # A rename may take a name another kept node is giving up in this same save: park renamed nodes
    # on a unique temporary name first so UNIQUE(workflow_id, name) holds after every statement.
    # U+FFFF is a noncharacter no one types (and, unlike NUL, PostgreSQL text can hold it).
    renamed = [n for n, _ in changed if existing[n.id][1] != n.name]
    update_rows(conn, NODES, [{"id": n.id, "name": f"\uffffrenaming {n.id}"} for n in renamed])
    update_changed(conn, NODES, NODE_FIELDS, [(n.id, enc, n) for n, enc in changed], node_values)  # type: ignore[misc]
    new_nodes = _insert_nodes(session, workflow_id, [n for n in graph.nodes if n.id is None], now)
    inserted = iter(new_nodes)
    nodes: list[Node] = []
    for n in graph.nodes:
        if n.id is None:
            nodes.append(next(inserted))
        else:
            nodes.append(with_changes(n, workflow_id=workflow_id, created_at=decode_time(existing[n.id][-1])))

    nodes.sort(key=lambda n: n.id)  # type: ignore[arg-type,return-value]  # stored order, as load_graph reads it
    ids: dict[str, int] = {n.name: n.id for n in nodes}  # type: ignore[misc]
    rows = _connection_rows(workflow_id, graph.connections, ids, now)
    connections = _write_connections(
        session, graph.connections, rows, old_connections, set(removed), decode_time
    )

    workflow = graph.workflow.model_copy(update={"created_at": created_at, "updated_at": now})
    record_audit(
        session,
        "workflow",
        workflow_id,
        "update",
        summary
        or (
            f"Saved workflow '{workflow.name}': {len(nodes)} nodes ({len(new_nodes)} added, {len(removed)} "
            f"removed, {len(changed)} changed), {len(connections)} connections."
        ),
    )
    return WorkflowGraph.model_construct(workflow=workflow, nodes=nodes, connections=connections)


def _node_row(session: Session, node_id: int) -> NodeRow:
    row = session.get(NodeRow, node_id)
    if row is None:
        raise NotFoundError(f"Node {node_id} does not exist.")
    return row


def _connection_row(session: Session, connection_id: int) -> ConnectionRow:
    row = session.get(ConnectionRow, connection_id)
    if row is None:
        raise NotFoundError(f"Connection {connection_id} does not exist.")
    return row


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
            return workflow_from_row(get_workflow_row(session, workflow_id))

    def find_workflow(self, id_or_name: int | str) -> Workflow:
        """A workflow by id (an int, or a string of digits that is an existing id) or else by exact name."""
        with self.db.session(read_only=True) as session:
            if isinstance(id_or_name, int):
                return workflow_from_row(get_workflow_row(session, id_or_name))
            text = str(id_or_name).strip()
            if text.isdigit():
                row = session.get(WorkflowRow, int(text))
                if row is not None:
                    return workflow_from_row(row)
            rows = session.scalars(
                select(WorkflowRow).where(WorkflowRow.name == text).order_by(WorkflowRow.id)
            ).all()
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
        stmt = select(WorkflowRow).order_by(WorkflowRow.id)
        if status is not None:
            stmt = stmt.where(WorkflowRow.is_active == (self._status(status) == WorkflowStatus.ACTIVE))
        with self.db.session(read_only=True) as session:
            workflows = [workflow_from_row(r) for r in session.scalars(stmt)]
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
        ctype = _connection_type(connection_type)
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
            fields["connection_type"] = _connection_type(fields["connection_type"]).value
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
