"""LiveValidation: runs the domain's graph validation shortly after the user stops editing.

Edits restart a single-shot QTimer; when it fires, a snapshot of the document (`to_graph`) is
validated on a worker thread (a 2,000-node graph takes a few hundred milliseconds; the canvas stays
usable meanwhile), and the problems come back through a queued signal, mapped to node and
connection uids for the canvas markers and the problems dock. A result overtaken by a newer edit
is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from flowdesk.domain.enums import Severity
from flowdesk.domain.models import Problem
from flowdesk.domain.validation import locate_graph_problems

from .document import WorkflowDocument

log = logging.getLogger(__name__)

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowdesk-validation")


class LiveValidation(QObject):
    """Debounced validation of one document."""

    problems_changed = Signal(list)  # list[Problem]
    _finished = Signal(int, object, object)  # generation, problems, (node uids by name, connection uids)

    def __init__(
        self,
        doc: WorkflowDocument,
        delay_ms: int = 300,
        node_types: Collection[str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.node_types = node_types
        self.problems: list[Problem] = []
        self.node_problems: dict[int, list[tuple[Severity, str]]] = {}
        self.connection_problems: dict[int, list[tuple[Severity, str]]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.run_in_background)
        self._generation = 0
        self._running: int | None = None
        self._finished.connect(self._on_finished)
        doc.graph_changed.connect(self._edited)

    def schedule(self) -> None:
        self._timer.start()

    def _edited(self) -> None:
        self._generation += 1  # a result still on its way describes an older graph: drop it
        self._timer.start()

    @property
    def pending(self) -> bool:
        """True while an edit waits for validation or a validation is running."""
        return self._timer.isActive() or self._running == self._generation

    def _snapshot(self):
        by_name = {n.name: n.uid for n in self.doc.nodes()}
        conn_uids = [c.uid for c in self.doc.connections()]
        return self.doc.to_graph(), (by_name, conn_uids)

    def run_in_background(self) -> None:
        """Validate a snapshot on the worker thread; the result arrives via `problems_changed`."""
        self._timer.stop()
        self._generation += 1
        generation = self._generation
        graph, where = self._snapshot()
        self._running = generation
        node_types = self.node_types

        def work() -> None:
            problems = _validate(graph, node_types)
            try:
                self._finished.emit(generation, problems, where)
            except RuntimeError:  # the tab closed meanwhile
                pass

        _WORKER.submit(work)

    def _on_finished(self, generation: int, problems, where) -> None:
        if generation != self._generation:
            return  # overtaken by a newer edit or a synchronous run
        self._running = None
        self._apply(problems, *where)

    def run(self) -> None:
        """Validate now, on this thread (tests, and before anything needs the answer at once)."""
        self._timer.stop()
        self._generation += 1
        self._running = None
        graph, where = self._snapshot()
        self._apply(_validate(graph, self.node_types), *where)

    def _apply(self, problems: list[Problem], by_name: dict[str, int], conn_uids: list[int]) -> None:
        node_problems: dict[int, list[tuple[Severity, str]]] = {}
        connection_problems: dict[int, list[tuple[Severity, str]]] = {}
        for p in problems:
            if p.connection is not None and 0 <= p.connection < len(conn_uids):
                connection_problems.setdefault(conn_uids[p.connection], []).append((p.severity, _detail(p)))
            elif p.node is not None and p.node in by_name:
                node_problems.setdefault(by_name[p.node], []).append((p.severity, _detail(p)))
        self.problems = problems
        self.node_problems = node_problems
        self.connection_problems = connection_problems
        self.problems_changed.emit(problems)

    def problem_target(self, problem: Problem) -> tuple[str, int] | None:
        """('node', uid) or ('connection', uid) a problem concerns, if it still exists."""
        if problem.connection is not None:
            conns = self.doc.connections()
            if 0 <= problem.connection < len(conns):
                return ("connection", conns[problem.connection].uid)
        if problem.node is not None:
            node = self.doc.node_by_name(problem.node)
            if node is not None:
                return ("node", node.uid)
        return None


def _detail(problem: Problem) -> str:
    """The message with the field and column it concerns, for a badge's tooltip on that node."""
    if problem.key is None:
        return problem.message
    column = f", column {problem.column}" if problem.column is not None else ""
    return f"{problem.key}{column}: {problem.message}"


def _validate(graph, node_types) -> list[Problem]:
    try:
        return [found.placed() for found in locate_graph_problems(graph, node_types=node_types)]
    except Exception:  # validation must never take the editor down; the log keeps the trace
        log.exception("validation failed")
        return []
