"""WorkflowExecutor and ExecutionHandle: the Python API that runs workflows.

    executor = WorkflowExecutor(debug=False, db="runs.db")
    execution = await executor.execute_workflow(workflow_id, {"user_id": 1})
    print(execution.status, execution.output_data)

`config={"async": True}` returns a running handle at once; with `step_by_step=True` or breakpoints
the call returns as soon as the run pauses (or ends); otherwise it returns when the run ends.
`execute_graph(graph, ...)` runs an in-memory WorkflowGraph (persisted when the graph's workflow has
a database id and the executor a database, else kept in memory: `handle.steps`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowdesk.domain.enums import ExecutionStatus, Severity
from flowdesk.domain.errors import InvalidInputError, NotFoundError
from flowdesk.domain.models import ApiDefinition, ExecutionLog, WorkflowGraph
from flowdesk.domain.workflow_inputs import apply_inputs
from flowdesk.gc_control import gc_paused, space_young_collections, unspace_young_collections

from . import events as ev
from . import input_limit, records
from .context import ExecutionInfo
from .control import RunControl
from .custom_types import StoredTypes, custom_type_names, load_stored_types, runnable
from .errors import ExecutionNotResumableError, NodeFailure, WorkflowInvalidError
from .handlers.subworkflow import subworkflow_link
from .masking import SecretMasker
from .plan import Plan, PlanError, compile_plan
from .plugins import PluginHost, discover_plugins
from .registry import HandlerRegistry, NodeHandler, default_registry
from .response_cache import ResponseCache
from .scheduler import MISSING, RegionFailed, Run
from .step_recorder import DatabaseSteps, MemorySteps, StepRecorder
from .writer import NOT_STORED, SINK_THRESHOLD, ExecutionWriter

logger = logging.getLogger(__name__)
STORE_OUTAGE_PAUSE = "the database cannot be reached; the run goes on when it answers"
"""The pause reason of runs waiting for their database (ExecutionWriter's outage handling)."""

RESUMABLE = frozenset(
    {
        ExecutionStatus.INTERRUPTED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMED_OUT,
    }
)


def _timeout_of(*configs: Mapping[str, Any] | None) -> float | None:
    for config in configs:
        if config and config.get("timeout") not in (None, "", 0):
            try:
                value = float(config["timeout"])
            except (TypeError, ValueError):
                raise WorkflowInvalidError(
                    f"timeout must be a number of seconds, got {config['timeout']!r}"
                ) from None
            if value > 0:
                return value
    return None


@dataclass(slots=True)
class RunSetup:
    """Everything a run is started from: the graph and its input, how it is run, and (when made by
    the caller already) its execution row (`created`: id, started_at)."""

    graph: WorkflowGraph
    input_data: Any
    persist: bool
    execution_name: str | None = None
    config: Mapping[str, Any] | None = None
    step_by_step: bool = False
    breakpoints: Iterable[str] = ()
    apis: Any = None
    secrets: Mapping[str, str] | None = None
    environment: Mapping[str, str] | None = None
    environment_name: str | None = None
    reuse: Mapping[str, Any] | None = None
    resumed_from: int | None = None
    plan: Plan | None = None
    created: tuple[int, datetime] | None = None
    alert_rules: bool | None = None  # read with `created`: whether the workflow had alert rules
    plugins_called: bool = False


class ExecutionHandle:
    """A run: its id and state, and the debugger's controls (step, pause, resume, cancel)."""

    def __init__(self, executor: WorkflowExecutor, run: Run, *, persist: bool, timeout: float | None) -> None:
        self._executor = executor
        self._run = run
        self._persist = persist
        self._timeout = timeout
        self.id: int | None = run.execution.id
        self.workflow_id: int | None = run.execution.workflow_id
        self.execution_name: str | None = run.execution.name
        self.status: ExecutionStatus = ExecutionStatus.RUNNING
        self.output_data: Any = None
        self.error_message: str | None = None
        self.error_type: str | None = None
        self.started_at: datetime = run.execution.started_at
        self.completed_at: datetime | None = None
        self.steps: list[dict[str, Any]] = []  # step rows, kept when the run is not persisted
        self._task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._settled: asyncio.Event = asyncio.Event()  # paused or done
        self._paused_at: float | None = None
        self.pause_reason: str | None = None
        self._interrupting = False
        self._storage_failure: str | None = None
        # Whether the workflow had alert rules when the run's row was made (None: not known, e.g. a
        # row made by the server or a worker): without rules its end evaluates none.
        self.alert_rules: bool | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def current_step(self) -> str | None:
        """Step name of the node running, or about to run when paused (the last one when ended)."""
        waiting = self._run.control.waiting
        if waiting and self.status == ExecutionStatus.PAUSED:
            return waiting[0]  # the node the next step() lets through
        return self._run.current_step

    @property
    def current_node(self) -> str | None:
        """`current_step`, under the name the database and the monitor also use."""
        return self.current_step

    @property
    def progress(self) -> float:
        """0-100: the share of the workflow's nodes that have run or been skipped."""
        if self.status == ExecutionStatus.COMPLETED:
            return 100.0
        return round(self._run.progress * 100.0, 1)

    @property
    def input_data(self) -> Any:
        """The run's input as it is recorded (secrets masked)."""
        return self._run.mask(self._run.input_data)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def result(self) -> dict[str, Any]:
        """What `after_execution` plugins receive."""
        return {
            "execution_id": self.id,
            "workflow_id": self.workflow_id,
            "status": self.status.value,
            "output_data": self.output_data,
            "error_message": self.error_message,
            "started_at": self.started_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "duration": (self.completed_at - self.started_at).total_seconds() if self.completed_at else None,
        }

    # -- controls ----------------------------------------------------------------------------
    async def wait(self) -> ExecutionHandle:
        """Wait until the run has ended; returns the handle."""
        await self._done.wait()
        return self

    async def step(self) -> ExecutionHandle:
        """Run the next ready node, then pause again (returns when paused again or ended)."""
        if not self.done:
            await self._run.control.step()
            if self._run.control.finished:
                await self._done.wait()  # ended: return once the run's end is recorded too
        return self

    async def step_into(self) -> ExecutionHandle:
        """Step, and when the node is a SUBWORKFLOW start its child run paused (step by step), to be
        driven through its own handle; returns when this run is paused again or ended."""
        self._run.step_into = True
        try:
            return await self.step()
        finally:
            self._run.step_into = False

    @property
    def parent_execution_id(self) -> int | None:
        """The run whose SUBWORKFLOW step started this one (None for a top-level run)."""
        return subworkflow_link(self._run.run_config).get("parent_execution_id")

    async def resume(self) -> ExecutionHandle:
        """Continue a paused run (until the next breakpoint); returns at once."""
        self._run.control.resume()
        return self

    def set_breakpoints(self, names: Iterable[str]) -> None:
        """Replace the run's breakpoints (node names it pauses before) while it runs."""
        self._run.control.set_breakpoints(names)

    def pause(self) -> None:
        """Pause: running nodes finish, no new node starts until step() or resume()."""
        if not self.done:
            self._run.control.pause("paused by the user")

    def cancel(self, reason: str = "cancelled by the user") -> None:
        """Stop the run: running nodes are cancelled (logged `cancelled`), status `cancelled`."""
        if self._task is not None and not self.done:
            self._run.cancel_reason = reason
            self._task.cancel()

    def interrupt(self, reason: str = "the process is stopping") -> None:
        """Stop the run as a crash would, but cleanly: running nodes are cancelled, the status is
        `interrupted`, and `resume` can finish the run later (a server shutting down does this)."""
        self._interrupting = True
        self.cancel(reason)

    def _fail_storage(self, sentence: str) -> None:
        """The writer could not store this run's step rows: stop the run as `failed`, saying why."""
        if self._storage_failure is None:
            self._storage_failure = sentence
            self.cancel(sentence)

    async def logs(self) -> list[Any]:
        """The step rows of this run, in start order (from the database when persisted)."""
        if not self._persist:
            return [
                ExecutionLog.from_row(r, self.id) for r in sorted(self.steps, key=lambda r: r["sequence"])
            ]
        from flowdesk.services.executions import ExecutionService

        db = await self._executor.database()
        return await self._executor.writer_for(db).call(ExecutionService(db).get_logs, self.id)

    # -- the run -----------------------------------------------------------------------------
    def _on_pause(self, reason: str, step_name: str | None) -> None:
        if self.done or self._run.control.finished:  # ending: its end is being recorded
            return
        run = self._run
        self.status = ExecutionStatus.PAUSED
        self.pause_reason = reason
        self._paused_at = asyncio.get_running_loop().time()
        if run.timeout is not None and run.deadline is not None:
            run.timeout.reschedule(None)  # paused time does not count against the timeout
        if step_name is not None:
            run.current_step = step_name
        if self._persist:
            writer = self._executor._writer
            assert writer is not None and self.id is not None
            writer.update_execution(
                self.id,
                status=ExecutionStatus.PAUSED.value,
                current_node=run.current_step,
                progress=run.progress,
            )
            writer.request_flush()
        self._emit(ev.ExecutionPaused(self.id, time.time(), reason, run.current_step))
        self._settled.set()

    def _on_resume(self) -> None:
        if self.done or self._run.control.finished:
            return
        run = self._run
        self.status = ExecutionStatus.RUNNING
        self.pause_reason = None
        self._settled.clear()
        if self._paused_at is not None and run.deadline is not None and run.timeout is not None:
            run.deadline += asyncio.get_running_loop().time() - self._paused_at
            run.timeout.reschedule(run.deadline)
        self._paused_at = None
        if self._persist:
            writer = self._executor._writer
            assert writer is not None and self.id is not None
            writer.update_execution(self.id, status=ExecutionStatus.RUNNING.value)
        self._emit(ev.ExecutionResumed(self.id, time.time()))

    def _emit(self, event: ev.EngineEvent) -> None:
        if self._executor.events.active:
            self._executor.events.emit(event)

    async def _main(self) -> None:
        space_young_collections()  # see flowdesk/gc_control.py: the collector costs a run dearly
        try:
            await self._run_to_end()
        finally:
            unspace_young_collections()

    async def _run_to_end(self) -> None:
        run = self._run
        loop = asyncio.get_running_loop()
        status = ExecutionStatus.COMPLETED
        error: str | None = None
        t0 = time.perf_counter()
        self._emit(
            ev.ExecutionStarted(
                self.id,
                time.time(),
                self.workflow_id,
                self.execution_name,
                run.mask(run.input_data),
                **subworkflow_link(run.run_config),
            )
        )
        timeout_cm = asyncio.timeout(None)
        try:
            async with timeout_cm:
                run.timeout = timeout_cm
                if self._timeout is not None:
                    run.deadline = loop.time() + self._timeout
                    if run.control.paused:  # step by step: the clock starts at the first step
                        self._paused_at = loop.time()
                    else:
                        timeout_cm.reschedule(run.deadline)
                await run.run_top()
        except RegionFailed as failed:
            status = ExecutionStatus.FAILED
            error = f"{failed.step_name}: {failed.failure.message}"
            self.error_type = failed.failure.error_type
        except TimeoutError:
            if timeout_cm.expired():
                status = ExecutionStatus.TIMED_OUT
                error = f"the workflow timed out after {self._timeout:g} s"
                self.error_type = "timeout"
            else:
                status = ExecutionStatus.FAILED
                error = "timed out"
                self.error_type = "timeout"
        except asyncio.CancelledError:
            if self._storage_failure is not None:
                status = ExecutionStatus.FAILED
                error = self._storage_failure
                self.error_type = "storage"
            else:
                status = ExecutionStatus.INTERRUPTED if self._interrupting else ExecutionStatus.CANCELLED
                error = run.cancel_reason or "cancelled"
                self.error_type = "cancelled"
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        except Exception as exc:  # an engine bug must still end the run properly
            logger.exception("execution %s crashed", self.id)
            status = ExecutionStatus.FAILED
            error = f"internal error: {type(exc).__name__}: {exc}"
            self.error_type = "other"
        await self._finish(status, error, time.perf_counter() - t0)

    async def _finish(self, status: ExecutionStatus, error: str | None, duration: float) -> None:
        run = self._run
        if status == ExecutionStatus.COMPLETED:
            output = run.result if run.result is not MISSING else dict(run.executed)
        else:
            output = run.result if run.result is not MISSING else None
        self.output_data = run.mask(output)
        self.error_message = run.mask(error) if error else None
        self.status = status
        self.completed_at = datetime.now(UTC)
        run.control.finish()
        if self._persist:
            writer = self._executor._writer
            assert writer is not None and self.id is not None
            writer.update_execution(
                self.id,
                status=status.value,
                output_data=self.output_data,
                error_message=self.error_message,
                current_node=run.current_step,
                progress=1.0 if status == ExecutionStatus.COMPLETED else run.progress,
                completed_at=self.completed_at,
                _audit=f"Run {self.id} went from running to {status.value}"
                + (f" ({self.error_message})." if self.error_message else "."),
            )
            try:
                await asyncio.shield(writer.flush())
            except asyncio.CancelledError:
                pass
            failed = writer.failed.get(self.id)
            if failed is not None and self.status != ExecutionStatus.FAILED:
                # The run ended before the writer's failure reached it: the row says failed (writer.py).
                self.status = ExecutionStatus.FAILED
                self.error_message = run.mask(failed)
                self.error_type = "storage"
        self._emit(
            ev.ExecutionFinished(
                self.id, time.time(), status.value, self.output_data, self.error_message, duration
            )
        )
        if self._persist and self.id is not None:
            self._executor._alert_after_run(self)
        try:
            plugins = self._executor.plugins
            if plugins:
                await plugins.after_execution(self.id, self.result)
            self._executor._active.pop(id(self), None)
            run.release()
        except Exception:  # an engine bug here must not leave the run's waiters waiting forever
            logger.exception("execution %s: tidying up after its end failed", self.id)
        finally:
            self._done.set()
            self._settled.set()

    def __repr__(self) -> str:
        return f"<ExecutionHandle id={self.id} status={self.status.value} step={self.current_step!r}>"


class WorkflowExecutor:
    """Runs workflows (from the database or in memory); one per application is enough.

    `db` is a Database, a path or URL, or None (the default database, opened on first use).
    `secrets` / `environment` feed `{{secrets.NAME}}` / `{{env.NAME}}`; every secret value (and what
    `redactor` masks) is replaced by *** in step rows, log lines and events. `step_sink` says where
    bulk step inserts go on a SQLite file: None (the default) the step sink process once a batch is
    large, False always the writer thread, True the sink from the first row (engine/writer.py).
    `max_input_bytes` bounds a run's input (JSON size; engine/input_limit.py). `persist=False` is
    the ephemeral mode: runs write no execution row and no step rows (the handle keeps the rows in
    `handle.steps`; results and events are the same), for tests, previews and tight inner loops.
    """

    def __init__(
        self,
        debug: bool = False,
        db: Any = None,
        *,
        secrets: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        redactor: Any = None,
        registry: HandlerRegistry | None = None,
        load_plugins: bool = True,
        http: Any = None,
        step_sink: bool | None = None,
        max_input_bytes: int | None = None,
        broker: str | None = None,
        persist: bool = True,
    ) -> None:
        self.debug = debug
        # False: the ephemeral mode, no execution row and no step rows for any run (the database,
        # when given, is only read: stored workflows and APIs); results and events as usual.
        self.persist = persist
        self.broker = broker  # where `config={"queue": ...}` hands runs (else $FLOWDESK_BROKER)
        self.step_sink = step_sink
        # The largest input a run takes (engine/input_limit.py: default 50 MB, $FLOWDESK_MAX_INPUT_MB).
        self.max_input_bytes = input_limit.max_input_bytes(max_input_bytes)
        self._db_spec = db
        self._db: Any = None
        self._own_db = False
        self.secrets: dict[str, str] = dict(secrets or {})
        self.environment: dict[str, str] = dict(environment or {})
        self.redactor = redactor
        self.registry = registry or HandlerRegistry(parent=default_registry())
        self.events = ev.EventBus()
        self.plugins = PluginHost()
        if load_plugins:
            for plugin in discover_plugins():
                self.plugins.add(plugin)
        self._http = http
        self._writer: ExecutionWriter | None = None
        self._plans: dict[str, tuple[Plan, list[Any]]] = {}
        self._graphs = records.GraphCache()
        self._active: dict[int, ExecutionHandle] = {}
        self._outage_paused: set[int] = set()  # runs paused while the database cannot be reached
        self._alerting: set[asyncio.Task[Any]] = set()  # alert evaluations after runs (alerting.py)
        # API_CALL answers kept in memory for this engine's runs (engine/response_cache.py)
        self.response_cache = ResponseCache()

    # -- extension points --------------------------------------------------------------------
    def register_plugin(self, plugin: Any) -> None:
        """Add a plugin (a WorkflowPlugin instance or class)."""
        self.plugins.add(plugin)

    def unregister_plugin(self, plugin: Any) -> None:
        self.plugins.remove(plugin)

    def register_node_handler(self, node_type: str, handler: NodeHandler, **options: Any) -> None:
        """Add a node type to this executor (`async def handler(ctx) -> dict`)."""
        self.registry.register(node_type, handler, **options)
        self._plans.clear()
        self._graphs.clear()

    def subscribe(self, listener: Callable[[ev.EngineEvent], Any]) -> Callable[[], None]:
        """Listen to every event of this executor's runs; returns an unsubscribe function."""
        return self.events.subscribe(listener)

    @property
    def active_executions(self) -> list[ExecutionHandle]:
        """Handles of the runs still going on."""
        return list(self._active.values())

    # -- resources ---------------------------------------------------------------------------
    async def database(self) -> Any:
        """The database this executor records into, opened on first use (a Database given is used as is)."""
        if self._db is None:
            from flowdesk.store import Database

            spec = self._db_spec
            if isinstance(spec, Database):
                self._db = spec
            else:
                self._db = await asyncio.to_thread(Database, spec)
                self._own_db = True
            if self._http is not None:
                self._attach_sign_ins(self._db)
        return self._db

    def _attach_sign_ins(self, db: Any) -> None:
        """Requests with OAuth2 authorization code auth use the sign-ins stored in this database."""
        tokens = getattr(self._http, "user_tokens", None)
        if tokens is not None and tokens.store is None:
            from flowdesk.services.secrets import SecretService
            from flowdesk.services.sign_ins import SignInStore

            tokens.store = SignInStore(SecretService(db))

    def writer_for(self, db: Any) -> ExecutionWriter:
        """The one writer thread of `db` (created on first use): every row of this executor's runs, and
        any other database call that must be ordered with them, goes through it."""
        if self._writer is None:
            self._writer = ExecutionWriter(db, step_sink=self.step_sink)
            self._graphs.db = db
            loop = asyncio.get_running_loop()

            def on_failure(execution_id: int, sentence: str) -> None:  # on the writer thread
                loop.call_soon_threadsafe(self._storage_failed, execution_id, sentence)

            def on_outage(down: bool) -> None:  # on the writer thread
                loop.call_soon_threadsafe(self._store_outage, down)

            self._writer.on_failure = on_failure
            self._writer.on_outage = on_outage
        return self._writer

    def _store_outage(self, down: bool) -> None:
        """The database cannot be reached (or answers again): the runs recording into it pause
        before their next node (nodes running finish) and go on once their rows can be written."""
        if down:
            for key, handle in list(self._active.items()):
                control = handle._run.control
                if handle._persist and not control.finished and not control.paused:
                    control.pause(STORE_OUTAGE_PAUSE)
                    self._outage_paused.add(key)
            return
        for key in list(self._outage_paused):
            paused = self._active.get(key)
            if paused is not None and not paused.done and paused.pause_reason == STORE_OUTAGE_PAUSE:
                paused._run.control.resume()
        self._outage_paused.clear()

    def _storage_failed(self, execution_id: int, sentence: str) -> None:
        for handle in list(self._active.values()):
            if handle.id == execution_id:
                handle._fail_storage(sentence)

    def _alert_after_run(self, handle: ExecutionHandle) -> None:
        """Evaluate the alert rules of a recorded run's workflow (engine/alerting.py) in a task of its
        own: the run's waiters do not wait for it, `aclose()` does (so `flowdesk run` has evaluated
        before it exits). Its writer call is queued before the next run can start. A workflow that
        had no rules when the run started (read with its row) is not evaluated: no writer call."""
        writer = self._writer
        if writer is None or self._db is None or handle.alert_rules is False:
            return  # nothing recorded, or the workflow had no rules as the run started
        from .alerting import alert_after_run

        task = asyncio.get_running_loop().create_task(
            alert_after_run(
                writer,
                self._db,
                handle.workflow_id,
                handle.id,
                emit=self.events.emit,
                http=self.http_client,
                secrets=self.secrets,
                environment=self.environment,
            )
        )
        self._alerting.add(task)
        task.add_done_callback(self._alerting.discard)

    def http_client(self) -> Any:
        """The shared HttpClient (flowdesk.engine.http), made on first use."""
        if self._http is None:
            from .http import HttpClient

            self._http = HttpClient()
            if self._db is not None:
                self._attach_sign_ins(self._db)
        return self._http

    async def on_writer(self, fn: Callable[[Any], Any]) -> Any:
        """`fn(database)` on the engine's writer thread, after what is queued there (the response
        cache's rows: engine/response_cache.py); its result."""
        db = await self.database()
        return await self.writer_for(db).call(fn, db)

    def clear_response_cache(self, workflow_id: int | None = None) -> int:
        """Forget the answers this engine keeps in memory (of one workflow, or all); how many went.
        The database's are cleared by services.response_cache."""
        return self.response_cache.clear(workflow_id)

    async def stored_run(self, execution_id: int) -> tuple[Any, list[Any]]:
        """A recorded execution and its step rows in start order, read after every change queued
        so far (what `flowdesk run` reports)."""
        from flowdesk.services.executions import ExecutionService

        db = await self.database()
        service = ExecutionService(db)
        writer = self.writer_for(db)
        execution = await writer.call(service.get_execution, execution_id)
        return execution, await writer.call(service.get_logs, execution_id)

    async def flush(self) -> None:
        """Wait until every step row and execution change queued so far is committed (a run's rows
        are committed when it ends anyway; this is for a paused or running one)."""
        if self._writer is not None:
            await self._writer.flush()

    async def aclose(self) -> None:
        """Cancel active runs, close the HTTP pool, stop the writer, close an owned database."""
        for handle in list(self._active.values()):
            handle.cancel("the executor was closed")
            await handle.wait()
        while self._alerting:  # alerts of ended runs: evaluated and their webhooks called first
            await asyncio.gather(*self._alerting, return_exceptions=True)
        if self._http is not None and hasattr(self._http, "aclose"):
            await self._http.aclose()
        if self._writer is not None:
            await self._writer.release_channel()  # the loop's rows to the step sink, answered
            await asyncio.to_thread(self._writer.close)
            self._writer = None
        if self._own_db and self._db is not None:
            self._db.close()
            self._db = None

    async def __aenter__(self) -> WorkflowExecutor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- running -----------------------------------------------------------------------------
    async def prepare(self, workflow_id: int) -> None:
        """Load a stored workflow, validate it and compile its plan ahead of a run, off the event
        loop (the database on the writer thread, the compiling in a worker thread): the run that
        follows starts at once. Compiling 1,000 nodes takes about 0.3 s, a visible freeze in the
        app if it happened on the loop. Raises what `execute_workflow` would (NotFoundError,
        WorkflowInvalidError)."""
        db = await self.database()
        graph = await self.writer_for(db).transaction(records.load_graph, self._graphs, workflow_id)
        plan = await asyncio.to_thread(self._compile, graph)
        if not custom_type_names(graph):  # a custom type's registration may change: compiled per run
            self._graphs.set_plan(workflow_id, graph, plan)

    async def execute_workflow(
        self,
        workflow_id: int | str,
        input_data: Any = None,
        execution_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        step_by_step: bool = False,
        breakpoints: Iterable[str] = (),
        *,
        secrets: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | str | None = None,
        environment_name: str | None = None,
    ) -> ExecutionHandle:
        """Run a stored workflow (by id, or by name); see the module docstring for when it returns.

        `environment` may also be an environment's name: its variables become `{{env.*}}` and the
        stored secrets `{{secrets.*}}` (services.environments.run_values). The run records the
        environment's name (that name, else `environment_name` when the variables are given).

        `config={"queue": NAME}` hands the run to the workers instead (engine/queue.py): the call
        returns a QueuedExecution as soon as the `pending` row and the broker message exist. Workers
        use their database's environments and stored secrets, not `secrets`/`environment` mappings.
        """
        from flowdesk.services.workflows import WorkflowService

        input_limit.check_input(input_data, self.max_input_bytes)
        db = await self.database()
        if isinstance(environment, str):
            from flowdesk.services.environments import run_values

            environment_name = environment
            variables, stored = await asyncio.to_thread(run_values, db, environment)
            environment, secrets = variables, {**stored, **(secrets or {})}
        writer = self.writer_for(db)
        if isinstance(workflow_id, str):
            found = await writer.call(WorkflowService(db).find_workflow, workflow_id)
            assert found.id is not None
            wid: int = found.id
        else:
            wid = workflow_id
        if self.plugins:
            await self.plugins.before_execution(wid, input_data)
        breakpoints = tuple(breakpoints)
        mask = self._mask_function(SecretMasker.from_secrets({**self.secrets, **(secrets or {})}))
        if config and config.get("queue") not in (None, False):
            self._refuse_unrecorded("A run handed to the workers")
            return await self._enqueue(wid, input_data, execution_name, config, mask, environment_name)
        created: tuple[int, datetime] | None = None
        alert_rules: bool | None = None
        if self.persist:
            prepared: list[Any] = []

            def row_input(graph: WorkflowGraph) -> Any:
                # The workflow's declared inputs (defaults, required ones) apply before any row exists.
                prepared.append(apply_inputs(graph.workflow.config, input_data, graph.workflow.name))
                return mask(prepared[0])

            # Fast path: one transaction loads the (cached) graph and, once its plan is known, creates
            # the run.
            graph, plan, execution_id, started_at, alert_rules = await writer.transaction(
                records.start_run,
                self._graphs,
                wid,
                row_input=row_input,
                **self._row_fields(
                    execution_name,
                    input_data,
                    config,
                    step_by_step,
                    breakpoints,
                    None,
                    mask,
                    environment_name,
                ),
            )
            run_input = prepared[0]
            if execution_id is not None:
                created = (execution_id, started_at)
        else:  # the ephemeral mode: the graph (and its plan when known) read, no row written
            graph, plan = await writer.transaction(_graph_and_plan, self._graphs, wid)
            run_input = apply_inputs(graph.workflow.config, input_data, graph.workflow.name)
        if plan is None:
            plan = self._compile(graph)
            if not custom_type_names(graph):
                self._graphs.set_plan(wid, graph, plan)
        return await self._start(
            RunSetup(
                graph,
                run_input,
                persist=self.persist,
                execution_name=execution_name,
                config=config,
                step_by_step=step_by_step,
                breakpoints=breakpoints,
                secrets=secrets,
                environment=environment,
                plan=plan,
                created=created,
                alert_rules=alert_rules,
                plugins_called=True,
                environment_name=environment_name,
            )
        )

    @staticmethod
    def _row_fields(
        execution_name: str | None,
        input_data: Any,
        config: Mapping[str, Any] | None,
        step_by_step: bool,
        breakpoints: tuple[str, ...],
        resumed_from: int | None,
        mask: Callable[[Any], Any],
        environment_name: str | None = None,
    ) -> dict[str, Any]:
        stored_config = dict(config or {})
        if step_by_step:
            stored_config["step_by_step"] = True
        if breakpoints:
            stored_config["breakpoints"] = list(breakpoints)
        link = subworkflow_link(stored_config)  # a SUBWORKFLOW step's child run: its parent's columns
        return {
            **link,
            "execution_name": execution_name,
            "input_data": mask(input_data),
            "config": stored_config,
            "status": ExecutionStatus.PAUSED.value if step_by_step else ExecutionStatus.RUNNING.value,
            "resumed_from_id": resumed_from,
            "environment": environment_name,
        }

    async def execute_graph(
        self,
        graph: WorkflowGraph,
        input_data: Any = None,
        execution_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        step_by_step: bool = False,
        breakpoints: Iterable[str] = (),
        *,
        persist: bool | None = None,
        apis: Mapping[Any, ApiDefinition] | Iterable[ApiDefinition] | None = None,
        secrets: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        environment_name: str | None = None,
    ) -> ExecutionHandle:
        """Run an in-memory graph (e.g. the editor's unsaved one). `persist` defaults to whether the
        graph's workflow has an id and the executor was given a database; `apis` serves
        `ctx.get_api` before the database; `environment_name` is recorded with a persisted run."""
        input_limit.check_input(input_data, self.max_input_bytes)
        if persist is None:
            persist = self.persist and graph.workflow.id is not None and self._db_spec is not None
        elif persist and not self.persist:
            self._refuse_unrecorded("A run with persist=True")
        elif persist and graph.workflow.id is None:
            raise InvalidInputError(
                "Only a stored workflow's graph (with an id) can be run with persist=True."
            )
        return await self._start(
            RunSetup(
                graph,
                apply_inputs(graph.workflow.config, input_data, graph.workflow.name),
                execution_name=execution_name,
                config=config,
                step_by_step=step_by_step,
                breakpoints=breakpoints,
                persist=persist,
                apis=apis,
                secrets=secrets,
                environment=environment,
                environment_name=environment_name,
            )
        )

    async def resume(
        self,
        execution_id: int,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> ExecutionHandle:
        """Re-run a stopped execution from where it stopped: steps that succeeded are not run again,
        their outputs are reused. The new execution records `resumed_from_id`. `secrets` and
        `environment` add to those of the environment the run started in (a SUBWORKFLOW step
        resuming its child passes its own, as it does to a new child)."""
        from flowdesk.services.executions import ExecutionService

        self._refuse_unrecorded("Resuming, which records a new execution,")
        db = await self.database()
        writer = self.writer_for(db)
        service = ExecutionService(db)
        try:
            old = await writer.call(service.get_execution, execution_id)
        except NotFoundError as exc:
            raise ExecutionNotResumableError(f"execution {execution_id} does not exist") from exc
        if old.resumed_as_id is not None or ExecutionStatus(old.status) not in RESUMABLE:
            # The same refusal the claim gives when another resume wins between here and there.
            raise records.not_resumable(execution_id, ExecutionStatus(old.status).value, old.resumed_as_id)
        logs = await writer.call(service.get_logs, execution_id)
        lost = [
            log.step_name
            for log in logs
            if str(log.status) == "success"
            and isinstance(log.output_data, dict)
            and NOT_STORED in log.output_data
        ]
        if lost:
            named = ", ".join(f"'{name}'" for name in lost[:5]) + (
                f" and {len(lost) - 5} more" if len(lost) > 5 else ""
            )
            raise ExecutionNotResumableError(
                f"execution {execution_id} cannot be resumed: the output of {len(lost)} step(s) that succeeded "
                f"was not stored ({named}), and resuming would send those calls again"
            )
        reuse = {log.step_name: log.output_data for log in logs if str(log.status) == "success"}
        graph = await writer.transaction(records.load_graph, self._graphs, old.workflow_id)
        merged = {**(old.config or {}), **(config or {})}
        merged.setdefault("origin_execution_id", execution_id)  # see handlers/api_call.idempotency_key
        variables: dict[str, str] | None = None
        stored: dict[str, str] | None = None
        if old.environment:
            # The run goes on in the environment it started in, if that one still exists.
            from flowdesk.services.environments import EnvironmentService, run_values

            try:
                await writer.call(EnvironmentService(db).get_environment, old.environment)
            except NotFoundError:
                logger.warning(
                    "execution %s ran in environment '%s', which no longer exists",
                    execution_id,
                    old.environment,
                )
            else:
                variables, stored = await asyncio.to_thread(run_values, db, old.environment)
        stored = {**(stored or {}), **(secrets or {})} or None
        variables = {**(variables or {}), **(environment or {})} or None
        mask = self._mask_function(SecretMasker.from_secrets({**self.secrets, **(stored or {})}))
        # The claim: one transaction refuses a second resume of the same execution (two workers
        # taking the same redelivered run) and creates the new execution.
        created = await writer.transaction(
            records.claim_resume,
            execution_id,
            **self._row_fields(
                old.execution_name, old.input_data, merged, False, (), None, mask, old.environment
            ),
        )
        return await self._start(
            RunSetup(
                graph,
                old.input_data,
                execution_name=old.execution_name,
                config=merged,
                persist=True,
                reuse=reuse,
                resumed_from=execution_id,
                created=created,
                secrets=stored,
                environment=variables,
                environment_name=old.environment,
            )
        )

    async def _enqueue(
        self,
        workflow_id: int,
        input_data: Any,
        execution_name: str | None,
        config: Mapping[str, Any],
        mask: Callable[[Any], Any],
        environment_name: str | None,
    ) -> Any:
        """Hand a run to the workers: a `pending` row naming the queue, then the broker message."""
        from flowdesk.services.executions import ExecutionService

        from .queue import QueuedExecution, broker_url, enqueue, queue_name

        queue = queue_name(config.get("queue"))
        broker = broker_url(self.broker)
        stored = {k: v for k, v in config.items() if k != "async"}
        stored["queue"] = queue
        db = await self.database()
        graph = await self.writer_for(db).transaction(records.load_graph, self._graphs, workflow_id)
        await asyncio.to_thread(self._compile, graph)  # an invalid workflow is refused here, not on a worker
        input_data = apply_inputs(graph.workflow.config, input_data, graph.workflow.name)  # and bad input
        execution = await self.writer_for(db).call(
            ExecutionService(db).create_execution,
            workflow_id,
            execution_name=execution_name,
            input_data=mask(input_data),
            config=stored,
            environment=environment_name,
            status=ExecutionStatus.PENDING,
        )
        assert execution.id is not None
        await asyncio.to_thread(enqueue, broker, execution.id, queue)
        return QueuedExecution(self, execution.id, workflow_id, execution_name, queue)

    async def run_queued(self, execution_id: int) -> ExecutionHandle | None:
        """Take a queued (`pending`) execution and start it in this process (what a worker does with
        a message); None when it is not pending any more. Returns the running handle at once."""
        from flowdesk.services.executions import ExecutionService

        self._refuse_unrecorded("Running a queued execution")
        db = await self.database()
        writer = self.writer_for(db)
        started_at = await writer.transaction(records.claim_pending, execution_id)
        if started_at is None:
            return None
        row = await writer.call(ExecutionService(db).get_execution, execution_id)
        variables: dict[str, str] | None = None
        stored: dict[str, str] | None = None
        if row.environment:
            from flowdesk.services.environments import run_values

            try:
                variables, stored = await asyncio.to_thread(run_values, db, row.environment)
            except NotFoundError:
                logger.warning(
                    "execution %s names environment '%s', which no longer exists",
                    execution_id,
                    row.environment,
                )
        config = {k: v for k, v in (row.config or {}).items() if k != "queue"}
        try:
            graph = await writer.transaction(records.load_graph, self._graphs, row.workflow_id)
            plan = await asyncio.to_thread(self._compile, graph)
        except (WorkflowInvalidError, NotFoundError) as exc:
            await writer.call(
                ExecutionService(db).update_execution,
                execution_id,
                status=ExecutionStatus.FAILED,
                error_message=f"the workflow cannot run: {exc}",
            )
            return None
        return await self._start(
            RunSetup(
                graph,
                row.input_data,
                execution_name=row.execution_name,
                config={**config, "async": True},
                persist=True,
                secrets=stored,
                environment=variables,
                plan=plan,
                created=(execution_id, started_at),
                environment_name=row.environment,
            )
        )

    def _refuse_unrecorded(self, what: str) -> None:
        if not self.persist:
            raise InvalidInputError(
                f"{what} needs an execution row, and this executor records none (persist=False)."
            )

    def _compile(self, graph: WorkflowGraph) -> Plan:
        """Validate and compile `graph` (cached by content and by the custom types it names, as
        registered in the database: engine/custom_types.py); raises WorkflowInvalidError."""
        key = graph.model_dump_json(include={"workflow": {"config"}, "nodes": True, "connections": True})
        stored = self._stored_types(graph)
        if stored is not None:
            key += stored.key
        cached = self._plans.get(key)
        if cached is not None:
            return cached[0]
        registry, descriptors = self.registry, None
        if stored is not None:
            registry, descriptors = runnable(stored, self.registry)
        from flowdesk.domain.validation import validate_graph

        with gc_paused():  # bulk building: the collector would walk the growing plan again and again
            problems = validate_graph(graph, node_types=descriptors or self.registry.descriptors())
            errors = [p for p in problems if p.severity == Severity.ERROR]
            if errors:
                from flowdesk.domain.problem_report import report_lines

                listed = "; ".join(report_lines(errors, str, cap=20))
                raise WorkflowInvalidError(
                    f"workflow '{graph.workflow.name}' cannot run: {len(errors)} problem(s): {listed}", errors
                )
            try:
                plan = compile_plan(graph, registry)
            except PlanError as exc:
                raise WorkflowInvalidError(str(exc)) from exc
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[key] = (plan, problems)
        return plan

    def _stored_types(self, graph: WorkflowGraph) -> StoredTypes | None:
        """The database's registrations of the custom types `graph` names (None without a database
        or custom types). Read on the calling thread: `_compile` runs in a worker thread but for
        an in-memory graph's run, where this is one small read when the graph has custom types."""
        names = custom_type_names(graph)
        if not names:
            return None
        db = self._db
        if db is None:
            from flowdesk.store import Database

            db = self._db_spec if isinstance(self._db_spec, Database) else None
        if db is None:
            return None
        return load_stored_types(db, names)

    async def _start(self, setup: RunSetup) -> ExecutionHandle:
        """Create the run a RunSetup describes (its execution row too, when persisted and not made
        yet), start it as a task, and return its handle as `config` asks (see the module doc)."""
        graph = setup.graph
        run_config = dict(setup.config or {})
        workflow_config = dict(graph.workflow.config or {})
        plan = setup.plan
        if plan is None:
            if self._db is None and self._db_spec is not None and custom_type_names(graph):
                await self.database()  # the custom types' registrations are read from it
            plan = self._compile(graph)
        timeout = _timeout_of(run_config, workflow_config)
        all_secrets = {**self.secrets, **(setup.secrets or {})}
        masker = SecretMasker.from_secrets(all_secrets)
        mask = self._mask_function(masker)
        breakpoints = tuple(setup.breakpoints)
        if self.plugins and not setup.plugins_called:
            await self.plugins.before_execution(graph.workflow.id, setup.input_data)

        kept: list[dict[str, Any]] = []
        steps: StepRecorder = MemorySteps(kept)
        watched = setup.alert_rules  # whether the workflow had alert rules as the run started
        execution_id: int | None = None
        started_at = datetime.now(UTC)
        if setup.persist:
            db = await self.database()
            writer = self.writer_for(db)
            created = setup.created
            if created is None:
                created, watched = await writer.transaction(
                    records.create_execution_noting_alerts,
                    graph.workflow.id,
                    **self._row_fields(
                        setup.execution_name,
                        setup.input_data,
                        run_config,
                        setup.step_by_step,
                        breakpoints,
                        setup.resumed_from,
                        mask,
                        setup.environment_name,
                    ),
                )
            execution_id, started_at = created
            steps = DatabaseSteps(writer, execution_id)
            if len(plan.nodes) >= SINK_THRESHOLD:
                writer.expect_bulk()  # the step sink starts while the first steps run
        origin = run_config.get("origin_execution_id")
        info = ExecutionInfo(
            execution_id,
            setup.execution_name,
            graph.workflow.id,
            started_at,
            origin if isinstance(origin, int) else execution_id,
        )
        control = RunControl(step_by_step=setup.step_by_step, breakpoints=breakpoints)
        run = Run(
            plan=plan,
            execution=info,
            input_data=setup.input_data,
            workflow_config=workflow_config,
            environment={**self.environment, **(setup.environment or {})},
            secrets=all_secrets,
            debug=self.debug,
            control=control,
            bus=self.events,
            steps=steps,
            mask=mask,
            mask_rows=masker.active or self.redactor is not None,
            http=self.http_client,
            get_api=self._api_loader(setup.apis),
            plugins=self.plugins if self.plugins else None,
            reuse=setup.reuse,
            reused_from=setup.resumed_from,
        )
        run.executor, run.run_config = self, run_config  # for SUBWORKFLOW (engine/handlers/subworkflow.py)
        handle = ExecutionHandle(self, run, persist=setup.persist, timeout=timeout)
        handle.steps = kept
        handle.alert_rules = watched
        # The control calls the handle back; `finish` lets go of both calls (no cycle once ended).
        control.bind(handle._on_pause, handle._on_resume)
        self._active[id(handle)] = handle
        if setup.step_by_step:
            handle.status = ExecutionStatus.PAUSED
            handle.pause_reason = "step by step"
            handle._settled.set()
            if plan.top.entries:
                run.current_step = plan.top.entries[0]
        handle._task = asyncio.get_running_loop().create_task(
            handle._main(), name=f"flowdesk-execution-{execution_id}"
        )

        if run_config.get("async"):
            return handle
        try:
            if setup.step_by_step or breakpoints:
                await handle._settled.wait()
            else:
                await handle._done.wait()
        except asyncio.CancelledError:
            handle.cancel("the caller was cancelled")
            await asyncio.shield(handle._done.wait())
            raise
        return handle

    def _mask_function(self, masker: SecretMasker) -> Callable[[Any], Any]:
        redactor = self.redactor
        if redactor is None:
            return masker
        extra = getattr(redactor, "scrub_value", None) or redactor

        def mask(value: Any) -> Any:
            return extra(masker(value))

        return mask

    def _api_loader(self, apis: Any) -> Callable[[Any], Any]:
        cache: dict[Any, ApiDefinition] = {}
        if apis is not None:
            items = apis.items() if isinstance(apis, Mapping) else ((a.id, a) for a in apis)
            for key, api in items:
                cache[key] = api
                cache[str(key)] = api

        async def get_api(api_id: Any) -> ApiDefinition:
            hit = cache.get(api_id)
            if hit is None:
                hit = cache.get(str(api_id))
            if hit is not None:
                return hit
            if self._db_spec is None and self._db is None and apis is not None:
                raise NodeFailure(f"API {api_id} does not exist", error_type="other")
            from flowdesk.services.apis import ApiService

            try:
                key = int(api_id)
            except (TypeError, ValueError):
                raise NodeFailure(f"api_id must be a number, got {api_id!r}", error_type="other") from None
            db = await self.database()
            try:
                api = await self.writer_for(db).call(ApiService(db).get_api, key)
            except NotFoundError:
                raise NodeFailure(
                    f"API {api_id} does not exist in the API library", error_type="other"
                ) from None
            cache[api_id] = api
            return api

        return get_api


def _graph_and_plan(conn: Any, cache: records.GraphCache, workflow_id: int) -> tuple[WorkflowGraph, Any]:
    """A stored workflow's graph and its compiled plan when known (None), read without a run row."""
    _, graph, plan = cache.lookup(conn, workflow_id)
    return graph, plan
