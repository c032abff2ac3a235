"""Whole graphs in the store: a workflow's row with its nodes and connections, read and written in
the caller's session (one transaction), the way the editor saves and an import creates them.

Checking a graph (names, node types, connection ends) is the services' part (services/workflows.py),
and so are the audit rows; this module writes only rows, touching as few as it can, and knows how
each backend takes them (store/bulk.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, update
from sqlalchemy.orm import Session

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.models import Connection, Node, WorkflowGraph

from .bulk import datetime_decoder, encode_rows, insert_rows, read_raw, read_rows, update_changed, update_rows
from .mapping import (
    CONNECTION_COLUMNS,
    NODE_COLUMNS,
    NODE_FIELDS,
    connections_from_tuples,
    node_values,
    nodes_from_tuples,
    with_changes,
    workflow_from_row,
    workflow_values,
)
from .plain_reads import workflow_row
from .tables import ConnectionRow, NodeRow, WorkflowRow, get_row, utcnow

NODES: Table = NodeRow.__table__  # type: ignore[assignment]
CONNECTIONS: Table = ConnectionRow.__table__  # type: ignore[assignment]
_CHUNK = 500  # ids per IN (...) list


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_CONNECTION_TYPES = {t.value: t for t in ConnectionType}
_TYPE_TEXT = {t: t.value for t in ConnectionType}  # enum .value is a slow descriptor on 3.11


def parse_connection_type(value: Any) -> ConnectionType:
    """A connection type from its enum or its text; InvalidInputError naming the known ones otherwise."""
    if isinstance(value, ConnectionType):
        return value
    found = _CONNECTION_TYPES.get(value)
    if found is None:
        known = ", ".join(_CONNECTION_TYPES)
        raise InvalidInputError(f"'{value}' is not a connection type (known types: {known}).")
    return found


def get_workflow_row(session: Session, workflow_id: int) -> WorkflowRow:
    """The workflow's row, or NotFoundError."""
    return get_row(session, WorkflowRow, workflow_id, "Workflow")


def read_graph(session: Session, workflow_id: int) -> WorkflowGraph:
    """The whole graph of one workflow: nodes in id order, connections in their drawn order."""
    workflow = workflow_from_row(workflow_row(session, workflow_id))
    conn = session.connection()
    nodes = nodes_from_tuples(read_rows(conn, NODES, NODE_COLUMNS, "workflow_id", workflow_id, ["id"]))
    names: dict[int, str] = {n.id: n.name for n in nodes}  # type: ignore[misc]
    connections = connections_from_tuples(
        read_rows(conn, CONNECTIONS, CONNECTION_COLUMNS, "workflow_id", workflow_id, ["seq", "id"]), names
    )
    return WorkflowGraph.model_construct(workflow=workflow, nodes=nodes, connections=connections)


_CONNECTION_STORED = ("from_node_id", "to_node_id", "connection_type", "condition", "config", "seq")


def _connection_rows(
    workflow_id: int, connections: Sequence[Connection], ids: dict[str, int], now: Any
) -> list[dict[str, Any]]:
    return [
        {
            "workflow_id": workflow_id,
            "from_node_id": ids[c.from_node],
            "to_node_id": ids[c.to_node],
            "connection_type": _TYPE_TEXT[parse_connection_type(c.connection_type)],
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


def insert_graph(session: Session, graph: WorkflowGraph) -> WorkflowGraph:
    """Insert a new workflow with its nodes and connections (ids in `graph` are ignored); the graph
    with its ids and times. The caller has checked it (names, node types, connection ends)."""
    now = utcnow()
    values = workflow_values(graph.workflow)
    workflow_id = session.execute(
        insert(WorkflowRow).values(**values, created_at=now, updated_at=now).returning(WorkflowRow.id)
    ).scalar_one()
    nodes = _insert_nodes(session, workflow_id, graph.nodes, now)
    ids = {n.name: n.id for n in nodes}
    connections = _insert_connections(session, workflow_id, graph.connections, ids, now)  # type: ignore[arg-type]
    workflow = graph.workflow.model_copy(update={"id": workflow_id, "created_at": now, "updated_at": now})
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


@dataclass(frozen=True)
class SavedGraph:
    """What `write_graph` stored, and how many nodes it added, removed and changed."""

    graph: WorkflowGraph
    added: int
    removed: int
    changed: int


def write_graph(session: Session, workflow_id: int, graph: WorkflowGraph, created_at: Any) -> SavedGraph:
    """Replace a stored workflow's graph: nodes matched by id (kept, so run history keeps pointing at
    them), new nodes (id None) inserted, missing ones deleted, connections stored in the given order.
    The graph it returns is what read_graph will read: nodes in id order, connections in the given
    order. The caller has checked the graph and that the workflow (created at `created_at`) exists.

    Only rows that really change are written: a save after moving three nodes of two thousand
    updates three rows and leaves the connections alone (compared on their stored encoding)."""
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
    saved = WorkflowGraph.model_construct(workflow=workflow, nodes=nodes, connections=connections)
    return SavedGraph(saved, added=len(new_nodes), removed=len(removed), changed=len(changed))
