"""Workflow versions: full snapshots in the workflow file format, diffs between them, restore.

A snapshot is a plain dict shaped like the file format without `apis` (nodes refer to each other by
name; API_CALL nodes keep their library `api_id`):
`{"flowdesk": 1, "workflow": {...}, "nodes": [...], "connections": [{"from", "to", ...}]}`.
The interchange writer produces the same shape, so either side can restore the other's documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.store import Database
from flowdesk.store.audit_trail import record_audit
from flowdesk.store.tables import VersionRow, get_row, utcnow

from .workflows import get_workflow_row, read_graph, write_graph

FORMAT_VERSION = 1
_WORKFLOW_KEYS = ("name", "description", "version", "config", "tags", "is_active")
_NODE_KEYS = ("node_type", "config", "position_x", "position_y", "description")
_CONNECTION_KEYS = ("condition", "config")


def graph_to_document(graph: WorkflowGraph) -> dict[str, Any]:
    """The file-format document of a graph (no ids, no timestamps, no apis)."""
    wf = graph.workflow
    return {
        "flowdesk": FORMAT_VERSION,
        "workflow": {
            "name": wf.name,
            "description": wf.description,
            "version": wf.version,
            "config": dict(wf.config),
            "tags": list(wf.tags),
            "is_active": bool(wf.is_active),
        },
        "nodes": [
            {
                "name": n.name,
                "node_type": str(n.node_type),
                "config": dict(n.config),
                "position_x": n.position_x,
                "position_y": n.position_y,
                "description": n.description,
            }
            for n in graph.nodes
        ],
        "connections": [
            {
                "from": c.from_node,
                "to": c.to_node,
                "connection_type": str(c.connection_type),
                "condition": c.condition,
                "config": dict(c.config),
            }
            for c in graph.connections
        ],
    }


def document_to_graph(document: dict[str, Any], workflow_id: int | None = None) -> WorkflowGraph:
    """A graph (without node ids) from a file-format document."""
    try:
        if int(document.get("flowdesk", FORMAT_VERSION)) > FORMAT_VERSION:
            raise InvalidInputError(
                f"This snapshot uses format version {document['flowdesk']}; this flowdesk knows up to {FORMAT_VERSION}."
            )
        wf = document["workflow"]
        workflow = Workflow(id=workflow_id, **{k: wf[k] for k in _WORKFLOW_KEYS if k in wf})
        nodes = [Node(**n) for n in document.get("nodes", [])]
        connections = [
            Connection(
                from_node=c["from"],
                to_node=c["to"],
                connection_type=c.get("connection_type", "SEQUENCE"),
                condition=c.get("condition"),
                config=c.get("config") or {},
            )
            for c in document.get("connections", [])
        ]
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"The snapshot is not a workflow document: {exc}.") from None
    return WorkflowGraph(workflow=workflow, nodes=nodes, connections=connections)


class WorkflowVersion(BaseModel):
    """A saved snapshot of a workflow (`snapshot` is left out by list_versions)."""

    id: int
    workflow_id: int
    number: int
    label: str
    note: str = ""
    created_at: datetime
    snapshot: dict[str, Any] | None = None


class FieldChange(BaseModel):
    """One field that differs: `config.<key>` for a changed config entry."""

    field: str
    before: Any = None
    after: Any = None


class NodeDiff(BaseModel):
    """A node present in both versions whose fields differ."""

    name: str
    changes: list[FieldChange]


class ConnectionRef(BaseModel):
    """A connection's identity in a diff: source, target and type."""

    from_node: str
    to_node: str
    connection_type: str

    def __str__(self) -> str:
        return f"{self.from_node} -> {self.to_node} ({self.connection_type})"


class ConnectionDiff(ConnectionRef):
    """A connection present in both versions whose condition or config differs."""

    changes: list[FieldChange]


class VersionDiff(BaseModel):
    """What changed from one version (`from_*`) to another (`to_*`)."""

    from_version_id: int | None = None
    to_version_id: int | None = None
    from_label: str = ""
    to_label: str = ""
    workflow_changes: list[FieldChange] = Field(default_factory=list)
    nodes_added: list[str] = Field(default_factory=list)
    nodes_removed: list[str] = Field(default_factory=list)
    nodes_changed: list[NodeDiff] = Field(default_factory=list)
    connections_added: list[ConnectionRef] = Field(default_factory=list)
    connections_removed: list[ConnectionRef] = Field(default_factory=list)
    connections_changed: list[ConnectionDiff] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.workflow_changes
            or self.nodes_added
            or self.nodes_removed
            or self.nodes_changed
            or self.connections_added
            or self.connections_removed
            or self.connections_changed
        )

    def summary(self) -> str:
        """One line a person reads, e.g. "2 nodes added, 1 changed; 1 connection removed"."""
        if self.is_empty:
            return "No differences."
        parts = []
        if self.workflow_changes:
            parts.append("workflow " + ", ".join(c.field for c in self.workflow_changes) + " changed")
        for what, added, removed, changed in (
            ("node", self.nodes_added, self.nodes_removed, self.nodes_changed),
            ("connection", self.connections_added, self.connections_removed, self.connections_changed),
        ):
            bits = [
                f"{len(v)} {k}"
                for k, v in (("added", added), ("removed", removed), ("changed", changed))
                if v
            ]
            if bits:
                parts.append(f"{what}s: " + ", ".join(bits))
        return "; ".join(parts) + "."


def _field_changes(before: dict[str, Any], after: dict[str, Any], keys: tuple[str, ...]) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if key == "config" and isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new), key=str):
                if old.get(sub) != new.get(sub) or (sub in old) != (sub in new):
                    changes.append(
                        FieldChange(field=f"config.{sub}", before=old.get(sub), after=new.get(sub))
                    )
        elif old != new:
            changes.append(FieldChange(field=key, before=old, after=new))
    return changes


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> VersionDiff:
    """Compare two workflow documents: nodes by name, connections by (from, to, type)."""
    diff = VersionDiff(
        workflow_changes=_field_changes(before.get("workflow", {}), after.get("workflow", {}), _WORKFLOW_KEYS)
    )
    old_nodes = {n["name"]: n for n in before.get("nodes", [])}
    new_nodes = {n["name"]: n for n in after.get("nodes", [])}
    diff.nodes_added = [name for name in new_nodes if name not in old_nodes]
    diff.nodes_removed = [name for name in old_nodes if name not in new_nodes]
    for name, node in new_nodes.items():
        if name in old_nodes:
            changes = _field_changes(old_nodes[name], node, _NODE_KEYS)
            if changes:
                diff.nodes_changed.append(NodeDiff(name=name, changes=changes))

    def keyed(doc: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        for c in doc.get("connections", []):
            out.setdefault((c["from"], c["to"], c.get("connection_type", "SEQUENCE")), c)
        return out

    old_conns, new_conns = keyed(before), keyed(after)
    diff.connections_added = [
        ConnectionRef(from_node=f, to_node=t, connection_type=k)
        for f, t, k in new_conns
        if (f, t, k) not in old_conns
    ]
    diff.connections_removed = [
        ConnectionRef(from_node=f, to_node=t, connection_type=k)
        for f, t, k in old_conns
        if (f, t, k) not in new_conns
    ]
    for key, conn in new_conns.items():
        if key in old_conns:
            changes = _field_changes(old_conns[key], conn, _CONNECTION_KEYS)
            if changes:
                f, t, k = key
                diff.connections_changed.append(
                    ConnectionDiff(from_node=f, to_node=t, connection_type=k, changes=changes)
                )
    return diff


def _version_row(session: Session, version_id: int) -> VersionRow:
    return get_row(session, VersionRow, version_id, "Version")


def _to_model(row: VersionRow, with_snapshot: bool = True) -> WorkflowVersion:
    return WorkflowVersion(
        id=row.id,
        workflow_id=row.workflow_id,
        number=row.number,
        label=row.label,
        note=row.note or "",
        created_at=row.created_at,
        snapshot=row.snapshot if with_snapshot else None,
    )


def insert_version(
    session: Session, workflow_id: int, label: str | None, note: str, document: dict[str, Any]
) -> VersionRow:
    """Store a snapshot as the workflow's next version (label defaults to its version string, else v<N>)."""
    number = (
        int(
            session.scalar(
                select(func.coalesce(func.max(VersionRow.number), 0)).where(
                    VersionRow.workflow_id == workflow_id
                )
            )
            or 0
        )
        + 1
    )
    if not label:
        candidate = str(document["workflow"].get("version") or "")
        used = session.scalar(
            select(VersionRow.id)
            .where(VersionRow.workflow_id == workflow_id, VersionRow.label == candidate)
            .limit(1)
        )
        label = candidate if candidate and used is None else f"v{number}"
    version_id = session.execute(
        insert(VersionRow)
        .values(
            workflow_id=workflow_id,
            number=number,
            label=label,
            note=note or "",
            snapshot=document,
            created_at=utcnow(),
        )
        .returning(VersionRow.id)
    ).scalar_one()
    record_audit(
        session,
        "version",
        version_id,
        "create",
        f"Saved version '{label}' (#{number}) of workflow {workflow_id}.",
    )
    return _version_row(session, version_id)


class VersionService:
    """Save, list, diff and restore workflow snapshots."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save_version(self, workflow_id: int, label: str | None = None, note: str = "") -> WorkflowVersion:
        """Snapshot the workflow as it is stored now."""
        with self.db.session() as session:
            document = graph_to_document(read_graph(session, workflow_id))
            return _to_model(insert_version(session, workflow_id, label, note, document))

    def list_versions(self, workflow_id: int) -> list[WorkflowVersion]:
        """A workflow's versions, oldest first, without their snapshots."""
        with self.db.session(read_only=True) as session:
            get_workflow_row(session, workflow_id)
            rows = session.scalars(
                select(VersionRow).where(VersionRow.workflow_id == workflow_id).order_by(VersionRow.number)
            )
            return [_to_model(r, with_snapshot=False) for r in rows]

    def get_version(self, version_id: int) -> WorkflowVersion:
        """One version with its snapshot."""
        with self.db.session(read_only=True) as session:
            return _to_model(_version_row(session, version_id))

    def diff_versions(self, a_id: int, b_id: int) -> VersionDiff:
        """What changed from version `a_id` to version `b_id`."""
        with self.db.session(read_only=True) as session:
            a, b = _version_row(session, a_id), _version_row(session, b_id)
            diff = diff_documents(a.snapshot, b.snapshot)
            diff.from_version_id, diff.to_version_id, diff.from_label, diff.to_label = (
                a.id,
                b.id,
                a.label,
                b.label,
            )
            return diff

    def diff_with_current(self, version_id: int) -> VersionDiff:
        """What changed from a version to the workflow as stored now."""
        with self.db.session(read_only=True) as session:
            row = _version_row(session, version_id)
            diff = diff_documents(row.snapshot, graph_to_document(read_graph(session, row.workflow_id)))
            diff.from_version_id, diff.from_label, diff.to_label = row.id, row.label, "current"
            return diff

    def restore_version(self, version_id: int) -> WorkflowGraph:
        """Make the workflow what the version was, in one transaction.

        Nothing is lost: if the current state differs from the latest version it is saved first as
        "before restoring <label>", and the restored state is recorded as "restored from <label>".
        Nodes keep their ids where their names match, so run history keeps pointing at them.
        """
        with self.db.session() as session:
            row = _version_row(session, version_id)
            workflow_id, label = row.workflow_id, row.label
            return replace_as_version(
                session,
                workflow_id,
                document_to_graph(row.snapshot, workflow_id),
                before=(f"before restoring {label}", "Saved automatically before a restore."),
                after=f"restored from {label}",
                summary=f"Restored workflow {workflow_id} to version '{label}'.",
            )


def replace_as_version(
    session: Session,
    workflow_id: int,
    target: WorkflowGraph,
    *,
    before: tuple[str, str],
    after: str,
    summary: str,
) -> WorkflowGraph:
    """Make a stored workflow `target` (a restore, or a file replacing it) without losing anything:
    the current state is saved first as version `before` (label, note) unless the latest version
    already holds it, and the new state is recorded as version `after`. Nodes keep their ids where
    their names match, so run history keeps pointing at them."""
    current = read_graph(session, workflow_id)
    current_doc = graph_to_document(current)
    latest = session.scalar(
        select(VersionRow.snapshot)
        .where(VersionRow.workflow_id == workflow_id)
        .order_by(VersionRow.number.desc())
        .limit(1)
    )
    if latest != current_doc:
        insert_version(session, workflow_id, before[0], before[1], current_doc)
    ids = {n.name: n.id for n in current.nodes}
    workflow = target.workflow.model_copy(
        update={"id": workflow_id, "created_at": current.workflow.created_at}
    )
    target = target.model_copy(
        update={
            "workflow": workflow,
            "nodes": [n.model_copy(update={"id": ids.get(n.name)}) for n in target.nodes],
        }
    )
    replaced = write_graph(session, target, summary=summary)
    insert_version(session, workflow_id, after, "", graph_to_document(replaced))
    return replaced
