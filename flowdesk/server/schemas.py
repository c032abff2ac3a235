"""The REST API's request and response bodies, each named and described (they make /openapi.json).

Field names follow the seed's examples (`node_type`, `position_x`, `from_node_id`, `input_data`...),
which are the same names the Python API and the file format use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.models import ApiParameter


class _Body(BaseModel):
    # Strict: `"is_active": 0` or `"name": 5` is refused, not coerced (a client's mistake should show).
    model_config = ConfigDict(extra="forbid", strict=True)


MAX_ID = 2**53 - 1  # ids beyond this do not occur (and JSON Schema numbers are doubles)

#: A stored thing's id in a path (1 to 2**63-1: anything else cannot exist).
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A stored id.")]
#: The same in a JSON body or a query.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]

# Enum values arrive as JSON strings; strict mode would only take enum instances.
ConnectionTypeField = Annotated[ConnectionType, Field(strict=False)]


class WorkflowCreate(_Body):
    """A new workflow (a draft until activated)."""

    name: str = Field(min_length=1, max_length=255, description="Unique display name.")
    description: str = Field("", description="What the workflow is for.")
    version: str = Field("1.0", max_length=50, description="The author's version label.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Workflow settings: timeout (s), retry_count, inputs (JSON Schema)...",
    )
    tags: list[str] = Field(default_factory=list, description="Labels for search and for users' scopes.")
    is_active: bool = Field(False, description="Create it active instead of as a draft.")


class WorkflowUpdate(_Body):
    """Fields of a workflow to change; those left out stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    version: str | None = Field(None, max_length=50)
    config: dict[str, Any] | None = None
    tags: list[str] | None = None
    is_active: bool | None = None


class WorkflowView(BaseModel):
    """A workflow's own properties."""

    id: int
    name: str
    description: str
    version: str
    status: str = Field(description="draft or active")
    config: dict[str, Any]
    tags: list[str]
    is_active: bool
    created_at: datetime | None
    updated_at: datetime | None


class WorkflowPage(BaseModel):
    """One page of workflows."""

    items: list[WorkflowView]
    total: int
    limit: int
    offset: int


class DuplicateRequest(_Body):
    """Copy a workflow; the copy's name (default: the original's with ' (copy)')."""

    name: str | None = Field(None, min_length=1, max_length=255)


class StatusChange(_Body):
    """Make a workflow a draft or active."""

    status: Literal["draft", "active"]


class NodeCreate(_Body):
    """A new node (the seed's body)."""

    name: str = Field(min_length=1, max_length=255, description="Unique within the workflow.")
    node_type: str = Field(
        description="START, END, API_CALL, CONDITION, DELAY, PARALLEL, LOOP or a custom type."
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="The type's settings (docs/semantics.md)."
    )
    position_x: float = 0
    position_y: float = 0
    description: str = ""


class NodeUpdate(_Body):
    """Fields of a node to change."""

    name: str | None = Field(None, min_length=1, max_length=255)
    node_type: str | None = None
    config: dict[str, Any] | None = None
    position_x: float | None = None
    position_y: float | None = None
    description: str | None = None


class NodeView(BaseModel):
    """A stored node."""

    id: int
    workflow_id: int | None
    name: str
    node_type: str
    config: dict[str, Any]
    position_x: float
    position_y: float
    description: str
    created_at: datetime | None = None


class ConnectionCreate(_Body):
    """A new connection between two nodes of the workflow (the seed's body)."""

    from_node_id: BodyId
    to_node_id: BodyId
    connection_type: ConnectionTypeField = ConnectionType.SEQUENCE
    condition: str | None = Field(
        None, description="An expression (docs/expressions.md), for CONDITIONAL types."
    )
    config: dict[str, Any] = Field(default_factory=dict, description='e.g. {"delay": 2}: wait 2 s first.')


class ConnectionUpdate(_Body):
    """Fields of a connection to change."""

    from_node_id: BodyId | None = None
    to_node_id: BodyId | None = None
    connection_type: ConnectionTypeField | None = None
    condition: str | None = None
    config: dict[str, Any] | None = None


class ConnectionView(BaseModel):
    """A stored connection."""

    id: int
    workflow_id: int | None
    from_node: str
    to_node: str
    from_node_id: int | None
    to_node_id: int | None
    connection_type: str
    condition: str | None
    config: dict[str, Any]
    created_at: datetime | None = None


class ExecuteRequest(_Body):
    """Start a run (the seed's body). `config.async` true answers at once with the execution id."""

    execution_name: str | None = Field(None, max_length=255)
    input_data: Any = Field(None, description="The run's input, read by {{input.*}} (an object).")
    config: dict[str, Any] = Field(
        default_factory=dict, description="async (bool), timeout (s), and the run's other options."
    )
    environment: str | None = Field(
        None, description="Name of the environment whose variables and secrets apply."
    )
    step_by_step: bool = Field(False, description="Pause before the first node; drive it with /step.")
    breakpoints: list[str] = Field(default_factory=list, description="Node names to pause before.")


class ExecutionStarted(BaseModel):
    """An accepted asynchronous run."""

    execution_id: int
    status: str


class ExecutionView(BaseModel):
    """A run, with the seed's `progress` (0-100) and `current_step`."""

    id: int
    workflow_id: int
    execution_name: str | None
    status: str
    progress: float = Field(description="0-100: the share of the workflow's nodes that have run.")
    current_step: str | None
    input_data: Any = None
    output_data: Any = None
    error_message: str | None = None
    environment: str | None = None
    resumed_from_id: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration: float | None = Field(None, description="Seconds, once ended.")
    runner_host: str | None = None
    runner_pid: int | None = None


class ExecutionPage(BaseModel):
    """One page of runs, newest first."""

    items: list[ExecutionView]
    limit: int
    offset: int


class StepView(BaseModel):
    """One node run of an execution (one per loop iteration)."""

    id: int | None
    step_name: str
    node_name: str | None
    node_type: str | None
    status: str
    input_data: Any = None
    output_data: Any = None
    error_message: str | None = None
    error_type: str | None = None
    attempts: int
    execution_time: float | None
    warnings: list[str]
    sequence: int
    iteration_path: list[int]
    started_at: datetime | None = None
    completed_at: datetime | None = None


class ResumeRequest(_Body):
    """Options for a resumed run (merged over the original run's)."""

    config: dict[str, Any] = Field(default_factory=dict)


class Breakpoints(_Body):
    """The node names a run pauses before."""

    breakpoints: list[str]


class VersionCreate(_Body):
    """Snapshot the workflow as stored now."""

    label: str | None = Field(None, max_length=255)
    note: str = ""


class NodeTypeCreate(_Body):
    """A custom node type (the seed's body)."""

    type_name: str = Field(min_length=1, max_length=100)
    description: str = ""
    config_schema: dict[str, Any] = Field(default_factory=dict)
    execution_handler: str | None = Field(
        None, description="'package.module:function', 'api:NAME', 'workflow:NAME' or a handler name."
    )


class ApiImportRequest(_Body):
    """An OpenAPI / Swagger / Postman document or a curl command to import into the API library."""

    content: str = Field(description="The document's text, or a curl command.")
    source_name: str = Field("", description="A name to report problems under (e.g. the file name).")
    selected: list[int | str] | None = Field(None, description="Definitions to apply (all when left out).")
    environment: str = Field("default", description="Where the import's variables and secrets go.")
    preview: bool = Field(False, description="Only say what would be added, updated and skipped.")


class EnvironmentSet(_Body):
    """Variables to set on an environment (created if missing)."""

    variables: dict[str, Any]
    activate: bool = False


class SecretSet(_Body):
    """A secret's value; it is stored encrypted and never returned."""

    value: str = Field(min_length=1)


class UserCreate(_Body):
    """A server user."""

    name: str = Field(min_length=1, max_length=255, pattern=r"^[\w.@+-]+$")
    role: Literal["viewer", "editor", "runner", "admin"]
    tags: list[str] | None = Field(
        None, description="Limit the user to workflows carrying one of these tags."
    )


class TokenCreate(_Body):
    """A new API token for a user."""

    label: str = ""


class ProblemView(BaseModel):
    """One located problem: what is wrong and where (JSON path, node, line, column)."""

    message: str
    severity: str = "error"
    path: str | None = None
    node: str | None = None
    key: str | None = None
    line: int | None = None
    column: int | None = None
    connection: int | None = None
    text: str | None = Field(None, description="The problem as one line, location first.")


class ErrorBody(BaseModel):
    """Every error answer: one sentence, and the located problems when there are any."""

    detail: str = Field(description="What went wrong, in one sentence.")
    problems: list[ProblemView] = Field(default_factory=list)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "The request cannot be carried out as it is.",
        401: "No token, or a token that is not valid.",
        403: "The token's user may not do this.",
        404: "What the request names does not exist.",
        409: "The change conflicts with what is stored (e.g. a duplicate name).",
        413: "The request body is over the server's limit.",
        422: "The request or the workflow it carries is not valid (located problems).",
        503: "The database cannot be reached.",
    }.items()
}


class ApiUpdate(BaseModel):
    """Fields of an API definition to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    method: str | None = None
    url: str | None = Field(None, min_length=1)
    headers: dict[str, str] | None = None
    query: dict[str, Any] | None = None
    body: Any = None
    content_type: str | None = None
    timeout: float | None = Field(None, gt=0)
    auth: dict[str, Any] | None = None
    description: str | None = None
    tags: list[str] | None = None
    parameters: list[ApiParameter] | None = None


ISO_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
"""A time in a query, ISO 8601 (a date, or a date and time, optionally with its offset). A number
is refused: pydantic would read `0.5` as seconds since 1970, which no one means in a URL."""


def query_time(text: str | None, name: str) -> datetime | None:
    """The datetime of a query parameter matched by ISO_TIME (naive times are UTC)."""
    from datetime import UTC

    from flowdesk.domain.errors import InvalidInputError

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"Query parameter '{name}': '{text}' is not a date or time.") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
