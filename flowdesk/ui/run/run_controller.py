"""RunController: one tab's runs — start, step, continue, pause, stop, breakpoints, replay, re-run,
resume — through the engine on the qasync event loop, or handed to workers (start with a queue).
It never paints: it hands RunStates to the tab's RunOverlay and tells the window (signals) what
changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.domain.errors import FlowdeskError
from flowdesk.services.executions import ExecutionService

from .child_runs import add_child_runs
from .overlays import RunOverlay
from .run_state import RunState

if TYPE_CHECKING:
    from flowdesk.ui.editor_tab import EditorTab

    from .engine_host import EngineHost

log = logging.getLogger(__name__)
QUEUED_POLL_S = 1.0
"""Seconds between two reads of a queued run's row (see RunController._watch_queued)."""


class RunController(QObject):
    """Runs the workflow of one editor tab and keeps what its canvas shows."""

    state_changed = Signal()  # the shown state, its status or the controls' availability changed
    run_started = Signal(object)  # RunState
    run_finished = Signal(object)  # RunState
    message = Signal(str)
    child_started = Signal(object)  # the paused child run (its handle) a step into a SUBWORKFLOW started
    step_out_to = Signal(int)  # the parent run's execution id a step out of a child run goes back to

    def __init__(self, tab: EditorTab, host: EngineHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.host = host
        self.overlay = RunOverlay(tab.scene, tab.doc, self)
        self.live: RunState | None = None  # the run of this tab going on (or the last one)
        self.state: RunState | None = None  # what the canvas shows: the live run or a replay
        self.handle: Any = None
        self.breakpoints: set[int] = set()  # node uids
        self.starting = False
        self.queued = False  # the live run was handed to workers (no pause or step there)
        tab.doc.node_removed.connect(self._node_removed)
        tab.doc.reset.connect(lambda: self.overlay.set_breakpoints(self.breakpoints))

    # ------------------------------------------------------------ reading
    @property
    def workflow_id(self) -> int | None:
        return self.tab.workflow_id

    @property
    def running(self) -> bool:
        """A run of this tab is going on (running or paused)."""
        return self.starting or (self.live is not None and self.live.live and not self.live.done)

    @property
    def paused(self) -> bool:
        return self.running and self.live is not None and self.live.status == ExecutionStatus.PAUSED

    def _graph_shape(self) -> tuple[dict[str, list[tuple[str, str]]], int]:
        doc = self.tab.doc
        names = {n.uid: n.name for n in doc.nodes()}
        outgoing: dict[str, list[tuple[str, str]]] = {name: [] for name in names.values()}
        for c in doc.connections():
            outgoing[names[c.source]].append((names[c.target], str(c.connection_type)))
        return outgoing, len(names)

    # ------------------------------------------------------------ starting runs
    def start(
        self,
        input_data: Any = None,
        *,
        step_by_step: bool = False,
        environment: str | None = None,
        on_workers: tuple[str, str] | None = None,
    ) -> None:
        """Start a run of this tab's workflow (saved first when it has unsaved edits), with the
        variables of the environment named `environment` (None: the active one); `on_workers`
        (broker, queue) hands it to the workers instead of running it here."""
        if not self._begin():
            return
        if on_workers is not None:
            self.host.spawn(self._start_on_workers(input_data, environment, *on_workers))
        else:
            self.host.spawn(self._start(input_data, step_by_step, environment))

    def _saved_and_new_state(self) -> RunState:
        """Save unsaved edits (the history must match what ran); a RunState for the run to come."""
        if self.tab.doc.is_dirty:
            self.tab.save()
            self.message.emit(f"Saved '{self.tab.doc.workflow.name}' before running it")
        outgoing, total = self._graph_shape()
        return RunState(self.workflow_id, outgoing, total, parent=self)

    def _begin(self) -> bool:
        """Refuse while a run of this tab goes on; else mark this controller as starting one."""
        if self.running:
            self.message.emit("This workflow is already running: stop it first.")
            return False
        self.starting = True
        self.state_changed.emit()
        self.host.run_began()
        return True

    def _not_started(self, err: Exception, what: str = "Not started") -> None:
        """Starting (or resuming) failed: say so and give the controls back."""
        self.starting = False
        self.host.run_ended()
        if not isinstance(err, FlowdeskError):  # a bug must not leave the controls stuck in "starting"
            log.error("starting a run failed", exc_info=err)
        self.message.emit(f"{what}: {err}")
        self.state_changed.emit()

    def _went_live(self, handle: Any, state: RunState, *, queued: bool) -> None:
        self.handle = handle
        self.queued = queued
        state.progress_source = lambda: handle.progress
        state.updated.connect(lambda _c, s=state: self._state_updated(s))
        state.finished.connect(lambda _status, s=state: self._finished(s))
        self.live = state
        self.starting = False
        self._show(state)
        self.host.register(handle.id, state)
        self.run_started.emit(state)
        self.state_changed.emit()

    async def _start_on_workers(
        self, input_data: Any, environment: str | None, broker: str, queue: str
    ) -> None:
        import asyncio

        from flowdesk.services.environments import run_environment_name

        try:
            state = self._saved_and_new_state()
            name = await asyncio.to_thread(run_environment_name, self.tab.backend.db, environment)
            queued = await self.host.queue_run(
                broker, self.tab.stored_id, input_data, queue=queue, environment_name=name
            )
        except Exception as err:
            self._not_started(err)
            return
        state.input_data = input_data
        self._went_live(queued, state, queued=True)
        self.message.emit(f"Execution {queued.id} queued on '{queue}'")
        self.host.spawn(self._watch_queued(queued, state))

    async def _watch_queued(self, queued: Any, state: RunState) -> None:
        """Read the queued run's row now and then (off the GUI thread): it follows the run when a
        worker that died is replaced by another (a resumed execution has a new id), and ends the
        view from the row should the broker have lost the run's last events."""
        import asyncio
        import time

        from flowdesk.engine import events as ev

        ended_polls = 0
        while not state.done:
            await asyncio.sleep(QUEUED_POLL_S)
            try:
                await queued.refresh()
            except Exception as exc:  # the database away for a moment: try at the next poll
                log.debug("reading queued execution %s failed: %s", queued.id, exc)
                continue
            if queued.final_id != state.execution_id and not state.done:
                self.host.register(queued.final_id, state)
            ended_polls = ended_polls + 1 if queued.done else 0
            if ended_polls >= 2 and not state.done:
                state.apply(
                    [
                        ev.ExecutionFinished(
                            queued.final_id, time.time(), queued.status.value, queued.output_data,
                            queued.error_message, 0.0,
                        )
                    ]
                )  # fmt: skip

    async def _start(self, input_data: Any, step_by_step: bool, environment: str | None = None) -> None:
        try:
            state = self._saved_and_new_state()
            if step_by_step:
                state.status = ExecutionStatus.PAUSED
                state.pause_reason = "step by step"
            names = [self.tab.doc.node(u).name for u in self.breakpoints if self.tab.doc.has_node(u)]
            await self.host.prepare(self.tab.stored_id)
            # The chosen (else the active) environment's variables and the decrypted secrets
            # ({{env.*}}, {{secrets.*}}).
            import asyncio

            from flowdesk.services.environments import run_environment_name, run_values

            db = self.tab.backend.db
            variables, secrets = await asyncio.to_thread(run_values, db, environment)
            name = await asyncio.to_thread(run_environment_name, db, environment)
            handle = await self.host.executor.execute_workflow(
                self.tab.stored_id,
                input_data,
                config={"async": True},
                step_by_step=step_by_step,
                breakpoints=names,
                secrets=secrets,
                environment=variables,
                environment_name=name,
            )
        except Exception as err:
            self._not_started(err)
            return
        state.input_data = input_data
        if step_by_step:
            state.current_step = handle.current_step
        self._went_live(handle, state, queued=False)

    def _state_updated(self, state: RunState) -> None:
        if state is self.state:
            self.state_changed.emit()

    def _finished(self, state: RunState) -> None:
        self.host.unregister(state.execution_id or -1)
        self.host.run_ended()
        self.state_changed.emit()
        self.run_finished.emit(state)

    def _show(self, state: RunState | None) -> None:
        self.state = state
        self.overlay.show_state(state)
        self.state_changed.emit()

    # ------------------------------------------------------------ debugger controls
    def step(self, input_data: Any = None) -> None:
        """Run the next ready node, then pause (starts a step-by-step run when none is going on)."""
        if self.queued and self.running:
            return
        if not self.running:
            self.start(input_data, step_by_step=True)
        elif self.handle is not None and self.live is not None:
            self.host.spawn(self._step(self.handle, self.live))

    async def _step(self, handle: Any, state: RunState) -> None:
        await handle.step()
        if not handle.done:
            self.host.adapter.flush()  # the stepped node's events first, then the new pause
            state.note_paused(handle.current_step)
            self.state_changed.emit()

    # ------------------------------------------------------------ sub-workflows (F11, Shift+F11)
    def step_into(self) -> None:
        """F11: paused before a SUBWORKFLOW node (or one of a custom type whose handler is a
        `workflow:`), start its child run paused (`child_started`: the window debugs it in the
        child's tab); before another node, the same as Step."""
        from flowdesk.domain.execution_handlers import handler_workflow

        handle, state = self.handle, self.live
        if not (self.paused and handle is not None and state is not None and not self.queued):
            return
        step = handle.current_step or ""
        node = self.tab.doc.node_by_name(step.split("[", 1)[0])
        calls = node is not None and (
            node.node_type == "SUBWORKFLOW"
            or handler_workflow(self.tab.doc.descriptor(node.node_type).handler) is not None
        )
        if not calls:
            self.step()
            return
        self.host.spawn(self._step_into(handle, state))

    async def _step_into(self, handle: Any, state: RunState) -> None:
        import asyncio

        stepping = asyncio.ensure_future(handle.step_into())  # ends once the child has ended
        while not stepping.done():
            child = next(
                (h for h in self.host.executor.active_executions if h.parent_execution_id == handle.id), None
            )
            if child is not None and child.id is not None:
                self.child_started.emit(child)
                break
            await asyncio.sleep(0.01)  # the child's row is being written: look again next turn
        await stepping
        if not handle.done:
            self.host.adapter.flush()
            state.note_paused(handle.current_step)
            self.state_changed.emit()

    def attach(self, handle: Any) -> None:
        """Follow a run started elsewhere (a child run stepped into) in this tab: it is live here."""
        if self.running:
            self.message.emit("This workflow is already running here: stop it first.")
            return
        outgoing, total = self._graph_shape()
        state = RunState(self.workflow_id, outgoing, total, parent=self)
        state.status = "paused"
        state.pause_reason = "step by step"
        state.current_step = handle.current_step
        self.host.run_began()
        self._went_live(handle, state, queued=False)

    def step_out(self) -> None:
        """Shift+F11: let a child run go on to its end and go back to its parent (`step_out_to`)."""
        handle = self.handle
        parent = getattr(handle, "parent_execution_id", None)
        if handle is None or handle.done or parent is None or self.queued:
            return
        self.host.spawn(handle.resume())
        self.step_out_to.emit(parent)

    def continue_(self) -> None:
        """Let a paused run go on until the next breakpoint."""
        if self.paused and self.handle is not None and not self.queued:
            self.host.spawn(self.handle.resume())

    def pause(self) -> None:
        if self.running and not self.paused and self.handle is not None and not self.queued:
            self.handle.pause()

    def stop(self) -> None:
        """Cancel the run: running nodes are cancelled, the execution ends `cancelled` (a run on a
        worker is told through the broker; a still queued one is marked so no worker runs it)."""
        if self.handle is None or self.handle.done:
            return
        if self.queued:
            self.host.spawn(self._cancel_queued(self.handle))
        else:
            self.handle.cancel()

    async def _cancel_queued(self, queued: Any) -> None:
        try:
            self.message.emit(await queued.cancel())
        except Exception as err:
            self.message.emit(f"Not cancelled: {err}")

    def toggle_breakpoint(self, uids: Any = None) -> set[int]:
        """Toggle breakpoints on `uids` (default: the selected nodes); returns the new set."""
        uids = set(self.tab.doc.selected_nodes if uids is None else uids)
        for uid in uids:
            self.breakpoints.symmetric_difference_update({uid})
        self.overlay.set_breakpoints(self.breakpoints)
        if self.running:
            self.message.emit("Breakpoints changed: they apply from the next run")
        self.state_changed.emit()
        return set(self.breakpoints)

    def _node_removed(self, uid: int) -> None:
        if uid in self.breakpoints:
            self.breakpoints.discard(uid)
            self.overlay.breakpoint_dots.pop(uid, None)

    # ------------------------------------------------------------ history
    def replay(self, execution_id: int) -> RunState:
        """Show a past execution on the canvas, read from the database."""
        service = ExecutionService(self.tab.backend.db)
        execution = service.get_execution(execution_id)
        logs = service.get_logs(execution_id)
        outgoing, total = self._graph_shape()
        if self.live is not None and self.live.execution_id == execution_id and not self.live.done:
            state = self.live  # the run going on: show it live
        else:
            state = RunState.from_history(execution, logs, outgoing, total, parent=self)
            add_child_runs(state, self.tab.backend.db, execution_id)
        self._show(state)
        return state

    def show_live(self) -> None:
        if self.live is not None:
            self._show(self.live)

    def rerun(self, execution_id: int) -> None:
        """Run again with the input of a past execution."""
        execution = ExecutionService(self.tab.backend.db).get_execution(execution_id)
        self.start(execution.input_data)

    def resume_execution(self, execution_id: int) -> None:
        """Resume an interrupted/failed/cancelled execution: succeeded steps are reused."""
        if self._begin():
            self.host.spawn(self._resume(execution_id))

    async def _resume(self, execution_id: int) -> None:
        outgoing, total = self._graph_shape()
        state = RunState(self.workflow_id, outgoing, total, parent=self)
        try:
            handle = await self.host.executor.resume(execution_id, config={"async": True})
        except FlowdeskError as err:
            self._not_started(err, "Not resumed")
            return
        self._went_live(handle, state, queued=False)
        self.message.emit(f"Resuming execution {execution_id} as execution {handle.id}")
