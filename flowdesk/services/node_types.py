"""Custom node types: registered beside the built-in NodeType values, checked when nodes are stored."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from flowdesk.domain.enums import BUILTIN_NODE_TYPES
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.execution_handlers import WORKFLOW_PREFIX, normalise_handler, parsed_handler
from flowdesk.domain.models import WorkflowGraph
from flowdesk.domain.node_descriptors import (
    BUILTIN_DESCRIPTORS,
    NodeTypeDescriptor,
    config_schema_problem,
    describe_custom,
)
from flowdesk.store import Database
from flowdesk.store.audit_trail import AuditAction, record_audit
from flowdesk.store.plain_reads import node_type_rows
from flowdesk.store.tables import ApiRow, NodeRow, NodeTypeRow, WorkflowRow, utcnow

from .transaction import transaction


class NodeTypeDefinition(BaseModel):
    """A registered custom node type (row of node_types)."""

    id: int | None = None
    type_name: str
    description: str = ""
    config_schema: dict[str, Any] = Field(default_factory=dict)
    execution_handler: str | None = None  # e.g. "package.module:function", resolved by the engine's plugins
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def descriptor(self) -> NodeTypeDescriptor:
        """This type described like the built-ins (what validation, the inspector and the palette read)."""
        return describe_custom(self.type_name, self.description, self.config_schema, self.execution_handler)


def known_node_types(session: Session) -> dict[str, NodeTypeDescriptor]:
    """Built-in node types plus every registered custom type, each with its descriptor."""
    known = dict(BUILTIN_DESCRIPTORS)
    for row in node_type_rows(session):
        known[row.type_name] = _from_row(row).descriptor()
    return known


def check_node_type(node_type: str, known: Collection[str], *, node: str | None = None) -> None:
    """Raise InvalidInputError with a suggestion when `node_type` is neither built in nor registered."""
    if node_type in known:
        return
    close = difflib.get_close_matches(str(node_type), sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else f" (known types: {', '.join(sorted(known))})"
    where = f"Node '{node}': " if node else ""
    raise InvalidInputError(f"{where}'{node_type}' is not a node type{hint}.")


def _from_row(row: Any) -> NodeTypeDefinition:
    """The definition of a node_types row (an ORM object or a Core row: the same attributes)."""
    return NodeTypeDefinition(
        id=row.id,
        type_name=row.type_name,
        description=row.description or "",
        config_schema=row.config_schema or {},
        execution_handler=row.execution_handler,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class NodeTypeService:
    """Registers, lists and removes custom node types."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def register_node_type(
        self,
        type_name: str,
        description: str = "",
        config_schema: dict[str, Any] | None = None,
        execution_handler: str | None = None,
    ) -> NodeTypeDefinition:
        """Add a custom node type, or update it when one of that name is registered already.
        `execution_handler` (the seed's signature; `check_registration` and `register_node_types` also
        take the file form `{"api": NAME}`): `package.module:function`, `api:NAME`, a handler
        name, or nothing (domain/execution_handlers.py); whether it can be found is checked when a
        node of the type would run, so a type can be stored before its handler exists."""
        body = {
            "type_name": type_name,
            "description": description,
            "config_schema": config_schema,
            "execution_handler": execution_handler,
        }
        return self.register_node_types([body])[0][0]

    def check_registration(
        self,
        type_name: str,
        description: str = "",
        config_schema: dict[str, Any] | None = None,
        execution_handler: str | Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The registration body as it is stored; InvalidInputError / ConflictError (one sentence)
        when it cannot be."""
        type_name = (type_name or "").strip()
        if not type_name:
            raise InvalidInputError("A node type needs a name.")
        if type_name in BUILTIN_NODE_TYPES:
            raise ConflictError(f"'{type_name}' is a built-in node type and cannot be registered again.")
        wrong = config_schema_problem(config_schema)
        if wrong is not None:
            raise InvalidInputError(f"Node type '{type_name}': {wrong}.")
        try:
            handler = normalise_handler(execution_handler)
        except ValueError as exc:
            raise InvalidInputError(f"Node type '{type_name}': {exc}.") from None
        return {
            "type_name": type_name,
            "description": description or "",
            "config_schema": dict(config_schema or {}),
            "execution_handler": handler,
        }

    def register_node_types(
        self, bodies: list[dict[str, Any]], *, session: Session | None = None
    ) -> list[tuple[NodeTypeDefinition, bool]]:
        """Register (or update) several types in one transaction (the caller's `session` when
        given): all or none. Returns each stored definition with whether it was created."""
        checked = [self.check_registration(**body) for body in bodies]
        now = utcnow()
        done: list[tuple[NodeTypeDefinition, bool]] = []
        with transaction(self.db, session) as session:
            for body in checked:
                type_name = body["type_name"]
                row = session.scalar(select(NodeTypeRow).where(NodeTypeRow.type_name == type_name))
                if row is None:
                    row = NodeTypeRow(type_name=type_name, created_at=now)
                    session.add(row)
                    action: AuditAction = "create"
                else:
                    action = "update"
                row.description = body["description"]
                row.config_schema = body["config_schema"]
                row.execution_handler = body["execution_handler"]
                row.updated_at = now
                session.flush()
                verb = "Registered" if action == "create" else "Updated"
                record_audit(session, "node_type", row.id, action, f"{verb} node type '{type_name}'.")
                done.append((_from_row(row), action == "create"))
        return done

    def list_node_types(self) -> list[NodeTypeDefinition]:
        """Every registered custom node type, by name (built-ins are NodeType's members)."""
        with self.db.session(read_only=True) as session:
            return [
                _from_row(r) for r in session.scalars(select(NodeTypeRow).order_by(NodeTypeRow.type_name))
            ]

    def get_node_type(self, type_name: str) -> NodeTypeDefinition:
        """One registered custom node type by name."""
        with self.db.session(read_only=True) as session:
            row = session.scalar(select(NodeTypeRow).where(NodeTypeRow.type_name == type_name))
            if row is None:
                raise NotFoundError(f"No custom node type is named '{type_name}'.")
            return _from_row(row)

    def delete_node_type(self, type_name: str) -> None:
        """Remove a custom node type; refused while any node uses it."""
        with self.db.session() as session:
            row = session.scalar(select(NodeTypeRow).where(NodeTypeRow.type_name == type_name))
            if row is None:
                raise NotFoundError(f"No custom node type is named '{type_name}'.")
            used = session.scalar(
                select(func.count()).select_from(NodeRow).where(NodeRow.node_type == type_name)
            )
            if used:
                raise ConflictError(
                    f"Node type '{type_name}' is used by {used} node(s) and cannot be removed."
                )
            session.execute(delete(NodeTypeRow).where(NodeTypeRow.id == row.id))
            record_audit(session, "node_type", row.id, "delete", f"Removed node type '{type_name}'.")

    def carry_in(self, bodies: list[dict[str, Any]], *, session: Session) -> list[str]:
        """Register the custom types a workflow file carries (`node_types`), in the import's
        transaction. A type registered here already with the same `config_schema` and
        `execution_handler` is reused as it is (its description too); one registered with a different
        schema or handler refuses the import with ConflictError (one sentence naming the type and
        what differs): the file's nodes were made for the other registration. Returns the names
        registered."""
        new: list[dict[str, Any]] = []
        stored = stored_descriptors(session, [b["type_name"] for b in bodies])
        for body in bodies:
            checked = self.check_registration(**body)
            name = checked["type_name"]
            here = stored.get(name)
            if here is None:
                new.append(
                    {
                        **checked,
                        "config_schema": _no_secret_defaults(checked["config_schema"], masked_only=True),
                    }
                )
                continue
            carried = describe_custom(name, "", checked["config_schema"], checked["execution_handler"])
            differs = [
                what
                for what, mine, theirs in (
                    (
                        "config_schema",
                        _no_secret_defaults(here.config_schema),
                        _no_secret_defaults(carried.config_schema),
                    ),
                    ("execution_handler", _by_name(session, here.handler), carried.handler or None),
                )
                if mine != theirs
            ]
            if differs:
                raise ConflictError(
                    f"The file's node type '{name}' differs from the one registered here (its "
                    f"{' and '.join(differs)}); register the file's version under another name, or "
                    "make the two the same, before importing."
                )
        self.register_node_types(new, session=session)
        return [b["type_name"] for b in new]

    def follow_renames(self, names: Collection[str], renamed: Mapping[str, str], *, session: Session) -> None:
        """Point the `workflow:NAME` handlers of the types `names` (those an import registered) at the
        names their carried workflows were stored under (`NAME (copy)` when NAME was taken)."""
        if not renamed:
            return
        updated = []
        rows = session.scalars(select(NodeTypeRow).where(NodeTypeRow.type_name.in_(sorted(names))))
        for row in rows:
            ref = parsed_handler(row.execution_handler)
            if ref is not None and ref.kind == "workflow" and ref.target in renamed:
                updated.append(
                    {
                        "type_name": row.type_name,
                        "description": row.description or "",
                        "config_schema": dict(row.config_schema or {}),
                        "execution_handler": WORKFLOW_PREFIX + renamed[ref.target],
                    }
                )
        if updated:
            self.register_node_types(updated, session=session)

    def registrations_used(self, graphs: Iterable[WorkflowGraph]) -> list[dict[str, Any]]:
        """The registrations (the seed's body) of the custom types the nodes of `graphs` use, by name:
        what an export carries as `node_types`. Types registered only in Python are not among them."""
        names = {str(n.node_type) for g in graphs for n in g.nodes} - set(BUILTIN_NODE_TYPES)
        if not names:
            return []
        t = NodeTypeRow.__table__.c
        query = select(t.type_name, t.description, t.config_schema, t.execution_handler)
        with self.db.session(read_only=True) as session:
            rows = session.execute(query.where(t.type_name.in_(sorted(names))).order_by(t.type_name))
            return [
                {
                    "type_name": name,
                    "description": description or "",
                    "config_schema": schema or {},
                    "execution_handler": handler,
                }
                for name, description, schema, handler in rows
            ]

    def known_types(self) -> dict[str, NodeTypeDescriptor]:
        """Built-in plus registered types by name, with their descriptors (what validation's
        `node_types` expects: the custom types' config schemas are then enforced)."""
        with transaction(self.db, read_only=True) as session:
            return known_node_types(session)


def _by_name(session: Session, handler: str | None) -> str | None:
    """A stored handler as a file writes it: `workflow:ID` naming a stored workflow becomes
    `workflow:NAME` (an export writes it so), any other as it is."""
    ref = parsed_handler(handler)
    if ref is not None and ref.kind == "workflow" and ref.target.isdigit():
        row = session.get(WorkflowRow, int(ref.target))
        if row is not None:
            return WORKFLOW_PREFIX + row.name
    return handler or None


def _no_secret_defaults(schema: Any, *, masked_only: bool = False) -> Any:
    """`schema` without the `default` of its `x-secret` fields (nested ones too): an export writes
    them as *** (interchange/credential_redaction.py), so they neither make two registrations differ
    nor are stored as a default (`masked_only`: only the *** ones are dropped)."""
    if not isinstance(schema, Mapping):
        return schema
    out = dict(schema)
    properties = out.get("properties")
    if isinstance(properties, Mapping):
        fields = {}
        for key, field in properties.items():
            field = _no_secret_defaults(field, masked_only=masked_only)
            if isinstance(field, dict) and field.get("x-secret") and "default" in field:
                if not masked_only or field["default"] == "***":
                    field = {k: v for k, v in field.items() if k != "default"}
            fields[key] = field
        out["properties"] = fields
    return out


def stored_descriptors(
    session: Session, names: Collection[str] | None = None
) -> dict[str, NodeTypeDescriptor]:
    """The descriptors of the custom types registered in this database (those of `names` only when
    given), their `handler` being the stored execution_handler. Read as plain rows (no ORM objects):
    the engine asks before every run of a graph with custom types."""
    t = NodeTypeRow.__table__.c
    query = select(t.type_name, t.description, t.config_schema, t.execution_handler)
    if names is not None:
        query = query.where(t.type_name.in_(sorted(names)))
    return {
        name: describe_custom(name, description or "", schema or {}, handler)
        for name, description, schema, handler in session.execute(query)
    }


def api_ids_by_name(session: Session, names: Collection[str]) -> dict[str, tuple[int, ...]]:
    """The ids of the API definitions of each of `names` (the `api:NAME` handlers name them)."""
    found: dict[str, list[int]] = {}
    if names:
        query = select(ApiRow.id, ApiRow.name).where(ApiRow.name.in_(sorted(names))).order_by(ApiRow.id)
        for api_id, name in session.execute(query):
            found.setdefault(name, []).append(api_id)
    return {name: tuple(ids) for name, ids in found.items()}


def workflow_ids_by_reference(session: Session, references: Collection[str]) -> dict[str, tuple[int, ...]]:
    """The ids of the stored workflows each of `references` names (the `workflow:NAME` handlers), as
    `WorkflowService.find_workflow` reads a reference: digits naming an existing id, else a name."""
    found: dict[str, tuple[int, ...]] = {}
    names = set()
    for reference in references:
        if reference.isdigit() and session.get(WorkflowRow, int(reference)) is not None:
            found[reference] = (int(reference),)
        else:
            names.add(reference)
    if names:
        by_name: dict[str, list[int]] = {}
        query = select(WorkflowRow.id, WorkflowRow.name).where(WorkflowRow.name.in_(sorted(names)))
        for workflow_id, name in session.execute(query.order_by(WorkflowRow.id)):
            by_name.setdefault(name, []).append(workflow_id)
        found.update({name: tuple(ids) for name, ids in by_name.items()})
    return found
