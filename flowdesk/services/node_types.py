"""Custom node types: registered beside the built-in NodeType values, checked when nodes are stored."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from flowdesk.domain.enums import BUILTIN_NODE_TYPES
from flowdesk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from flowdesk.domain.execution_handlers import normalise_handler
from flowdesk.domain.node_descriptors import (
    BUILTIN_DESCRIPTORS,
    NodeTypeDescriptor,
    config_schema_problem,
    describe_custom,
)
from flowdesk.store import Database
from flowdesk.store.audit_trail import AuditAction, record_audit
from flowdesk.store.plain_reads import node_type_rows
from flowdesk.store.tables import ApiRow, NodeRow, NodeTypeRow, utcnow

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
        self, bodies: list[dict[str, Any]]
    ) -> list[tuple[NodeTypeDefinition, bool]]:
        """Register (or update) several types in one transaction: all or none. Returns each stored
        definition with whether it was created."""
        checked = [self.check_registration(**body) for body in bodies]
        now = utcnow()
        done: list[tuple[NodeTypeDefinition, bool]] = []
        with self.db.session() as session:
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

    def known_types(self) -> dict[str, NodeTypeDescriptor]:
        """Built-in plus registered types by name, with their descriptors (what validation's
        `node_types` expects: the custom types' config schemas are then enforced)."""
        with transaction(self.db, read_only=True) as session:
            return known_node_types(session)


def stored_descriptors(session: Session, names: Collection[str] | None = None) -> dict[str, NodeTypeDescriptor]:
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
