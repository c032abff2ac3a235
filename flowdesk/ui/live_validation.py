"""LiveValidation: runs the domain's graph validation shortly after the user stops editing.

Edits restart a single-shot QTimer; when it fires, `validate_graph` runs on the document's graph
and the problems are mapped back to node and connection uids for the canvas markers and the
problems dock.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from PySide6.QtCore import QObject, QTimer, Signal

from flowdesk.domain.enums import Severity
from flowdesk.domain.models import Problem
from flowdesk.domain.validation import validate_graph

from .document import WorkflowDocument

log = logging.getLogger(__name__)


class LiveValidation(QObject):
    """Debounced validation of one document."""

    problems_changed = Signal(list)  # list[Problem]

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
        self._timer.timeout.connect(self.run)
        doc.graph_changed.connect(self._timer.start)

    def schedule(self) -> None:
        self._timer.start()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def run(self) -> None:
        """Validate now (also what the timer calls)."""
        self._timer.stop()
        graph = self.doc.to_graph()
        try:
            problems = validate_graph(graph, node_types=self.node_types)
        except Exception:  # validation must never take the editor down; the log keeps the trace
            log.exception("validation failed")
            problems = []
        nodes = self.doc.nodes()
        conns = self.doc.connections()
        by_name = {n.name: n.uid for n in nodes}
        node_problems: dict[int, list[tuple[Severity, str]]] = {}
        connection_problems: dict[int, list[tuple[Severity, str]]] = {}
        for p in problems:
            if p.connection is not None and 0 <= p.connection < len(conns):
                connection_problems.setdefault(conns[p.connection].uid, []).append((p.severity, p.message))
            elif p.node is not None and p.node in by_name:
                node_problems.setdefault(by_name[p.node], []).append((p.severity, p.message))
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
