"""SQLAlchemy 2.0 ORM tables: the schema every Alembic revision must arrive at.

The migrations in store/migrations/versions/ are written out by hand (never importing this module),
and a test compares the migrated database with this metadata, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from flowdesk.domain.errors import NotFoundError

_Row = TypeVar("_Row")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def get_row(session: Session, row_class: type[_Row], row_id: int, what: str) -> _Row:
    """The row of `row_class` with id `row_id`, or NotFoundError "<what> <id> does not exist."."""
    row = session.get(row_class, row_id)
    if row is None:
        raise NotFoundError(f"{what} {row_id} does not exist.")
    return row


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every timestamp column holds)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always written as UTC and always read back timezone-aware UTC.

    SQLite has no time zones: values are stored as naive UTC text and given `UTC` on the way out.
    A naive datetime handed in is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> JSON:
    # Python None is stored as SQL NULL (not the JSON text 'null'), so "no value" reads back as None.
    return JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention (needed by batch migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: _json(), list[Any]: _json()}


class WorkflowRow(Base):
    """A workflow definition (`is_active` false = draft)."""

    __tablename__ = "workflow_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(50), default="1.0")
    config: Mapped[dict[str, Any] | None] = mapped_column(_json())
    tags: Mapped[list[Any] | None] = mapped_column(_json())
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index(None, "name"),)


class NodeRow(Base):
    """One node of a workflow; names are unique within their workflow."""

    __tablename__ = "workflow_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    node_type: Mapped[str] = mapped_column(String(100))
    config: Mapped[dict[str, Any] | None] = mapped_column(_json())
    position_x: Mapped[float] = mapped_column(Float, default=0.0)
    position_y: Mapped[float] = mapped_column(Float, default=0.0)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("workflow_id", "name"),)


class ConnectionRow(Base):
    """A typed edge between two nodes of one workflow; `seq` keeps the order they were drawn in."""

    __tablename__ = "workflow_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    from_node_id: Mapped[int] = mapped_column(ForeignKey("workflow_nodes.id", ondelete="CASCADE"))
    to_node_id: Mapped[int] = mapped_column(ForeignKey("workflow_nodes.id", ondelete="CASCADE"))
    connection_type: Mapped[str] = mapped_column(String(50), default="SEQUENCE")
    condition: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any] | None] = mapped_column(_json())
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index(None, "workflow_id", "seq"),
        Index(None, "from_node_id"),
        Index(None, "to_node_id"),
    )


class ExecutionRow(Base):
    """One run of a workflow. `error_message` also says why an `interrupted` run stopped."""

    __tablename__ = "workflow_executions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    execution_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    input_data: Mapped[Any] = mapped_column(_json(), nullable=True)
    output_data: Mapped[Any] = mapped_column(_json(), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    current_node: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    config: Mapped[dict[str, Any] | None] = mapped_column(_json())
    environment: Mapped[str | None] = mapped_column(Text)
    runner_pid: Mapped[int | None] = mapped_column(Integer)
    runner_host: Mapped[str | None] = mapped_column(String(255))
    resumed_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_executions.id", ondelete="SET NULL")
    )
    # The execution that resumed this one (set once, by the resume's own transaction; 0004).
    resumed_as_id: Mapped[int | None] = mapped_column(Integer)
    # The run whose SUBWORKFLOW step started this one, and that step's name (0007).
    parent_execution_id: Mapped[int | None] = mapped_column(Integer)
    parent_step: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index(None, "workflow_id", "started_at"),
        Index(None, "status"),
        Index(None, "resumed_from_id"),
        Index(None, "parent_execution_id"),
        Index(None, "workflow_id", "parent_execution_id"),  # the monitor's child runs (0010)
    )


class ExecutionLogRow(Base):
    """One node run (per loop iteration) of an execution. `node_id` survives node deletion as NULL."""

    __tablename__ = "workflow_execution_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[int] = mapped_column(ForeignKey("workflow_executions.id", ondelete="CASCADE"))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_nodes.id", ondelete="SET NULL"))
    step_name: Mapped[str] = mapped_column(String(255))
    node_name: Mapped[str | None] = mapped_column(String(255))
    node_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    input_data: Mapped[Any] = mapped_column(_json(), nullable=True)
    output_data: Mapped[Any] = mapped_column(_json(), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_type: Mapped[str | None] = mapped_column(String(50))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    execution_time: Mapped[float | None] = mapped_column(Float)
    warnings: Mapped[list[Any] | None] = mapped_column(_json())
    metrics: Mapped[dict[str, Any] | None] = mapped_column(_json())
    iteration_path: Mapped[list[Any] | None] = mapped_column(_json())
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index(None, "execution_id", "sequence"),
        # (node_id) alone is served by (node_id, execution_time), made by migration 0003 (0012 dropped it)
        Index(None, "node_name"),
        Index(None, "status", "error_type"),
    )


class ApiRow(Base):
    """An entry of the API library that API_CALL nodes name by `api_id` in their config."""

    __tablename__ = "api_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10), default="GET")
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any] | None] = mapped_column(_json())
    query: Mapped[dict[str, Any] | None] = mapped_column(_json())
    body: Mapped[Any] = mapped_column(_json(), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(255))
    timeout: Mapped[float] = mapped_column(Float, default=30.0)
    auth: Mapped[dict[str, Any] | None] = mapped_column(_json())
    body_type: Mapped[str | None] = mapped_column(String(20))  # "multipart", else None
    connection: Mapped[dict[str, Any] | None] = mapped_column(_json())  # verify, client cert, http2, proxy
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any] | None] = mapped_column(_json())
    parameters: Mapped[list[Any] | None] = mapped_column(_json())
    source: Mapped[str | None] = mapped_column(Text)
    response_schema: Mapped[dict[str, Any] | None] = mapped_column(_json())  # from OpenAPI, for ASSERT
    cache: Mapped[dict[str, Any] | None] = mapped_column(_json())  # {"ttl": 60, ...}: the response cache
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index(None, "source"),)


class VersionRow(Base):
    """A saved snapshot of a whole workflow, as a file-format JSON document."""

    __tablename__ = "workflow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3... within the workflow
    label: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(_json())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index(None, "workflow_id", "number"),)


class NodeTypeRow(Base):
    """A registered custom node type (built-in types are not stored)."""

    __tablename__ = "node_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    config_schema: Mapped[dict[str, Any] | None] = mapped_column(_json())
    execution_handler: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditRow(Base):
    """One create/update/delete: when, which entity and id, and a sentence saying what changed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    # Who did it: a server user's name, else the operating-system user of the app or CLI (NULL on rows
    # written before migration 0005).
    actor: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index(None, "entity", "entity_id"), Index(None, "occurred_at"), Index(None, "actor"))


class UserRow(Base):
    """A user of the REST server: a role, and optionally the workflow tags the user is limited to."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[Any] | None] = mapped_column(_json())  # None: every workflow
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiTokenRow(Base):
    """An API token: only its SHA-256 digest is kept (the token itself is shown once, at creation)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnvironmentRow(Base):
    """A named set of variables (`{{env.x}}`); at most one is meant to be active."""

    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    variables: Mapped[dict[str, Any] | None] = mapped_column(_json())
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SecretRow(Base):
    """A named secret, stored only encrypted (the API-library issue owns the cipher)."""

    __tablename__ = "secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertRuleRow(Base):
    """An alert rule of one workflow (domain/alert_rules.py); `firing` is true from the run that made it
    true until a run makes it false again (it fires once per such stretch)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(30))
    threshold: Mapped[float] = mapped_column(Float)
    window_runs: Mapped[int | None] = mapped_column(Integer)
    window_seconds: Mapped[float | None] = mapped_column(Float)
    node_name: Mapped[str | None] = mapped_column(String(255))
    webhook_api_id: Mapped[int | None] = mapped_column(ForeignKey("api_definitions.id", ondelete="SET NULL"))
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index(None, "workflow_id"),)


class AlertRow(Base):
    """One firing of an alert rule: what was measured, after which run, and how the webhook went.
    The rule's name and words are copied, so the history outlives a deleted rule."""

    __tablename__ = "alert_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow_definitions.id", ondelete="CASCADE"))
    execution_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_executions.id", ondelete="SET NULL")
    )
    rule_name: Mapped[str] = mapped_column(String(255), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    webhook_status: Mapped[str | None] = mapped_column(Text)  # "200", or why the call failed; NULL: none
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index(None, "workflow_id", "fired_at"), Index(None, "rule_id"))


class ResponseCacheRow(Base):
    """A cached API answer kept across runs (`cache: {"persist": true}`), found by `key`: the SHA-256
    of the request's cache key (never a secret the request carried). `url` is the masked URL."""

    __tablename__ = "response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[int | None] = mapped_column(Integer)
    node_name: Mapped[str | None] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")
    headers: Mapped[dict[str, Any] | None] = mapped_column(_json())
    body: Mapped[bytes] = mapped_column(LargeBinary)
    http_version: Mapped[str] = mapped_column(String(20), default="HTTP/1.1")
    elapsed_ms: Mapped[float] = mapped_column(Float, default=0.0)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "workflow_id"), Index(None, "expires_at"))


TABLES = Base.metadata.tables
