"""The scheduler: runs a compiled plan frame by frame, resolving connections to taken or dead.

A *frame* runs one region (the top level, one PARALLEL branch, one LOOP iteration). When a node
finishes, each of its resolvable connections becomes taken or dead (the RESOLVERS table); a node is
ready when every incoming connection is resolved, runs when at least one was taken, and is skipped
(logged `skipped`, and its own connections resolved dead) when none was. PARALLEL and LOOP handlers
open nested frames through `Body` (see `Run.bodies`). docs/semantics.md states every rule.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import ChainMap, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowdesk.domain.enums import ConnectionType, StepStatus

from . import events as ev
from .context import ExecutionInfo, NodeContext
from .control import RunControl
from .errors import NodeFailure, failure_from_exception
from .masking import secret_leaves
from .plan import Edge, Plan, Region
from .step_recorder import StepRecorder

logger = logging.getLogger(__name__)

MISSING: Any = object()  # "not given" and "no result yet": a value no handler can return
_PYTHON_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.DEBUG,
    "warning": logging.INFO,
    "error": logging.INFO,
}
_SUCCESS = StepStatus.SUCCESS.value
_FAILED = StepStatus.FAILED.value
_SKIPPED = StepStatus.SKIPPED.value
_CANCELLED = StepStatus.CANCELLED.value


def _now() -> datetime:
    return datetime.now(UTC)


# -- connection resolution ------------------------------------------------------------------


def _sequence(run: Run, e: Edge, ok: bool, output: Any, ctx: NodeContext, resp: Any) -> bool:
    return ok


def _conditional(run: Run, e: Edge, ok: bool, output: Any, ctx: NodeContext, resp: Any) -> bool:
    if not ok:
        return False
    if not e.condition:
        return True
    from flowdesk.domain.expressions import evaluate_condition

    scope = run.make_scope(ctx, response=resp)
    try:
        result = bool(evaluate_condition(e.condition, scope))
    except Exception as exc:  # a bad condition makes the connection dead, with a warning
        ctx.warn(f"condition of the connection to '{e.target}' failed: {exc}")
        result = False
    ctx.warnings.extend(getattr(scope, "warnings", ()))
    return result


def _when_true(run: Run, e: Edge, ok: bool, output: Any, ctx: NodeContext, resp: Any) -> bool:
    return ok and isinstance(output, dict) and output.get("result") is True


def _when_false(run: Run, e: Edge, ok: bool, output: Any, ctx: NodeContext, resp: Any) -> bool:
    return ok and isinstance(output, dict) and output.get("result") is False


def _on_error(run: Run, e: Edge, ok: bool, output: Any, ctx: NodeContext, resp: Any) -> bool:
    return not ok


Resolver = Callable[["Run", Edge, bool, Any, NodeContext, Any], bool]

RESOLVERS: dict[str, Resolver] = {
    ConnectionType.SEQUENCE.value: _sequence,
    ConnectionType.CONDITIONAL.value: _conditional,
    ConnectionType.CONDITIONAL_TRUE.value: _when_true,
    ConnectionType.CONDITIONAL_FALSE.value: _when_false,
    ConnectionType.ERROR.value: _on_error,
}
"""How each resolvable connection type decides taken (True) or dead (False)."""


@dataclass(slots=True)
class StepOutcome:
    """What a step ended with: `output` is what the next nodes see (a failure's output carries
    `error` and `error_type`), `response` what flows on along its connections."""

    ok: bool
    output: Any
    response: Any
    failure: NodeFailure | None = None


def step_outcome(output: Any, failure: NodeFailure | None, incoming_response: Any) -> StepOutcome:
    """The outcome of a handler's result or failure (pure)."""
    if failure is None:
        resp = output["response"] if isinstance(output, dict) and "response" in output else incoming_response
        return StepOutcome(True, output, resp)
    fail_out = dict(failure.output) if isinstance(failure.output, dict) else {}
    fail_out["error"] = failure.message
    fail_out["error_type"] = failure.error_type
    return StepOutcome(False, fail_out, fail_out.get("response", incoming_response), failure)


def decide_edges(
    run: Run, edges: list[Edge], outcome: StepOutcome, ctx: NodeContext
) -> list[tuple[Edge, bool]]:
    """Taken (True) or dead (False) for each of a finished step's connections, by RESOLVERS. It
    changes no frame; a condition that cannot be evaluated adds a warning to the step."""
    ok, output, resp = outcome.ok, outcome.output, outcome.response
    return [(e, RESOLVERS.get(e.type, _sequence)(run, e, ok, output, ctx, resp)) for e in edges]


class RegionFailed(Exception):
    """An unhandled node failure stopped a frame."""

    def __init__(self, failure: NodeFailure, node: str, step_name: str) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.node = node
        self.step_name = step_name


@dataclass(slots=True)
class BodyResult:
    """How one run of a body (a branch or an iteration) ended."""

    ok: bool
    output: Any = None
    failure: NodeFailure | None = None
    failed_node: str | None = None
    failed_step: str | None = None


def note_delay(frame: Frame, e: Edge) -> None:
    """Remember a taken connection's delay for its target (the longest, when several are taken)."""
    delay = e.delay
    if delay:
        frame.delay_in[e.target] = max(delay, frame.delay_in.get(e.target, 0.0))


class Frame:
    """The running state of one region: pending in-degrees, taken flags, ready queue, tasks."""

    __slots__ = (
        "run",
        "region",
        "parent",
        "remaining",
        "taken",
        "resp_in",
        "layer",
        "nodes",
        "loop",
        "suffix",
        "path",
        "ready",
        "running",
        "wakeup",
        "failure",
        "received",
        "last_output",
        "cancel_note",
        "delay_in",
        "scope_taken",
    )

    def __init__(
        self,
        run: Run,
        region: Region,
        parent: Frame | None,
        *,
        layer: dict[str, Any],
        nodes: ChainMap[str, Any],
        loop: dict[str, Any] | None,
        suffix: str,
        path: tuple[int, ...],
    ) -> None:
        self.run = run
        self.region = region
        self.parent = parent
        self.remaining = dict(region.indegree)
        self.taken: set[str] = set()
        self.resp_in: dict[str, Any] = {}
        self.layer = layer
        self.nodes = nodes
        self.loop = loop
        self.suffix = suffix
        self.path = path
        self.ready: deque[str] = deque()
        self.running: set[asyncio.Task[None]] = set()
        self.wakeup: asyncio.Event | None = None
        self.failure: RegionFailed | None = None
        self.received: set[Edge] | None = None
        self.last_output: Any = None
        self.cancel_note: str | None = None
        self.delay_in: dict[str, float] = {}  # seconds a node waits before it starts (connection delay)
        # node -> scope nodes (PARALLEL / LOOP) from inside which a connection to it was taken: they
        # count only if the scope node succeeds (a failed, handled PARALLEL does not reach its join)
        self.scope_taken: dict[str, set[str]] | None = None

    def runnable(self, node: str) -> bool:
        """Whether a connection into `node` was taken (so it runs once every one is resolved)."""
        return node in self.taken or (self.scope_taken is not None and node in self.scope_taken)

    def frame_of(self, node: str) -> Frame | None:
        """The frame (this or an enclosing one) whose region holds `node`."""
        f: Frame | None = self
        while f is not None:
            if node in f.region.nodes:
                return f
            f = f.parent
        return None

    def wake(self) -> None:
        if self.wakeup is not None:
            self.wakeup.set()

    def fail(self, failure: RegionFailed) -> None:
        if self.failure is None:
            self.failure = failure
        self.wake()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:  # _run_node catches everything; this is a bug guard
                logger.error("node task crashed", exc_info=exc)
                self.fail(RegionFailed(failure_from_exception(exc), "?", "?"))
        self.wake()

    async def drive(self) -> None:
        """Run the region until nothing is ready or running; raise RegionFailed on a failure."""
        run = self.run
        ready = self.ready
        scopes = run.plan.scopes
        try:
            while True:
                while ready and self.failure is None:
                    name = ready.popleft()
                    if not ready and not self.running and name not in scopes:
                        await run.run_node(self, name)  # the common chain case: no task needed
                    else:
                        task = asyncio.get_running_loop().create_task(run.run_node(self, name))
                        self.running.add(task)
                        task.add_done_callback(self._task_done)
                if self.failure is not None or not self.running:
                    break
                if self.wakeup is None:
                    self.wakeup = asyncio.Event()
                else:
                    self.wakeup.clear()
                if not ready and self.failure is None:
                    await self.wakeup.wait()
        except BaseException:
            await self._cancel_running()
            self.close()
            raise
        if self.failure is not None:
            await self._cancel_running()
            self.close()
            raise self.failure
        self.close()

    async def _cancel_running(self) -> None:
        tasks = tuple(self.running)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        """Resolve dead every connection leaving this region that was not resolved (cut-off nodes)."""
        for e in self.region.exits:
            target = self.parent.frame_of(e.target) if self.parent is not None else None
            if target is not None and (target.received is None or e not in target.received):
                self.run.resolve(target, e, False, None)


class Body:
    """A region a PARALLEL or LOOP handler runs: one branch, or the body of a loop."""

    __slots__ = ("run", "region", "ctx", "_last_layer", "_frame")

    def __init__(self, run: Run, region: Region, ctx: NodeContext) -> None:
        self.run = run
        self.region = region
        self.ctx = ctx
        self._last_layer: dict[str, Any] | None = None
        self._frame: Frame | None = None

    def note_cancel(self, reason: str) -> None:
        """Say why this body is about to be cancelled (shown in its cancelled step rows)."""
        if self._frame is not None:
            self._frame.cancel_note = reason

    @property
    def entries(self) -> list[str]:
        return self.region.entries

    async def run_once(self) -> BodyResult:
        """Run the body once in the owner's frame state (a PARALLEL branch)."""
        parent: Frame = self.ctx.frame
        frame = Frame(
            self.run,
            self.region,
            parent,
            layer=parent.layer,
            nodes=parent.nodes,
            loop=parent.loop,
            suffix=parent.suffix,
            path=parent.path,
        )
        return await self._drive(frame)

    def twin(self) -> Body:
        """Another Body over the same region (an iteration that runs beside this one's)."""
        return Body(self.run, self.region, self.ctx)

    async def run_iteration(self, index: int, item: Any = None, batch: Any = MISSING) -> BodyResult:
        """Run one loop iteration with fresh state: `loop.index`, `loop.item`, `{{owner.index}}`
        (and `loop.batch` when the LOOP hands out batches)."""
        parent: Frame = self.ctx.frame
        owner = self.ctx.node.name
        loop = {"index": index, "item": item}
        layer: dict[str, Any] = {owner: {"index": index, "item": item, "iteration": index}}
        if batch is not MISSING:
            loop["batch"] = layer[owner]["batch"] = batch
        frame = Frame(
            self.run,
            self.region,
            parent,
            layer=layer,
            nodes=parent.nodes.new_child(layer),
            loop=loop,
            suffix=f"{parent.suffix}[{index}]",
            path=(*parent.path, index),
        )
        self._last_layer = layer
        return await self._drive(frame)

    def condition_scope(self, index: int, item: Any = None, batch: Any = MISSING) -> Any:
        """A scope for the LOOP condition before iteration `index` (sees the previous iteration)."""
        parent: Frame = self.ctx.frame
        owner = self.ctx.node.name
        layer = dict(self._last_layer or {})
        loop = {"index": index, "item": item}
        if batch is not MISSING:
            loop["batch"] = batch
        layer[owner] = {**loop, "iteration": index}
        from flowdesk.domain.expressions import Scope

        return Scope(
            self.run.scope_values(self.ctx, loop=loop),
            parent.nodes.new_child(layer),
        )

    def publish(self) -> None:
        """Make the last iteration's node outputs visible after the loop."""
        if self._last_layer:
            owner = self.ctx.node.name
            frame: Frame = self.ctx.frame
            for k, v in self._last_layer.items():
                if k != owner:
                    frame.layer[k] = v

    async def _drive(self, frame: Frame) -> BodyResult:
        self._frame = frame
        resp = self.ctx.response
        owner = self.ctx.node.name
        for entry in self.region.entries:
            if resp is not None:
                frame.resp_in[entry] = resp
            delay = self.run.scope_delays.get((owner, entry))
            if delay:
                frame.delay_in[entry] = delay
            frame.ready.append(entry)
        try:
            await frame.drive()
        except RegionFailed as failed:
            return BodyResult(False, frame.last_output, failed.failure, failed.node, failed.step_name)
        return BodyResult(True, frame.last_output)


_COOKIE_MASKED_FIELDS = ("input_data", "output_data", "error_message")
_SECRET_MASKED_FIELDS = ("input_data", "output_data", "error_message", "warnings", "metrics")


class Run:
    """One execution of a plan: node runs, connection resolution, step rows and events."""

    def __init__(
        self,
        *,
        plan: Plan,
        execution: ExecutionInfo,
        input_data: Any,
        workflow_config: Mapping[str, Any],
        environment: Mapping[str, Any],
        secrets: Mapping[str, Any],
        debug: bool,
        control: RunControl,
        bus: ev.EventBus,
        steps: StepRecorder,
        mask: Callable[[Any], Any],
        mask_rows: bool = True,
        http: Callable[[], Any],
        get_api: Callable[[Any], Any],
        plugins: Any = None,
        reuse: Mapping[str, Any] | None = None,
        reused_from: int | None = None,
    ) -> None:
        self.plan = plan
        self.graph = plan.graph
        self.execution = execution
        self.execution_values = execution.as_dict()
        self.input_data = input_data
        self.workflow_config = workflow_config
        self.environment = dict(environment)
        self.secrets = dict(secrets)
        self.secret_values = secret_leaves(self.secrets)
        self.debug = debug
        self.control = control
        self.bus = bus
        self.steps = steps
        self._tracks_progress = steps.tracks_progress
        self._mask_rows = mask_rows  # whether secrets (or a redactor) can appear in a row
        self._http_state: Any = None
        self._mask = mask
        self._http = http
        self._get_api = get_api
        self.plugins = plugins
        self.reuse = reuse or {}
        self.reused_from = reused_from
        self.executor: Any = None  # the WorkflowExecutor running it, and its run options (SUBWORKFLOW)
        self.run_config: Mapping[str, Any] = {}
        self.step_into = False  # the debugger's F11: the next SUBWORKFLOW starts its child paused
        self.deadline: float | None = None
        self.timeout: asyncio.Timeout | None = None
        self.cancel_reason: str | None = None
        self.sequence = 0
        self.executed: dict[str, Any] = {}
        self.result: Any = MISSING
        self.done: set[str] = set()
        self.current_step: str | None = None
        self.top: Frame | None = None
        # Delays of the LOOP / PARALLEL connections that open a body: (owner, entry) -> seconds.
        self.scope_delays = plan.scope_delays
        self._total = max(1, len(plan.nodes))

    # -- services for NodeContext -----------------------------------------------------------
    def http(self) -> Any:
        return self._http()

    def http_state(self) -> Any:
        """This run's HTTP state (cookie jar, ...: engine.http.run_state), made on first use."""
        if self._http_state is None:
            from .http.run_state import RunHttpState

            self._http_state = RunHttpState(self.environment)
        return self._http_state

    def mask(self, value: Any) -> Any:
        """`value` as the run records it: secrets masked, and the values of its cookie jar."""
        value = self._mask(value)
        state = self._http_state
        return value if state is None else state.mask_cookies(value)

    def record_step(self, row: dict[str, Any]) -> None:
        """Hand a step row to the run's StepRecorder, its cookie values and secrets masked."""
        state = self._http_state
        if state is not None and state.cookies.values:
            state.mask_cookies_in(row, _COOKIE_MASKED_FIELDS)
        if self._mask_rows:
            mask = self._mask
            for key in _SECRET_MASKED_FIELDS:
                value = row.get(key)
                if value is not None:
                    row[key] = mask(value)
        self.steps.add(row)

    async def get_api(self, api_id: Any) -> Any:
        return await self._get_api(api_id)

    def redact(self, value: Any) -> Any:
        return self.mask(value)

    def log(
        self, level: str, message: str, node_name: str | None = None, step_name: str | None = None
    ) -> None:
        """A log line of the run: to the Python logger and, masked, to the event bus."""
        message = self.mask(message)
        # What a workflow does is not an error of the program: the Python log gets it one level
        # lower (INFO for a failed step), so a terminal without logging set up is not flooded.
        logger.log(_PYTHON_LEVELS.get(level, logging.DEBUG), "[%s] %s", step_name or "-", message)
        if self.bus.active:
            self.bus.emit(
                ev.LogLine(
                    self.execution.id, time.time(), level, message, node_name=node_name, step_name=step_name
                )
            )

    def _log_warnings(self, warnings: list[str], node_name: str, step_name: str) -> None:
        """Each warning of a finished step is a WARNING line of the run log (not only a column of its row)."""
        for warning in warnings:
            self.log("warning", f"{step_name}: {warning}", node_name, step_name)

    # -- control-flow handlers --------------------------------------------------------------
    def bodies(self, ctx: NodeContext) -> list[Body]:
        """The regions the node of `ctx` opens (PARALLEL branches / LOOP body), in connection order."""
        return [Body(self, r, ctx) for r in self.plan.scopes.get(ctx.node.name, ())]

    def set_result(self, output: Any) -> None:
        """The execution's output_data (END)."""
        self.result = output

    def release(self) -> None:
        """Let go of the node outputs and frames once the run has ended and its output is taken.

        The run, its frames and its handle refer to each other, so without this the outputs of
        every step (thousands of containers) would wait for a full collection of the cyclic
        garbage collector; let go, reference counting frees them at once (gc_control.py)."""
        self.top = None
        self.executed = {}
        self.result = MISSING

    @property
    def progress(self) -> float:
        return min(1.0, len(self.done) / self._total)

    # -- scopes ------------------------------------------------------------------------------
    def scope_values(
        self, ctx: NodeContext, *, loop: Any = MISSING, response: Any = MISSING
    ) -> dict[str, Any]:
        return {
            "input": self.input_data,
            "execution": self.execution_values,
            "loop": ctx.loop if loop is MISSING else loop,
            "env": self.environment,
            "secrets": self.secrets,
            "response": ctx.response if response is MISSING else response,
        }

    def make_scope(self, ctx: NodeContext, *, response: Any = MISSING) -> Any:
        from flowdesk.domain.expressions import Scope

        return Scope(self.scope_values(ctx, response=response), ctx.frame.nodes)

    def _scope_factory(self, ctx: NodeContext) -> Any:
        return self.make_scope(ctx)

    # -- running -----------------------------------------------------------------------------
    async def run_top(self) -> None:
        """Run the whole graph from its START node(s); raises RegionFailed on an unhandled failure."""
        top_layer: dict[str, Any] = {}
        frame = Frame(
            self,
            self.plan.top,
            None,
            layer=top_layer,
            nodes=ChainMap(top_layer),
            loop=None,
            suffix="",
            path=(),
        )
        self.top = frame
        frame.ready.extend(self.plan.top.entries)
        await frame.drive()

    async def run_node(self, frame: Frame, name: str) -> None:
        """Gate, run, record and resolve one node in `frame`."""
        control = self.control
        step_name = name + frame.suffix if frame.suffix else name
        released = False
        opens_scope = False
        if control.watching:
            self.current_step = step_name
            opens_scope = bool(self.plan.scopes.get(name))
            released = await control.before(name, step_name, opens_scope=opens_scope)
        try:
            delay = frame.delay_in.pop(name, 0.0)
            if delay > 0:
                await asyncio.sleep(delay)  # the connection's config.delay; cancelled with the run
            await self._execute(frame, name, step_name)
        finally:
            if released:
                control.after(True, opens_scope=opens_scope)

    async def _execute(self, frame: Frame, name: str, step_name: str) -> None:
        """One step: prepare its context, invoke its handler, turn that into an outcome (pure),
        decide its connections (pure), resolve them into their frames, then record and emit it."""
        node = self.plan.nodes[name]
        self.sequence += 1
        seq = self.sequence
        self.current_step = step_name
        if self._tracks_progress:
            self.steps.progress(step_name, min(1.0, len(self.done) / self._total))
        started_at = datetime.now(UTC)
        t0 = time.perf_counter()
        ctx = self._prepare(frame, node, name, step_name, seq)
        try:
            output, failure = await self._invoke(ctx, node, name, step_name)
        except asyncio.CancelledError:
            self._record_cancelled(frame, ctx, node, seq, started_at, t0)
            raise
        outcome = step_outcome(output, failure, ctx.response)
        frame.layer[name] = outcome.output
        if outcome.ok:
            self.executed[name] = outcome.output
            frame.last_output = outcome.output
        self.done.add(name)
        edges = self.plan.outgoing[name]
        # An unhandled failure stops the frame: what follows is neither run nor logged as skipped
        # (its connections are reported dead: nothing after them runs).
        returns = self.plan.returns.get(name)
        if not outcome.ok and not self.plan.has_error_edge[name]:
            dead_ends = [e.target for e in edges]
            if returns:
                dead_ends.extend(e.target for e in returns)
            self._effects(frame, ctx, outcome, seq, started_at, t0, (), tuple(dead_ends))
            assert outcome.failure is not None
            frame.fail(RegionFailed(outcome.failure, name, step_name))
            return
        decided = decide_edges(self, edges, outcome, ctx)
        taken, dead, pending_skips = self._apply_edges(frame, name, decided, outcome.response, outcome.ok)
        if returns:  # back to the enclosing LOOP: reported, never resolved
            for e, is_taken in decide_edges(self, returns, outcome, ctx):
                (taken if is_taken else dead).append(e.target)
        self._effects(frame, ctx, outcome, seq, started_at, t0, taken, dead)
        for target, target_name in pending_skips:
            self.skip(target, target_name)

    def _prepare(self, frame: Frame, node: Any, name: str, step_name: str, seq: int) -> NodeContext:
        """The step's context, and NodeStarted emitted."""
        ctx = NodeContext(
            node=node,
            graph=self.graph,
            step_name=step_name,
            execution=self.execution,
            workflow_config=self.workflow_config,
            debug=self.debug,
            deadline=self.deadline,
            scope_factory=self._scope_factory,
            services=self,
            runtime=self,
            frame=frame,
            response=frame.resp_in.get(name),
            loop=frame.loop,
        )
        if self.bus.active:
            self.bus.emit(
                ev.NodeStarted(
                    self.execution.id, time.time(), name, node.node_type, step_name, seq, frame.path
                )
            )
        return ctx

    async def _invoke(
        self, ctx: NodeContext, node: Any, name: str, step_name: str
    ) -> tuple[Any, NodeFailure | None]:
        """Tell plugins, then run the handler (or reuse a resumed run's output): (output, None) or
        (None, failure). Only a cancellation propagates."""
        if self.plugins is not None:
            await self.plugins.on_node_execution(node.id if node.id is not None else name, ctx)
        if self.debug:
            self._debug_inputs(ctx)
        kind = self.plan.kinds[name]
        reused = self.reuse.get(step_name, MISSING) if kind.reusable and self.reuse else MISSING
        try:
            if reused is not MISSING:
                ctx.warn(f"output reused from execution {self.reused_from}")
                return reused, None
            output = await kind.handle(ctx)
            if output is None:
                output = {}
            mapping = node.config.get("output_mapping") if node.config else None
            if mapping:
                output = self._apply_mapping(ctx, output, mapping)
            return output, None
        except NodeFailure as f:
            return None, f
        except Exception as exc:  # a handler bug or an unexpected error fails the node, not the engine
            if not isinstance(exc, TimeoutError | ConnectionError):
                logger.debug("node %s raised", step_name, exc_info=exc)
            return None, failure_from_exception(exc)

    def _apply_edges(
        self, frame: Frame, name: str, decided: list[tuple[Edge, bool]], resp: Any, ok: bool
    ) -> tuple[list[str], list[str], list[tuple[Frame, str]]]:
        """Resolve the decided connections (and the scope's gates) into their frames: the taken
        and the dead targets, and the targets to log skipped once the step itself is recorded."""
        taken: list[str] = []
        dead: list[str] = []
        pending_skips: list[tuple[Frame, str]] = []
        for e, is_taken in decided:
            target = frame if not e.exit else frame.frame_of(e.target)
            if target is None:
                continue
            (taken if is_taken else dead).append(e.target)
            if self.resolve(target, e, is_taken, resp, defer=True):
                pending_skips.append((target, e.target))
        for t in self.plan.gates.get(name, ()):
            if self.resolve_gate(frame, t, name, ok):
                pending_skips.append((frame, t))
        return taken, dead, pending_skips

    def _effects(
        self,
        frame: Frame,
        ctx: NodeContext,
        outcome: StepOutcome,
        seq: int,
        started_at: datetime,
        t0: float,
        taken: list[str] | tuple[str, ...],
        dead: list[str] | tuple[str, ...],
    ) -> None:
        """Record the step's row, emit NodeFinished, log its warnings and failure."""
        node = ctx.node
        failure = outcome.failure
        duration = time.perf_counter() - t0
        warnings = ctx.step_warnings
        attempts = failure.attempts if failure is not None else (len(ctx.attempts) or 1)
        metrics = ctx.metrics
        if ctx.attempts:
            metrics = {**metrics, "attempts": ctx.attempts}
        status = _SUCCESS if failure is None else _FAILED
        error = failure.message if failure is not None else None
        error_type = failure.error_type if failure is not None else None
        step_name = ctx.step_name
        self.record_step(
            {
                "node_id": node.id,
                "step_name": step_name,
                "node_name": node.name,
                "node_type": node.node_type,
                "status": status,
                "input_data": ctx.inputs if ctx.inputs is not None else node.config,
                "output_data": outcome.output,
                "error_message": error,
                "error_type": error_type,
                "attempts": attempts,
                "execution_time": duration,
                "warnings": warnings,
                "sequence": seq,
                "metrics": metrics,
                "iteration_path": list(frame.path),
                "started_at": started_at,
                "completed_at": datetime.now(UTC),
            }
        )
        if self.bus.active:
            self.bus.emit(
                ev.NodeFinished(
                    self.execution.id,
                    time.time(),
                    node.name,
                    node.node_type,
                    step_name,
                    seq,
                    status,
                    self.mask(outcome.output),
                    self.mask(error),
                    error_type,
                    attempts,
                    duration,
                    frame.path,
                    tuple(taken),
                    tuple(warnings),
                    tuple(dead),
                )
            )
        self._log_warnings(warnings, node.name, step_name)
        if failure is not None:
            self.log("error", f"{step_name} failed: {failure.message}", node.name, step_name)

    def resolve(self, frame: Frame, e: Edge, taken: bool, resp: Any, *, defer: bool = False) -> bool:
        """Resolve one connection into `frame`; True when its target must be skipped (with defer)."""
        t = e.target
        if e.exit:
            if frame.received is None:
                frame.received = set()
            elif e in frame.received:
                return False
            frame.received.add(e)
        rem = frame.remaining.get(t, 1) - 1
        frame.remaining[t] = rem
        if taken:
            owner = self.plan.gate_owner.get(e) if e.exit else None
            if owner is None:
                frame.taken.add(t)
            else:
                if frame.scope_taken is None:
                    frame.scope_taken = {}
                frame.scope_taken.setdefault(t, set()).add(owner)
            note_delay(frame, e)
            if resp is not None:
                frame.resp_in[t] = resp
        if rem == 0:
            if frame.runnable(t):
                frame.ready.append(t)
                frame.wake()
            elif defer:
                return True
            else:
                self.skip(frame, t)
        return False

    def resolve_gate(self, frame: Frame, t: str, owner: str, ok: bool = True) -> bool:
        """A scope node finished: release the wait of a node fed from inside it (neither taken nor
        dead); when it failed, the connections taken from inside it into `t` no longer count."""
        if not ok and frame.scope_taken is not None:
            owners = frame.scope_taken.get(t)
            if owners is not None:
                owners.discard(owner)
                if not owners:
                    del frame.scope_taken[t]
        rem = frame.remaining.get(t, 1) - 1
        frame.remaining[t] = rem
        if rem == 0:
            if frame.runnable(t):
                frame.ready.append(t)
                frame.wake()
            else:
                return True
        return False

    def skip(self, frame: Frame, name: str) -> None:
        """Log `name` skipped and resolve its connections dead (dead-path elimination)."""
        stack = [(frame, name)]
        while stack:
            f, n = stack.pop()
            self._record_skipped(f, n)
            for e in self.plan.outgoing[n]:
                target = f if not e.exit else f.frame_of(e.target)
                if target is not None and self.resolve(target, e, False, None, defer=True):
                    stack.append((target, e.target))
            for t in self.plan.gates.get(n, ()):
                if self.resolve_gate(f, t, n):
                    stack.append((f, t))
            if n in self.plan.scopes:
                self._skip_members(f, n)
            for region in self.plan.scopes.get(n, ()):
                for e in region.exits:
                    target = f.frame_of(e.target)
                    if target is not None and self.resolve(target, e, False, None, defer=True):
                        stack.append((target, e.target))

    def _skip_members(self, frame: Frame, owner: str) -> None:
        """A skipped PARALLEL / LOOP node: its branches / body are logged skipped too (never started)."""
        members: list[str] = []
        stack = list(self.plan.scopes.get(owner, ()))
        while stack:
            region = stack.pop()
            for m in region.nodes:
                members.append(m)
                stack.extend(self.plan.scopes.get(m, ()))
        position = self.plan.position
        for m in sorted(members, key=position.__getitem__):
            self._record_skipped(frame, m)

    def _record_skipped(self, frame: Frame, name: str) -> None:
        node = self.plan.nodes[name]
        self.sequence += 1
        step_name = name + frame.suffix if frame.suffix else name
        now = _now()
        self.done.add(name)
        self.record_step(
            {
                "node_id": node.id,
                "step_name": step_name,
                "node_name": name,
                "node_type": node.node_type,
                "status": _SKIPPED,
                "input_data": None,
                "output_data": None,
                "error_message": None,
                "error_type": None,
                "attempts": 0,
                "execution_time": 0.0,
                "warnings": [],
                "sequence": self.sequence,
                "metrics": {},
                "iteration_path": list(frame.path),
                "started_at": now,
                "completed_at": now,
            }
        )
        if self.bus.active:
            self.bus.emit(
                ev.NodeFinished(
                    self.execution.id,
                    time.time(),
                    name,
                    node.node_type,
                    step_name,
                    self.sequence,
                    _SKIPPED,
                    iteration_path=frame.path,
                    dead=self.plan_targets(name),
                )
            )

    def plan_targets(self, name: str) -> tuple[str, ...]:
        """The targets of every connection leaving `name` (its branches / loop body included): all
        dead when it is skipped."""
        targets = [e.target for e in self.plan.outgoing[name]]
        targets.extend(e.target for e in self.plan.returns.get(name, ()))
        for region in self.plan.scopes.get(name, ()):
            targets.extend(region.entries)
        return tuple(targets)

    def _record_cancelled(
        self, frame: Frame, ctx: NodeContext, node: Any, seq: int, started_at: datetime, t0: float
    ) -> None:
        timed_out = self.timeout is not None and self.timeout.expired()
        note: str | None = None
        f: Frame | None = frame
        while f is not None and note is None:
            note, f = f.cancel_note, f.parent
        reason = "the workflow timed out" if timed_out else (note or self.cancel_reason or "cancelled")
        error_type = "timeout" if timed_out else "cancelled"
        duration = time.perf_counter() - t0
        self.record_step(
            {
                "node_id": node.id,
                "step_name": ctx.step_name,
                "node_name": node.name,
                "node_type": node.node_type,
                "status": _CANCELLED,
                "input_data": ctx.inputs if ctx.inputs is not None else node.config,
                "output_data": None,
                "error_message": f"cancelled: {reason}",
                "error_type": error_type,
                "attempts": len(ctx.attempts) or 1,
                "execution_time": duration,
                "warnings": list(ctx.warnings),
                "sequence": seq,
                "metrics": {**ctx.metrics, "attempts": ctx.attempts} if ctx.attempts else ctx.metrics,
                "iteration_path": list(frame.path),
                "started_at": started_at,
                "completed_at": _now(),
            }
        )
        if self.bus.active:
            self.bus.emit(
                ev.NodeFinished(
                    self.execution.id,
                    time.time(),
                    node.name,
                    node.node_type,
                    ctx.step_name,
                    seq,
                    _CANCELLED,
                    None,
                    f"cancelled: {reason}",
                    error_type,
                    len(ctx.attempts) or 1,
                    duration,
                    frame.path,
                    warnings=tuple(ctx.warnings),
                )
            )
        self._log_warnings(ctx.warnings, node.name, ctx.step_name)

    def _apply_mapping(self, ctx: NodeContext, output: Any, mapping: Any) -> Any:
        """Evaluate `output_mapping` (field -> expression, `response` = this node's response)."""
        if not isinstance(mapping, Mapping):
            raise NodeFailure(
                "output_mapping must be an object of field: expression", error_type="expression"
            )
        from flowdesk.domain.expressions import evaluate

        resp = output.get("response", ctx.response) if isinstance(output, dict) else ctx.response
        scope = self.make_scope(ctx, response=resp)
        mapped: dict[str, Any] = {}
        for key, expr in mapping.items():
            if isinstance(expr, str):
                try:
                    mapped[str(key)] = evaluate(expr, scope)
                except Exception as exc:
                    raise NodeFailure(
                        f"output_mapping '{key}' could not be evaluated: {exc}", error_type="expression"
                    ) from exc
            else:
                mapped[str(key)] = expr
        ctx.warnings.extend(getattr(scope, "warnings", ()))
        if isinstance(output, dict):
            return {**output, **mapped}
        return {"value": output, **mapped}

    def _debug_inputs(self, ctx: NodeContext) -> None:
        try:
            resolved = ctx.render(ctx.node.config)
        except Exception as exc:  # debug output must never fail a node
            resolved = f"<could not render: {exc}>"
        self.log(
            "debug",
            f"{ctx.step_name} inputs: {resolved!r}; loop: {ctx.loop!r}; response: "
            f"{(ctx.response or {}).get('status') if isinstance(ctx.response, dict) else None!r}",
            ctx.node.name,
            ctx.step_name,
        )
