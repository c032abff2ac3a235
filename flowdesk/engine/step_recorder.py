"""Where a run's step rows go: the StepRecorder interface, for the database or for memory.

A Run hands each finished step's row (masked) to its recorder, and tells it the node that starts
(`progress`). `DatabaseSteps` queues both on the ExecutionWriter under the execution's id;
`MemorySteps` keeps the rows in a list (the handle's `steps`) and has no progress to store, which is
what an unpersisted run (`execute_graph(persist=False)`, `WorkflowExecutor(persist=False)`) uses.
(Not to be confused with engine/step_sink.py, the process that inserts large batches into SQLite.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .writer import ExecutionWriter


class StepRecorder(Protocol):
    """Takes a run's step rows and progress."""

    tracks_progress: bool
    """Whether `progress` stores anything (when False the run does not call it)."""

    def add(self, row: dict[str, Any]) -> None:
        """A finished (or skipped, or cancelled) step's row, already masked."""

    def progress(self, current_step: str | None, progress: float) -> None:
        """A node starts: the run's current step and its share done (0-1)."""


class DatabaseSteps:
    """Rows and progress queued on the ExecutionWriter for one execution row."""

    __slots__ = ("writer", "execution_id")
    tracks_progress = True

    def __init__(self, writer: ExecutionWriter, execution_id: int) -> None:
        self.writer = writer
        self.execution_id = execution_id

    def add(self, row: dict[str, Any]) -> None:
        self.writer.add_step(self.execution_id, row)

    def progress(self, current_step: str | None, progress: float) -> None:
        # Recorded at every start, so a monitor asking during a long node sees it; the writer keeps
        # one queued update per execution and batch and changes it in place (`note_progress`).
        self.writer.note_progress(self.execution_id, current_step, progress)


class MemorySteps:
    """Rows kept in a list; no execution row, so no progress to store."""

    __slots__ = ("rows",)
    tracks_progress = False

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def progress(self, current_step: str | None, progress: float) -> None:
        return None
