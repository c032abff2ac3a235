"""EngineHost: the window's one WorkflowExecutor and the Qt adapter listening to it, routing each
execution's batched events to the RunState that shows it; also the events of the runs it handed to
workers (worker_runs.py), through the same adapter."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject

from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.gc_control import hold_heap, release_heap

from .child_runs import ChildRouter
from .qt_events import QtEventAdapter
from .run_state import RunState
from .worker_runs import WorkerEventRelay

log = logging.getLogger(__name__)
PENDING_CAP = 64  # executions whose events may arrive before their RunState is registered


class EngineHost(QObject):
    """Owns the executor (one HTTP pool, one writer thread) shared by every tab of a window."""

    def __init__(self, db: Any, parent: QObject | None = None, *, load_plugins: bool = True) -> None:
        super().__init__(parent)
        self.executor = WorkflowExecutor(db=db, load_plugins=load_plugins)
        self.adapter = QtEventAdapter(self)
        self.adapter.attach(self.executor.events)
        self.adapter.events_ready.connect(self._route)
        self.states: dict[int, RunState] = {}
        self.child_runs = ChildRouter()  # SUBWORKFLOW child runs: their lines go to their top run's log
        self._pending: dict[int, list[Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._active_runs = 0
        self._relay: WorkerEventRelay | None = None
        self._submitting = 0  # runs being handed to workers: their first events may come first

    # -- garbage collection while runs go on ----------------------------------------------------
    def run_began(self) -> None:
        """A run started: freeze the objects that exist now (graph, scene items, documents) out of
        the collector's reach until no run is left. A full collection over a large editor's heap
        takes 0.3-0.6 s on this machine, all of it with the GUI thread blocked."""
        self._active_runs += 1
        hold_heap(collect_young=True)

    def run_ended(self) -> None:
        if self._active_runs == 0:
            return
        self._active_runs -= 1
        release_heap()

    def register(self, execution_id: int, state: RunState) -> None:
        """Send this execution's events to `state` (events that came first are delivered now)."""
        state.execution_id = execution_id
        self.states[execution_id] = state
        early = self._pending.pop(execution_id, None)
        if early:
            state.apply(early)

    def unregister(self, execution_id: int) -> None:
        self.states.pop(execution_id, None)

    def _route(self, grouped: dict[int | None, list[Any]]) -> None:
        for execution_id, events in grouped.items():
            if execution_id is None:
                continue
            state = self.states.get(execution_id)
            if state is not None:
                state.apply(events)
                if state.done:
                    self.states.pop(execution_id, None)
            elif self.child_runs.route(self.states, execution_id, events):
                continue
            else:
                self._pending.setdefault(execution_id, []).extend(events)
                while len(self._pending) > PENDING_CAP:
                    self._pending.pop(next(iter(self._pending)))

    # -- runs on workers ---------------------------------------------------------------------------
    async def queue_run(
        self, broker: str, workflow_id: int, input_data: Any, *, queue: str, environment_name: str | None
    ) -> Any:
        """Hand a run to the workers on `broker` (a QueuedExecution); its events, relayed from
        the broker, reach the RunState registered for it like those of a local run."""
        if self._relay is not None and self._relay.broker != broker:
            await self._relay.stop()
            self._relay = None
        if self._relay is None:
            relay = WorkerEventRelay(broker, self._worker_event)
            await relay.start()  # subscribed before the run exists: no event of it is missed
            self._relay = relay
        self.executor.broker = broker
        self._submitting += 1
        try:
            return await self.executor.execute_workflow(
                workflow_id, input_data, config={"queue": queue}, environment_name=environment_name
            )
        finally:
            self._submitting -= 1

    def _worker_event(self, event: Any) -> None:
        # Other people's runs share the channel: only the runs shown here (or being submitted) pass.
        if event.execution_id in self.states or self._submitting:
            self.adapter.on_event(event)

    async def prepare(self, workflow_id: int) -> None:
        """Load and validate/compile a stored workflow's plan off the event loop before a run
        (`WorkflowExecutor.prepare`), so the run starts without a visible freeze. Any error is left
        for `execute_workflow` to raise and report."""
        try:
            await self.executor.prepare(workflow_id)
        except Exception:  # invalid workflow etc.: execute_workflow raises it with its message
            log.debug("preparing workflow %s failed", workflow_id, exc_info=True)

    def spawn(self, coro: Any) -> asyncio.Future[Any]:
        """Run a coroutine on the (qasync) event loop, keeping a reference until it ends."""
        future = asyncio.ensure_future(coro)
        self._tasks.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: asyncio.Future[Any]) -> None:
        self._tasks.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("run task failed", exc_info=future.exception())

    async def aclose(self) -> None:
        """Cancel running executions, close the HTTP pool and the writer."""
        self.adapter.detach()
        if self._relay is not None:
            await self._relay.stop()
            self._relay = None
        await self.executor.aclose()
