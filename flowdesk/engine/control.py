"""Pause, step and breakpoints: the gate every node passes before it starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable


class RunControl:
    """The debugger's gate of one run.

    While paused, nodes that become ready wait at the gate; nodes already running finish. `step()`
    lets exactly one waiting node through — the one that has waited longest — and completes once
    that node has finished and the run is paused again before the next node (or has ended). A node
    that opens a scope (LOOP, PARALLEL) counts as run once it has started: its body's nodes then
    wait at the gate like any other, one per step (a LOOP's iteration node is one step; PARALLEL's
    branches' nodes go one per step in the order they became ready, so the branches' first nodes
    in connection order, then each branch's next node behind those already waiting). A breakpoint
    pauses before the named node.
    """

    def __init__(
        self,
        *,
        step_by_step: bool = False,
        breakpoints: Iterable[str] = (),
        on_pause: Callable[[str, str | None], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        self.paused = bool(step_by_step)
        self.breakpoints = frozenset(breakpoints)
        self.watching = self.paused or bool(self.breakpoints)
        self.waiting: list[str] = []  # step names waiting at the gate, in arrival order
        self._queue: list[object] = []  # one ticket per waiting node, in the same order
        self._on_pause = on_pause
        self._on_resume = on_resume
        self._changed = asyncio.Event()
        self._tokens = 0
        self._released = 0
        self._step_futures: list[asyncio.Future[None]] = []
        self._finished = False

    def bind(self, on_pause: Callable[[str, str | None], None], on_resume: Callable[[], None]) -> None:
        """Who hears of pauses and resumes (the run's handle, made after its control)."""
        self._on_pause = on_pause
        self._on_resume = on_resume

    # -- called by the scheduler ------------------------------------------------------------
    async def before(self, node_name: str, step_name: str, *, opens_scope: bool = False) -> bool:
        """Wait at the gate while paused; True when this node was let through by `step()`.

        `opens_scope`: the node runs other nodes (LOOP, PARALLEL), which pass this gate themselves,
        so the step it was let through by ends when it has started, not when it has finished."""
        if node_name in self.breakpoints and not self.paused:
            self._set_paused(f"breakpoint at {step_name}", step_name)
        if not self.paused:
            return False
        ticket = object()
        self.waiting.append(step_name)
        self._queue.append(ticket)
        self._check_steps()
        try:
            while self.paused:
                if self._tokens > 0 and self._queue[0] is ticket:
                    self._tokens -= 1
                    if not opens_scope:
                        self._released += 1
                    if self._tokens > 0:
                        self._changed.set()  # another step() waits: the next in line may go
                    return True
                self._changed.clear()
                await self._changed.wait()
            return False
        finally:
            self.waiting.remove(step_name)
            self._queue.remove(ticket)
            if self._tokens > 0:
                self._changed.set()  # the first in line changed

    def after(self, released: bool, *, opens_scope: bool = False) -> None:
        """A node that passed the gate has finished."""
        if released:
            if not opens_scope:
                self._released -= 1
            self._check_steps()

    @property
    def finished(self) -> bool:
        """The run has ended."""
        return self._finished

    def finish(self) -> None:
        """The run has ended: complete every pending step(). Pauses are no longer reported (the
        handle's callbacks are let go, so the ended run and its handle hold no cycle)."""
        self._finished = True
        self._on_pause = self._on_resume = None
        self._check_steps()

    # -- called by the handle ---------------------------------------------------------------
    def set_breakpoints(self, names: Iterable[str]) -> None:
        """Pause before these nodes from now on (replacing the breakpoints set so far)."""
        self.breakpoints = frozenset(names)
        self.watching = self.paused or bool(self.breakpoints)

    def pause(self, reason: str = "paused") -> None:
        """Stop letting nodes start (running ones finish)."""
        self.watching = True
        if not self.paused:
            self._set_paused(reason, self.waiting[0] if self.waiting else None)

    def resume(self) -> None:
        """Let every node through again (until the next breakpoint)."""
        self.watching = bool(self.breakpoints)
        if self.paused:
            self.paused = False
            self._changed.set()
            if self._on_resume is not None:
                self._on_resume()

    async def step(self) -> None:
        """Run the next ready node, then pause again; returns once paused again or finished."""
        if self._finished:
            return
        if not self.paused:
            self.pause("step")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._step_futures.append(future)
        self._tokens += 1
        self._changed.set()
        await future

    # -- internals ---------------------------------------------------------------------------
    def _set_paused(self, reason: str, step_name: str | None) -> None:
        self.paused = True
        self.watching = True
        if self._on_pause is not None:
            self._on_pause(reason, step_name)

    def _check_steps(self) -> None:
        if not self._step_futures:
            return
        settled = self._finished or (self._tokens == 0 and self._released == 0 and bool(self.waiting))
        if settled:
            futures, self._step_futures = self._step_futures, []
            for f in futures:
                if not f.done():
                    f.set_result(None)
