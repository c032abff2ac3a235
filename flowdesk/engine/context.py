"""What a node handler sees while its node runs: `NodeContext`.

A handler is `async def handle(ctx: NodeContext) -> dict` returning the node's output; it raises
`flowdesk.engine.errors.NodeFailure` when the node fails. The context is built by the scheduler for
each node run (one per loop iteration) and is valid only while the handler runs.

Contract (additive changes only):

- `ctx.node` the domain `Node`; `ctx.graph` the `WorkflowGraph`; `ctx.config` the node's raw config.
- `ctx.scope` the expression `Scope` of this node run: roots `input`, `execution`, `loop` (innermost
  loop, `{"index", "item"}`; `None` outside loops), `env`, `secrets`, `response` (the latest API
  response on the path that led here), and every node output by node name. Built on first use.
- `ctx.render(value)` renders templates in a string / dict / list with `ctx.scope`.
- `ctx.evaluate(text)` / `ctx.evaluate_condition(text)` evaluate one expression with `ctx.scope`.
- `ctx.execution` (`.id`, `.name`, `.workflow_id`, `.started_at`); `ctx.workflow_config` (dict).
- `ctx.http` the engine's shared `flowdesk.engine.http.HttpClient` (created on first use, one per
  `WorkflowExecutor`).
- `ctx.http_state` this execution's `RunHttpState` (cookie jar, the environment's connection settings):
  made on first use, never shared with another run.
- `await ctx.get_api(api_id) -> ApiDefinition` (async: the first call per run reads the database in a
  worker thread; later calls come from a per-run cache). Raises `NodeFailure` when it does not exist.
- `ctx.log(level, message)` a log line of this step (level: "debug", "info", "warning", "error").
- `ctx.warn(message)` a warning stored in the step row's `warnings`.
- `ctx.record_attempt(info)` one attempt (a JSON-able dict) into the step row's `attempts` history.
- `ctx.record_metric(name, value)` a custom metric of this step (stored in the step row's `metrics`).
- `ctx.deadline` the `loop.time()` deadline of the whole execution, or None; `ctx.remaining()` the
  seconds left (None without deadline). `ctx.debug` whether the executor runs with debug=True.
- `ctx.inputs` settable: the resolved inputs shown as the step row's input_data (default: the
  node's config). `ctx.redact(value)` masks secret values in a value (deep); `ctx.secret_values`
  is every secret value of the run (a tuple), for handlers that mask on their own.
- `ctx.step_name` (`name[i][j]`, one index per enclosing loop, outer first), `ctx.input` the
  execution's input data.

`output_mapping` is applied by the scheduler to every node's output after its handler returned (with
`response` being the node's own `output["response"]` when there is one), so handlers must not apply
it themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from flowdesk.domain.models import ApiDefinition, Node, WorkflowGraph

logger = logging.getLogger("flowdesk.engine")

LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@dataclass(slots=True, frozen=True)
class ExecutionInfo:
    """The execution a node runs in, as `{{execution.*}}` shows it."""

    id: int | None
    name: str | None
    workflow_id: int | None
    started_at: datetime
    origin_id: int | None = None  # the first execution of a resume chain (this one when not resumed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "workflow_id": self.workflow_id,
            "started_at": self.started_at.isoformat(),
        }


class NodeContext:
    """Everything one node run may use; built by the scheduler, handed to the node's handler."""

    __slots__ = (
        "node",
        "graph",
        "config",
        "step_name",
        "execution",
        "workflow_config",
        "debug",
        "deadline",
        "runtime",
        "frame",
        "response",
        "loop",
        "warnings",
        "attempts",
        "metrics",
        "inputs",
        "_scope",
        "_scope_factory",
        "_services",
    )

    def __init__(
        self,
        *,
        node: Node,
        graph: WorkflowGraph,
        step_name: str,
        execution: ExecutionInfo,
        workflow_config: Mapping[str, Any],
        debug: bool,
        deadline: float | None,
        scope_factory: Callable[[NodeContext], Any],
        services: Any,
        runtime: Any = None,
        frame: Any = None,
        response: Any = None,
        loop: dict[str, Any] | None = None,
    ) -> None:
        self.node = node
        self.graph = graph
        self.config: dict[str, Any] = node.config
        self.step_name = step_name
        self.execution = execution
        self.workflow_config = workflow_config
        self.debug = debug
        self.deadline = deadline
        self.runtime = runtime  # the scheduler run (used by control-flow handlers: PARALLEL, LOOP)
        self.frame = frame  # the scheduler frame this node runs in
        self.response = response
        self.loop = loop
        self.warnings: list[str] = []
        self.attempts: list[dict[str, Any]] = []
        self.metrics: dict[str, Any] = {}
        self.inputs: Any = None  # what the step row shows as input_data (default: the node's config)
        self._scope: Any = None
        self._scope_factory = scope_factory
        self._services = services

    # -- expressions -------------------------------------------------------------------------
    @property
    def scope(self) -> Any:
        """The expression Scope of this node run (built on first use)."""
        if self._scope is None:
            self._scope = self._scope_factory(self)
        return self._scope

    @property
    def step_warnings(self) -> list[str]:
        """What the step row records as warnings: the handler's (`warn`) and, when a scope was built,
        its unresolved references (asking builds no scope)."""
        scope_warnings = getattr(self._scope, "warnings", None) if self._scope is not None else None
        return [*self.warnings, *scope_warnings] if scope_warnings else self.warnings

    def render(self, value: Any) -> Any:
        """Render every template in `value` (str, dict, list) with this node's scope."""
        if isinstance(value, str) and "{{" not in value:
            return value
        if value is None or isinstance(value, int | float | bool):
            return value
        from flowdesk.domain.expressions import render

        return render(value, self.scope)

    def evaluate(self, text: str) -> Any:
        """Evaluate one expression with this node's scope."""
        from flowdesk.domain.expressions import evaluate

        return evaluate(text, self.scope)

    def evaluate_condition(self, text: str) -> bool:
        """Evaluate one condition (truthiness of the expression) with this node's scope."""
        from flowdesk.domain.expressions import evaluate_condition

        return evaluate_condition(text, self.scope)

    @property
    def input(self) -> Any:
        """The execution's input data."""
        return self._services.input_data

    # -- services ----------------------------------------------------------------------------
    @property
    def http(self) -> Any:
        """The engine's shared HTTP client (flowdesk.engine.http.HttpClient)."""
        return self._services.http()

    @property
    def http_state(self) -> Any:
        """This execution's HTTP state (its cookie jar...: flowdesk.engine.http.run_state), one per run."""
        return self._services.http_state()

    async def get_api(self, api_id: Any) -> ApiDefinition:
        """The API definition `api_id` of the API library (cached for the run)."""
        return await self._services.get_api(api_id)

    def redact(self, value: Any) -> Any:
        """`value` with every secret value of the run replaced by ***."""
        return self._services.redact(value)

    @property
    def secret_values(self) -> tuple[Any, ...]:
        """Every secret value of the run (what a handler must keep out of what it records)."""
        return self._services.secret_values

    def remaining(self) -> float | None:
        """Seconds left before the execution's deadline, or None when it has none."""
        if self.deadline is None:
            return None
        import asyncio

        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    # -- recording ---------------------------------------------------------------------------
    def log(self, level: str, message: str) -> None:
        """Emit a log line of this step (goes to the event bus and the Python logger)."""
        self._services.log(level, message, self.node.name, self.step_name)

    def warn(self, message: str) -> None:
        """Note a warning in this step's row."""
        self.warnings.append(message)

    def record_attempt(self, info: dict[str, Any]) -> None:
        """Record one attempt (JSON-able dict) in this step's attempt history."""
        self.attempts.append(info)

    def record_metric(self, name: str, value: Any) -> None:
        """Record a custom metric of this step (monitoring aggregates them per workflow)."""
        self.metrics[str(name)] = value
