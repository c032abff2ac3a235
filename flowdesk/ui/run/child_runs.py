"""A SUBWORKFLOW's child runs in the run log: the child's steps indented under the step that
started it, live (the engine host routes a child's events to its top run's state) and when a past
run is replayed from the database (`add_child_runs`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .run_state import LogEntry, RunState

MAX_DEPTH = 100  # deeper children are not read (the engine's own limit is 10 by default)


def add_child_runs(
    state: RunState, db: Any, execution_id: int, depth: int = 1, within: Sequence[LogEntry] | None = None
) -> None:
    """Put the step rows of every child run of `execution_id` (and of theirs) in `state`'s log;
    `within`: where the lines of `execution_id` itself are, when it is a child run."""
    from flowdesk.services.executions import ExecutionService
    from flowdesk.services.subworkflows import child_runs

    if depth > MAX_DEPTH:
        return
    # Each child is inserted right under its step's line (the last first, so they end up in order),
    # its own children among its lines.
    for child in reversed(child_runs(db, execution_id)):
        assert child.id is not None
        placed = state.add_child_history(
            child.parent_step or "", depth, child, ExecutionService(db).get_logs(child.id), within
        )
        add_child_runs(state, db, child.id, depth + 1, placed)


class ChildRouter:
    """Which shown run each child run's events belong to, and how deep: a child whose
    `execution_started` names a parent that is shown (or is itself a routed child) is followed."""

    def __init__(self) -> None:
        self.children: dict[int, tuple[RunState, int]] = {}

    def route(self, states: dict[int, RunState], execution_id: int, events: list[Any]) -> bool:
        """Give a child run's events to its top run's state; False when `execution_id` is no child."""
        found = self.children.get(execution_id)
        if found is None:
            started = next((e for e in events if e.kind == "execution_started"), None)
            parent = getattr(started, "parent_execution_id", None)
            if parent is None:
                return False
            if parent in states:
                found = (states[parent], 1)
            elif parent in self.children:
                top, depth = self.children[parent]
                found = (top, depth + 1)
            else:
                return False
            self.children[execution_id] = found
        state, depth = found
        state.apply_child(events, depth)
        if any(e.kind == "execution_finished" for e in events):
            self.children.pop(execution_id, None)
        return True
