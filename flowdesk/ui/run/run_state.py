"""RunState: what one execution looks like to the UI — node states, outputs, attempts, durations,
taken and dead connections, log lines — fed by the Qt adapter (live) or read from the database
(replay). The canvas overlays, the log dock, the data inspector and the status bar mirror it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from flowdesk.domain.enums import ExecutionStatus, StepStatus
from flowdesk.engine import events as ev
from flowdesk.text_width import display_width, pad_to_width

LOG_CAP = 20_000  # log entries a RunState keeps (the dock shows at most LogModel.CAP of them)
NODE_TEXT_WIDTH = 18  # terminal columns of the node field in a line of plain text
NODE_TEXT_WIDTH_MAX = 32  # copied lines align names up to this wide; wider ones are kept whole
FINAL = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.INTERRUPTED,
        ExecutionStatus.RESUMED,
    }
)
NODE_FINAL = frozenset({StepStatus.SUCCESS, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED})
_LEVELS: dict[str, str] = {StepStatus.FAILED: "error", StepStatus.CANCELLED: "warning"}  # a step's log level

SCOPE_TYPES = frozenset({"PARALLEL", "LOOP"})
#: node name -> [(target name, connection type)]; every node of the graph may be a key (with [])
Outgoing = Mapping[str, Sequence[tuple[str, str]]]


@dataclass(slots=True)
class NodeRun:
    """The latest run of one node (a node inside a loop keeps its last iteration; `runs` counts)."""

    name: str
    node_type: str = ""
    status: str = StepStatus.RUNNING  # a StepStatus: running, success, failed, skipped, cancelled
    step_name: str = ""
    output: Any = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 0
    duration: float | None = None
    runs: int = 0
    input: Any = None
    attempt_history: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # of the latest run (unresolved references...)
    loaded: bool = False  # input and attempt history read from the step row


@dataclass(slots=True, frozen=True)
class LogEntry:
    """One log line: time, node, status, duration, message, level."""

    time: float
    level: str
    node: str | None
    status: str
    duration: float | None
    message: str
    depth: int = 0  # a sub-workflow's child run's line: how many SUBWORKFLOW steps deep
    step: str | None = None  # a step's own line: its step name (`call[2]` in a loop's third iteration)

    def clock(self) -> str:
        """The time of day, to the millisecond: `14:03:07.250`."""
        return time.strftime("%H:%M:%S", time.localtime(self.time)) + f".{int(self.time * 1000) % 1000:03d}"

    def duration_text(self) -> str:
        """`12 ms`, or empty when the event has no duration."""
        return f"{self.duration * 1000:.0f} ms" if self.duration is not None else ""

    def node_text(self) -> str:
        """The node's name, `—` for lines of the execution itself; a child run's lines indented
        under the SUBWORKFLOW step that started it (`  ↳ fetch`)."""
        if self.depth:
            return "  " * self.depth + "↳ " + (self.node or "—")
        return self.node or "—"

    def fields(self) -> tuple[str, str, str, str, str, str]:
        """time, level, node, status, duration, message: the log dock's columns, as text."""
        return (
            self.clock(),
            self.level.upper(),
            self.node_text(),
            self.status,
            self.duration_text(),
            self.message,
        )

    def text(self, node_width: int = NODE_TEXT_WIDTH) -> str:
        """The line as plain text, aligned in a monospace editor whatever the node name's script:
        the node is padded to `node_width` terminal columns (CJK counts two, marks none) and a
        wider name is kept whole (a copied log must not lose part of a name)."""
        clock, level, node, status, dur, message = self.fields()
        head = f"{clock}  {level:<7} {pad_to_width(node, node_width)} {status:<11} {dur:>9}"
        return f"{head}  {message}".rstrip()


def plain_lines(entries: Sequence[LogEntry]) -> list[str]:
    """The entries as aligned plain text (what Copy puts on the clipboard): the node column is as
    wide as the widest name among them, up to NODE_TEXT_WIDTH_MAX terminal columns."""
    widest = max((display_width(e.node_text()) for e in entries), default=0)
    width = min(widest, NODE_TEXT_WIDTH_MAX)
    return [e.text(width) for e in entries]


@dataclass(slots=True)
class RunChange:
    """What one batch changed (so views redraw only that)."""

    nodes: set[str] = field(default_factory=set)
    connections: bool = False
    log: list[LogEntry] = field(default_factory=list)
    status: bool = False


class RunState(QObject):
    """The state of one execution, as the UI shows it."""

    updated = Signal(object)  # RunChange
    paused = Signal(str)  # reason
    finished = Signal(str)  # final status

    def __init__(
        self,
        workflow_id: int | None,
        outgoing: Outgoing,
        total_nodes: int,
        *,
        live: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workflow_id = workflow_id
        self.outgoing = {k: list(v) for k, v in outgoing.items()}
        # PARALLEL / LOOP connections open a scope: taken when their target starts
        self.scope_sources: dict[str, list[str]] = {}
        for source, targets in self.outgoing.items():
            for target, ctype in targets:
                if ctype in SCOPE_TYPES:
                    self.scope_sources.setdefault(target, []).append(source)
        self.total_nodes = max(total_nodes, 1)
        self.live = live
        self.execution_id: int | None = None
        self.status: str = ExecutionStatus.PENDING
        self.progress = 0.0  # 0-100
        self.current_step: str | None = None
        self.pause_reason: str | None = None
        self.error_message: str | None = None
        self.output_data: Any = None
        self.input_data: Any = None
        self.started: float | None = None
        self.duration: float | None = None
        self.nodes: dict[str, NodeRun] = {}
        self.running: dict[str, int] = {}  # node name -> instances running now
        self.taken: set[tuple[str, str]] = set()
        self.dead: set[tuple[str, str]] = set()
        self.log: list[LogEntry] = []
        self.progress_source: Callable[[], float] | None = None

    def unfollow(self, slot: Callable[[RunChange], None]) -> None:
        """Disconnect `slot` from `updated` (a view that stops following this run); a slot that was
        not connected, or a view already deleted, is no error."""
        try:
            self.updated.disconnect(slot)
        except (RuntimeError, TypeError):
            pass

    # ------------------------------------------------------------ reading
    @property
    def done(self) -> bool:
        return self.status in FINAL

    def node(self, name: str) -> NodeRun | None:
        return self.nodes.get(name)

    def is_running(self, name: str) -> bool:
        return self.running.get(name, 0) > 0

    def node_names(self) -> set[str]:
        """The names of the graph's nodes, known before any of them runs (the log dock sizes its
        node column with them, so the columns do not move during the run)."""
        names = set(self.outgoing)
        for targets in self.outgoing.values():
            names.update(target for target, _ctype in targets)
        return names

    # ------------------------------------------------------------ live events
    def apply(self, events: Iterable[ev.EngineEvent]) -> RunChange:
        """Fold a batch of engine events into the state; emits `updated` once (and paused/finished)."""
        change = RunChange()
        paused_reason: str | None = None
        finished: str | None = None
        for event in events:
            kind = event.kind
            if kind == "node_started":
                self._node_started(event, change)  # type: ignore[arg-type]
            elif kind == "node_finished":
                self._node_finished(event, change)  # type: ignore[arg-type]
            elif kind == "log":
                assert isinstance(event, ev.LogLine)
                self._log(change, event.time, event.level, event.node_name, "", None, event.message)
            elif kind == "execution_started":
                assert isinstance(event, ev.ExecutionStarted)
                if self.status != ExecutionStatus.PAUSED:  # a step-by-step run starts paused
                    self.status = ExecutionStatus.RUNNING
                self.started = event.time
                self.input_data = event.input_data
                change.status = True
                self._log(change, event.time, "info", None, "started", None, "execution started")
            elif kind == "execution_paused":
                assert isinstance(event, ev.ExecutionPaused)
                self.status = ExecutionStatus.PAUSED
                self.pause_reason = event.reason
                self.current_step = event.current_step or self.current_step
                paused_reason = event.reason
                change.status = True
                where = f" before {event.current_step}" if event.current_step else ""
                self._log(change, event.time, "info", None, "paused", None, f"{event.reason}{where}")
            elif kind == "execution_resumed":
                self.status = ExecutionStatus.RUNNING
                self.pause_reason = None
                change.status = True
                self._log(change, event.time, "info", None, "resumed", None, "execution resumed")
            elif kind == "execution_finished":
                assert isinstance(event, ev.ExecutionFinished)
                self.status = event.status
                self.output_data = event.output_data
                self.error_message = event.error_message
                self.duration = event.duration
                if event.status == ExecutionStatus.COMPLETED:
                    self.progress = 100.0
                for name in list(self.running):
                    change.nodes.add(name)
                self.running.clear()
                for target, sources in self.scope_sources.items():
                    for source in sources:
                        if (source, target) not in self.taken and source in self.nodes:
                            self.dead.add((source, target))
                change.connections = True
                finished = event.status
                change.status = True
                level = "info" if event.status == ExecutionStatus.COMPLETED else "error"
                message = f"execution {event.status}" + (
                    f": {event.error_message}" if event.error_message else ""
                )
                self._log(change, event.time, level, None, event.status, event.duration, message)
        if self.progress_source is not None and not self.done:
            try:
                self.progress = float(self.progress_source())
            except Exception:  # the handle may be gone; progress is cosmetic
                pass
        elif not self.done:
            finished_nodes = sum(1 for n in self.nodes.values() if n.status in NODE_FINAL)
            self.progress = round(100.0 * min(1.0, finished_nodes / self.total_nodes), 1)
        if change.nodes or change.status:
            change.status = True
        self.updated.emit(change)
        if paused_reason is not None and self.status == ExecutionStatus.PAUSED:
            self.paused.emit(paused_reason)
        if finished is not None:
            self.finished.emit(finished)
        return change

    def _node_started(self, event: ev.NodeStarted, change: RunChange) -> None:
        run = self.nodes.get(event.node_name)
        if run is None:
            run = self.nodes[event.node_name] = NodeRun(event.node_name, event.node_type)
        run.status = StepStatus.RUNNING
        run.step_name = event.step_name
        run.loaded = False
        self.running[event.node_name] = self.running.get(event.node_name, 0) + 1
        self.current_step = event.step_name
        change.nodes.add(event.node_name)
        for source in self.scope_sources.get(event.node_name, ()):
            self.taken.add((source, event.node_name))
            self.dead.discard((source, event.node_name))
            change.connections = True
        self._log(
            change,
            event.time,
            "debug",
            event.node_name,
            StepStatus.RUNNING,
            None,
            f"{event.step_name} started",
        )

    def _node_finished(self, event: ev.NodeFinished, change: RunChange) -> None:
        name = event.node_name
        run = self.nodes.get(name)
        if run is None:
            run = self.nodes[name] = NodeRun(name, event.node_type)
        run.status = event.status
        run.step_name = event.step_name or run.step_name
        run.output = event.output
        run.error = event.error
        run.error_type = event.error_type
        run.attempts = event.attempts
        run.duration = event.duration
        run.warnings = list(event.warnings)
        run.runs += 1
        run.loaded = False
        count = self.running.get(name, 0)
        if count > 1:
            self.running[name] = count - 1
        else:
            self.running.pop(name, None)
        change.nodes.add(name)
        self._mirror(name, event.taken, event.dead)
        change.connections = True
        level = _LEVELS.get(event.status, "info")
        message = event.error or ""
        if event.status == StepStatus.SUCCESS and event.attempts > 1:
            message = f"after {event.attempts} attempts"
        self._log(
            change,
            event.time,
            level,
            name,
            event.status,
            event.duration or None,
            message,
            step=event.step_name,
        )

    def _mirror(self, name: str, taken: Iterable[str], dead: Iterable[str]) -> None:
        """The connections the engine resolved when `name` finished (NodeFinished.taken / .dead).
        A PARALLEL / LOOP connection is taken when its target starts; a connection once taken
        stays taken (a node in a loop finishes once per iteration)."""
        for target in taken:
            key = (name, target)
            self.taken.add(key)
            self.dead.discard(key)
        for target in dead:
            key = (name, target)
            if key not in self.taken:
                self.dead.add(key)

    def _log(
        self,
        change: RunChange,
        t: float,
        level: str,
        node: str | None,
        status: str,
        duration: float | None,
        message: str,
        depth: int = 0,
        step: str | None = None,
    ) -> None:
        entry = LogEntry(t, level, node, status, duration, message, depth, step)
        self.log.append(entry)
        change.log.append(entry)
        if len(self.log) > LOG_CAP + LOG_CAP // 4:
            del self.log[: len(self.log) - LOG_CAP]

    # ------------------------------------------------------------ sub-workflow child runs
    def apply_child(self, events: Iterable[ev.EngineEvent], depth: int) -> None:
        """A SUBWORKFLOW's child run's events (`depth` levels down): lines in this run's log,
        indented under the step that started it; the canvas shows this run's nodes only."""
        change = RunChange()
        for event in events:
            kind = event.kind
            if kind == "node_finished":
                assert isinstance(event, ev.NodeFinished)
                level = {"failed": "error", "cancelled": "warning"}.get(event.status, "info")
                self._log(
                    change, event.time, level, event.step_name or event.node_name, event.status,
                    event.duration or None, event.error or "", depth, event.step_name or None,
                )  # fmt: skip
            elif kind == "log":
                assert isinstance(event, ev.LogLine)
                self._log(change, event.time, event.level, event.node_name, "", None, event.message, depth)
            elif kind == "execution_started":
                assert isinstance(event, ev.ExecutionStarted)
                message = f"sub-workflow run {event.execution_id} started"
                self._log(change, event.time, "info", None, "started", None, message, depth)
            elif kind == "execution_finished":
                assert isinstance(event, ev.ExecutionFinished)
                level = "info" if event.status == "completed" else "error"
                message = f"sub-workflow run {event.execution_id} {event.status}" + (
                    f": {event.error_message}" if event.error_message else ""
                )
                self._log(change, event.time, level, None, event.status, event.duration, message, depth)
        if change.log:
            self.updated.emit(change)

    def add_child_history(
        self,
        parent_step: str,
        depth: int,
        execution: Any,
        logs: Sequence[Any],
        within: Sequence[LogEntry] | None = None,
    ) -> list[LogEntry]:
        """A finished child run's step rows, placed in the log right under the line of the step
        that started it (replaying a past run): the line whose step name is `parent_step` (`call[2]`:
        the third iteration's, not the last one's), looked for among the lines `within` (those of the
        child run that started this one) when given. Returns the lines it added."""
        lines: list[LogEntry] = []
        for row in sorted(logs, key=lambda r: r.sequence):
            status = str(getattr(row.status, "value", row.status))
            when = row.completed_at or row.started_at or execution.started_at
            level = {"failed": "error", "cancelled": "warning"}.get(status, "info")
            lines.append(
                LogEntry(
                    when.timestamp() if when else 0.0, level, row.step_name or row.node_name, status,
                    row.execution_time, row.error_message or "", depth, row.step_name or None,
                )
            )  # fmt: skip
        among = {id(line) for line in within} if within is not None else None
        up = [
            i
            for i in range(len(self.log) - 1, -1, -1)
            if self.log[i].depth == depth - 1 and (among is None or id(self.log[i]) in among)
        ]
        at = next((i + 1 for i in up if self.log[i].step == parent_step), None)
        if at is None:  # a line without its step name: matched by the node's name, the latest one
            names = (parent_step, parent_step.split("[", 1)[0])
            at = next((i + 1 for i in up if self.log[i].step is None and self.log[i].node in names), None)
        if at is None:
            at = len(self.log)
        self.log[at:at] = lines
        return lines

    def note_paused(self, step_name: str | None) -> None:
        """A step ended and the run waits again before `step_name` (the engine emits no event for
        a pause that continues after a step)."""
        if self.done:
            return
        self.status = ExecutionStatus.PAUSED
        self.current_step = step_name or self.current_step
        self.updated.emit(RunChange(status=True))

    # ------------------------------------------------------------ replay from the database
    @classmethod
    def from_history(
        cls,
        execution: Any,
        logs: Sequence[Any],
        outgoing: Outgoing,
        total_nodes: int,
        parent: QObject | None = None,
    ) -> RunState:
        """Rebuild a finished (or interrupted) execution's state from its rows."""
        state = cls(execution.workflow_id, outgoing, total_nodes, live=False, parent=parent)
        state.execution_id = execution.id
        state.status = str(getattr(execution.status, "value", execution.status))
        state.progress = float(execution.progress or 0.0)
        if state.status == ExecutionStatus.COMPLETED:
            state.progress = 100.0
        state.current_step = execution.current_node
        state.error_message = execution.error_message
        state.output_data = execution.output_data
        state.input_data = execution.input_data
        if execution.started_at is not None:
            state.started = execution.started_at.timestamp()
            if execution.completed_at is not None:
                state.duration = (execution.completed_at - execution.started_at).total_seconds()
        change = RunChange()
        if state.started is not None:
            state._log(change, state.started, "info", None, "started", None, "execution started")
        for row in sorted(logs, key=lambda r: r.sequence):
            name = row.node_name or row.step_name
            status = str(getattr(row.status, "value", row.status))
            run = state.nodes.get(name)
            if run is None:
                run = state.nodes[name] = NodeRun(name, row.node_type or "")
            run.status = status
            run.step_name = row.step_name
            run.output = row.output_data
            run.input = row.input_data
            run.error = row.error_message
            run.error_type = row.error_type
            run.attempts = row.attempts
            run.duration = row.execution_time
            run.runs += 1
            run.attempt_history = list((row.metrics or {}).get("attempts") or [])
            run.warnings = list(row.warnings or [])
            run.loaded = True
            t = (
                (row.completed_at or row.started_at or execution.started_at).timestamp()
                if (row.completed_at or row.started_at or execution.started_at)
                else 0.0
            )
            level = _LEVELS.get(status, "info")
            state._log(
                change,
                t,
                level,
                name,
                status,
                row.execution_time,
                row.error_message or "",
                step=row.step_name,
            )
            for warning in run.warnings:  # as the live run logged them (the engine's LogLines)
                state._log(change, t, "warning", name, "", None, f"{row.step_name}: {warning}")
        state._derive_connections()
        if state.done and execution.completed_at is not None:
            level = "info" if state.status == ExecutionStatus.COMPLETED else "error"
            msg = f"execution {state.status}" + (f": {state.error_message}" if state.error_message else "")
            state._log(
                change, execution.completed_at.timestamp(), level, None, state.status, state.duration, msg
            )
        return state

    def _derive_connections(self) -> None:
        """Taken/dead connections of a replayed run: which targets ran after their source. (Step
        rows do not record connections; a live run mirrors the engine's NodeFinished instead.)"""
        resolved = (StepStatus.SUCCESS, StepStatus.FAILED, StepStatus.SKIPPED)
        for source, targets in self.outgoing.items():
            src = self.nodes.get(source)
            if src is None or src.status not in resolved:
                continue
            for target, ctype in targets:
                tgt = self.nodes.get(target)
                ran = tgt is not None and tgt.status != StepStatus.SKIPPED
                right_kind = (ctype == "ERROR") == (src.status == StepStatus.FAILED)
                if src.status != StepStatus.SKIPPED and ran and right_kind:
                    self.taken.add((source, target))
                else:
                    self.dead.add((source, target))
