"""Conversion between table rows (ORM objects or Core rows, same attribute names) and domain models."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from flowdesk.domain.enums import ConnectionType, ExecutionStatus, StepStatus
from flowdesk.domain.models import (
    ApiDefinition,
    ApiParameter,
    Connection,
    Execution,
    ExecutionLog,
    Node,
    Workflow,
)

from .tables import ApiRow, ConnectionRow, ExecutionLogRow, ExecutionRow, NodeRow, WorkflowRow

_M = TypeVar("_M", bound=BaseModel)


def trusted(cls: type[_M], values: dict[str, Any]) -> _M:
    """Build a model from values that are already valid (database rows, copies of valid models)
    without validation: what `model_construct` does, minus its default filling, so `values` must
    hold every field. For big graphs this is several times cheaper than validating or copying."""
    if len(values) != len(cls.__pydantic_fields__):  # a field added to the model but not here: be correct
        return cls.model_construct(**values)
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def with_changes(model: _M, **changes: Any) -> _M:
    """A shallow copy of a valid model with some fields replaced by valid values."""
    values = dict(model.__dict__)
    values.update(changes)
    return trusted(type(model), values)


def _columns(table: Any, *, leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A table's column names in their declared order (store/tables.py), without `leave_out`."""
    return tuple(c.name for c in table.__table__.columns if c.name not in leave_out)


# The columns a caller may set (no ids, parents or timestamps), read off store/tables.py so that a
# column added there is known here too.
_SET_BY_THE_STORE = ("id", "created_at", "updated_at")
WORKFLOW_FIELDS = _columns(WorkflowRow, leave_out=_SET_BY_THE_STORE)
NODE_FIELDS = _columns(NodeRow, leave_out=(*_SET_BY_THE_STORE, "workflow_id"))
CONNECTION_FIELDS = _columns(
    ConnectionRow, leave_out=(*_SET_BY_THE_STORE, "workflow_id", "from_node_id", "to_node_id", "seq")
)
API_FIELDS = _columns(ApiRow, leave_out=_SET_BY_THE_STORE)
EXECUTION_FIELDS = _columns(ExecutionRow, leave_out=(*_SET_BY_THE_STORE, "workflow_id"))
LOG_FIELDS = _columns(ExecutionLogRow, leave_out=(*_SET_BY_THE_STORE, "execution_id"))


def workflow_from_row(row: Any) -> Workflow:
    """A Workflow model from a workflow_definitions row."""
    return Workflow(
        id=row.id,
        name=row.name,
        description=row.description or "",
        version=row.version,
        config=row.config or {},
        tags=row.tags or [],
        is_active=bool(row.is_active),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def workflow_values(workflow: Workflow) -> dict[str, Any]:
    """Column values of a Workflow model (without id and timestamps)."""
    return {
        "name": workflow.name,
        "description": workflow.description or "",
        "version": workflow.version,
        "config": dict(workflow.config),
        "tags": list(workflow.tags),
        "is_active": bool(workflow.is_active),
    }


def node_from_row(row: Any) -> Node:
    """A Node model from a workflow_nodes row."""
    return trusted(
        Node,
        {
            "id": row.id,
            "workflow_id": row.workflow_id,
            "name": row.name,
            "node_type": row.node_type,
            "config": row.config or {},
            "position_x": row.position_x,
            "position_y": row.position_y,
            "description": row.description or "",
            "created_at": row.created_at,
        },
    )


def node_values(node: Node) -> dict[str, Any]:
    """Column values of a Node model (without ids and timestamps)."""
    return {
        "name": node.name,
        "node_type": str(node.node_type),
        "config": node.config,
        "position_x": float(node.position_x),
        "position_y": float(node.position_y),
        "description": node.description or "",
    }


def connection_from_row(row: Any, names: dict[int, str]) -> Connection:
    """A Connection model from a workflow_connections row; `names` maps node id to node name."""
    return trusted(
        Connection,
        {
            "id": row.id,
            "workflow_id": row.workflow_id,
            "from_node": names[row.from_node_id],
            "to_node": names[row.to_node_id],
            "from_node_id": row.from_node_id,
            "to_node_id": row.to_node_id,
            "connection_type": ConnectionType(row.connection_type),
            "condition": row.condition,
            "config": row.config or {},
            "created_at": row.created_at,
        },
    )


def api_from_row(row: Any) -> ApiDefinition:
    """An ApiDefinition model from an api_definitions row."""
    return ApiDefinition(
        id=row.id,
        name=row.name,
        method=row.method,
        url=row.url,
        headers=row.headers or {},
        query=row.query or {},
        body=row.body,
        content_type=row.content_type,
        timeout=row.timeout,
        auth=row.auth,
        body_type=row.body_type,
        connection=dict(row.connection or {}),
        description=row.description or "",
        tags=row.tags or [],
        parameters=[ApiParameter.model_validate(p) for p in row.parameters or []],
        source=row.source,
        response_schema=row.response_schema,
        cache=row.cache,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def api_values(api: ApiDefinition) -> dict[str, Any]:
    """Column values of an ApiDefinition model (without id and timestamps)."""
    return {
        "name": api.name,
        "method": api.method.upper(),
        "url": api.url,
        "headers": dict(api.headers),
        "query": dict(api.query),
        "body": api.body,
        "content_type": api.content_type,
        "timeout": float(api.timeout),
        "auth": api.auth,
        "body_type": api.body_type,
        "connection": dict(api.connection) or None,
        "description": api.description or "",
        "tags": list(api.tags),
        "parameters": [p.model_dump(mode="json") for p in api.parameters],
        "source": api.source,
        "response_schema": api.response_schema,
        "cache": api.cache,
    }


def progress_percent(stored: float | None) -> float:
    """The `progress` column holds a fraction (0.0-1.0); every read offers it as 0-100, one decimal."""
    return round(float(stored or 0.0) * 100.0, 1)


def progress_fraction(percent: float) -> float:
    """What the `progress` column stores for a 0-100 value."""
    return max(0.0, min(1.0, float(percent) / 100.0))


def execution_from_row(row: Any) -> Execution:
    """An Execution model from a workflow_executions row."""
    return Execution(
        id=row.id,
        workflow_id=row.workflow_id,
        execution_name=row.execution_name,
        status=ExecutionStatus(row.status),
        input_data=row.input_data,
        output_data=row.output_data,
        error_message=row.error_message,
        current_node=row.current_node,
        progress=progress_percent(row.progress),
        config=row.config or {},
        environment=row.environment,
        runner_pid=row.runner_pid,
        runner_host=row.runner_host,
        resumed_from_id=row.resumed_from_id,
        resumed_as_id=row.resumed_as_id,
        parent_execution_id=row.parent_execution_id,
        parent_step=row.parent_step,
        started_at=row.started_at,
        completed_at=row.completed_at,
        created_at=row.created_at,
    )


def log_from_row(row: Any) -> ExecutionLog:
    """An ExecutionLog model from a workflow_execution_logs row."""
    return trusted(
        ExecutionLog,
        {
            "id": row.id,
            "execution_id": row.execution_id,
            "node_id": row.node_id,
            "step_name": row.step_name,
            "node_name": row.node_name,
            "node_type": row.node_type,
            "status": StepStatus(row.status),
            "input_data": row.input_data,
            "output_data": row.output_data,
            "error_message": row.error_message,
            "attempts": row.attempts or 0,
            "execution_time": row.execution_time,
            "warnings": row.warnings or [],
            "sequence": row.sequence or 0,
            "error_type": row.error_type,
            "metrics": row.metrics or {},
            "iteration_path": row.iteration_path or [],
            "started_at": row.started_at,
            "completed_at": row.completed_at,
            "created_at": row.created_at,
        },
    )


def log_values(entry: ExecutionLog) -> dict[str, Any]:
    """Column values of an ExecutionLog model (without id, execution_id and created_at)."""
    return {
        "node_id": entry.node_id,
        "step_name": entry.step_name,
        "node_name": entry.node_name,
        "node_type": entry.node_type,
        "status": str(entry.status),
        "input_data": entry.input_data,
        "output_data": entry.output_data,
        "error_message": entry.error_message,
        "error_type": entry.error_type,
        "attempts": entry.attempts,
        "execution_time": entry.execution_time,
        "warnings": list(entry.warnings),
        "metrics": dict(entry.metrics),
        "iteration_path": list(entry.iteration_path),
        "sequence": entry.sequence,
        "started_at": entry.started_at,
        "completed_at": entry.completed_at,
    }


# -- fast paths for many rows (tuples from store.bulk.read_rows) ---------------------------------------

NODE_COLUMNS = _columns(NodeRow)
CONNECTION_COLUMNS = _columns(ConnectionRow, leave_out=("seq",))
LOG_COLUMNS = _columns(ExecutionLogRow)


def nodes_from_tuples(rows: list[tuple[Any, ...]]) -> list[Node]:
    """Node models from NODE_COLUMNS tuples."""
    out = []
    for row in rows:
        values = dict(zip(NODE_COLUMNS, row, strict=True))
        values["config"] = values["config"] or {}
        values["description"] = values["description"] or ""
        out.append(trusted(Node, values))
    return out


def connections_from_tuples(rows: list[tuple[Any, ...]], names: dict[int, str]) -> list[Connection]:
    """Connection models from CONNECTION_COLUMNS tuples; `names` maps node id to node name."""
    types = {t.value: t for t in ConnectionType}
    out = []
    for row in rows:
        values = dict(zip(CONNECTION_COLUMNS, row, strict=True))
        values["from_node"] = names[values["from_node_id"]]
        values["to_node"] = names[values["to_node_id"]]
        values["connection_type"] = types[values["connection_type"]]
        values["config"] = values["config"] or {}
        out.append(trusted(Connection, values))
    return out


def logs_from_tuples(rows: list[tuple[Any, ...]]) -> list[ExecutionLog]:
    """ExecutionLog models from LOG_COLUMNS tuples."""
    statuses = {s.value: s for s in StepStatus}
    out = []
    for row in rows:
        values = dict(zip(LOG_COLUMNS, row, strict=True))
        values["status"] = statuses[values["status"]]
        values["attempts"] = values["attempts"] or 0
        values["sequence"] = values["sequence"] or 0
        values["warnings"] = values["warnings"] or []
        values["metrics"] = values["metrics"] or {}
        values["iteration_path"] = values["iteration_path"] or []
        out.append(trusted(ExecutionLog, values))
    return out
