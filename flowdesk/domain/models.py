"""Pydantic models of the domain: workflows, nodes, connections, API definitions, runs.

Nodes refer to each other by *name* inside a graph (names are unique within a workflow and are
how expressions reach a node's output); database ids ride along where the store knows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    field_validator,
    model_serializer,
)

from .enums import ConnectionType, ExecutionStatus, Severity, StepStatus, WorkflowStatus

_NODE_PATH = re.compile(r"^(nodes\[\d+\])(.*)$", re.S)


class _Model(BaseModel):
    model_config = ConfigDict(use_enum_values=False, validate_assignment=False, extra="ignore")


class Workflow(_Model):
    """A workflow definition's own properties (row of workflow_definitions)."""

    id: int | None = None
    name: str
    description: str = ""
    version: str = "1.0"
    config: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    is_active: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        return (WorkflowStatus.ACTIVE if self.is_active else WorkflowStatus.DRAFT).value


class Node(_Model):
    """One step of a workflow. `node_type` is a built-in NodeType value or a registered custom type."""

    id: int | None = None
    workflow_id: int | None = None
    name: str
    node_type: str
    config: dict[str, Any] = Field(default_factory=dict)
    position_x: float = 0.0
    position_y: float = 0.0
    description: str = ""
    created_at: datetime | None = None


class Connection(_Model):
    """A typed edge between two nodes, named by node name (ids filled in when stored)."""

    id: int | None = None
    workflow_id: int | None = None
    from_node: str
    to_node: str
    from_node_id: int | None = None
    to_node_id: int | None = None
    connection_type: ConnectionType = ConnectionType.SEQUENCE
    condition: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None


class WorkflowGraph(_Model):
    """A workflow with its nodes and connections: what validation, the engine and files work on."""

    workflow: Workflow
    nodes: list[Node] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)

    def node(self, name: str) -> Node | None:
        for n in self.nodes:
            if n.name == name:
                return n
        return None

    def outgoing(self, name: str) -> list[Connection]:
        return [c for c in self.connections if c.from_node == name]

    def incoming(self, name: str) -> list[Connection]:
        return [c for c in self.connections if c.to_node == name]


class ApiParameter(_Model):
    """A parameter an API definition expects, offered as a form on API_CALL nodes."""

    name: str
    location: str = "query"  # path, query, header, body
    required: bool = False
    type: str = "string"
    description: str = ""
    example: Any = None


class ApiDefinition(_Model):
    """An entry of the API library that API_CALL nodes name by `api_id`."""

    id: int | None = None
    name: str
    method: str = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    # "multipart": `body` maps field names to text or file parts {"path", "filename"?, "content_type"?}
    body_type: str | None = None
    content_type: str | None = None
    timeout: float = 30.0
    auth: dict[str, Any] | None = None
    connection: dict[str, Any] = Field(default_factory=dict)
    """How calls connect: `verify` (true, false or a CA bundle path), `client_cert`, `client_key`,
    `http2`, `proxy` (docs/http.md); values may be templates."""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    parameters: list[ApiParameter] = Field(default_factory=list)
    source: str | None = None  # where an import made it ("openapi:<title>#<operationId>"), for re-import
    response_schema: dict[str, Any] | None = None
    """The JSON Schema of a successful answer's body, as the OpenAPI document declared it (its `$ref`s
    resolved): what an ASSERT after a call of this definition checks by default."""
    cache: dict[str, Any] | None = None
    """The response cache of its calls (`{"ttl": 60}`: domain/response_cache.py); a node's wins."""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("cache")
    @classmethod
    def _cache_option(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        from .response_cache import cache_option_problem

        wrong = cache_option_problem(value)
        if wrong is not None:
            raise ValueError(f"the cache option is not valid: {wrong}")
        return value

    @model_serializer(mode="wrap")
    def _without_empty_connection(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`connection`, `response_schema` and `cache` are left out of dumps while empty: definitions without
        them dump as before."""
        data: dict[str, Any] = handler(self)
        if not self.connection:
            data.pop("connection", None)
        if self.response_schema is None:
            data.pop("response_schema", None)
        if self.cache is None:
            data.pop("cache", None)
        return data


class Execution(_Model):
    """One run of a workflow (row of workflow_executions)."""

    id: int | None = None
    workflow_id: int
    execution_name: str | None = None
    status: ExecutionStatus = ExecutionStatus.PENDING
    input_data: Any = None
    output_data: Any = None
    error_message: str | None = None  # also why an interrupted run stopped
    current_node: str | None = None  # the step running (or about to run when paused)
    progress: float = 0.0  # 0-100: share of the workflow's nodes that have run or been skipped
    config: dict[str, Any] = Field(default_factory=dict)  # the run's options
    environment: str | None = None
    runner_pid: int | None = None  # the process running it (crash recovery)
    runner_host: str | None = None
    resumed_from_id: int | None = None
    resumed_as_id: int | None = None  # the execution that resumed this one (it is resumed once)
    parent_execution_id: int | None = None  # the run whose SUBWORKFLOW step started this one
    parent_step: str | None = None  # that SUBWORKFLOW step's name
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def current_step(self) -> str | None:
        """The seed's name for `current_node`."""
        return self.current_node


class ExecutionLog(_Model):
    """One node run (per loop iteration) of an execution (row of workflow_execution_logs)."""

    id: int | None = None
    execution_id: int | None = None  # None for a run that is not stored (execute_graph without a database)
    node_id: int | None = None
    step_name: str
    node_name: str | None = None
    node_type: str | None = None
    status: StepStatus = StepStatus.PENDING
    input_data: Any = None
    output_data: Any = None
    error_message: str | None = None
    attempts: int = 0
    execution_time: float | None = None  # seconds
    warnings: list[str] = Field(default_factory=list)
    sequence: int = 0  # order in which steps started within the execution
    error_type: str | None = None  # timeout, connection, http_4xx, http_5xx, expression, cancelled, other
    metrics: dict[str, Any] = Field(default_factory=dict)  # custom metrics the node recorded
    iteration_path: list[int] = Field(default_factory=list)  # loop indexes, outermost first
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], execution_id: int | None) -> ExecutionLog:
        """A step log from a step row read as a dict (a monitor query, a run that is not stored)."""
        values = {k: v for k, v in row.items() if v is not None and k in cls.model_fields}
        return cls(**{**values, "execution_id": execution_id})

    # Read as `log.step_name` (the seed's debugging snippet) and as `log["step_name"]` (callers
    # written when the monitor returned dicts): one type for every door that returns step logs.
    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The field `key`, or `default` when there is no such field."""
        return getattr(self, key) if key in type(self).model_fields else default

    def keys(self) -> list[str]:
        """The field names, so `dict(log)` and `log.keys()` work as on the old dicts."""
        return list(type(self).model_fields)


class Problem(_Model):
    """One validation or import problem: what is wrong and where, in one plain sentence."""

    severity: Severity = Severity.ERROR
    message: str
    node: str | None = None  # node name the problem concerns
    connection: int | None = None  # index into WorkflowGraph.connections
    path: str | None = None  # JSON path in a file (e.g. "nodes[2].node_type")
    key: str | None = None  # config key (e.g. "condition")
    column: int | None = None  # 1-based column inside an expression
    line: int | None = None  # 1-based line in a file

    def where(self) -> str | None:
        """Where the problem is, as a person finds it: `node '判断' (nodes[1]), config.condition,
        column 19` (the node's name as on the canvas, its place in the file, the field, the column
        inside that field's text); None for a problem of the whole document."""
        parts: list[str] = []
        rest = self.path
        if self.node is not None and not self.node.startswith("\0"):
            match = _NODE_PATH.match(self.path or "")
            if match:
                parts.append(f"node '{self.node}' ({match.group(1)})")
                rest = match.group(2).lstrip(".") or None
            else:
                parts.append(f"node '{self.node}'")
                rest = f"config.{self.key}" if self.key and self.path is None else self.path
        elif rest is None and self.connection is not None:
            rest = f"connections[{self.connection}]" + (f".{self.key}" if self.key else "")
        if rest:
            parts.append(rest)
        if self.column is not None and parts and (self.node is not None or self.connection is not None):
            parts.append(f"column {self.column}")
        return ", ".join(parts) or None

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message
