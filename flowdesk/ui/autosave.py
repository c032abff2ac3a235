"""Autosave: a crash-proof copy of every unsaved workflow, offered back at the next start.

Every N seconds each dirty tab is written as workflow-file JSON to
`<user data dir>/autosave/workflow-<id>.json`, atomically (a temporary file renamed into place),
so a crash mid-write never leaves a broken copy. Saving or closing cleanly removes the copy.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QTimer

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import WorkflowGraph
from flowdesk.interchange.workflow_file import workflow_document

log = logging.getLogger(__name__)


def default_autosave_dir() -> Path:
    return Path(platformdirs.user_data_dir("flowdesk", "flowdesk")) / "autosave"


@dataclass
class AutosaveCopy:
    """One copy found on disk: which workflow, where, and its graph."""

    workflow_id: int
    path: Path
    graph: WorkflowGraph


class Autosaver(QObject):
    """Writes copies of dirty documents on a timer; lists and removes copies."""

    def __init__(self, directory: Path | None, tabs, interval_s: float = 30.0, parent: QObject | None = None):
        super().__init__(parent)
        self.directory = Path(directory) if directory is not None else default_autosave_dir()
        self._tabs = tabs  # callable returning the open EditorTabs
        self.timer = QTimer(self)
        self.timer.setInterval(int(interval_s * 1000))
        self.timer.timeout.connect(self.save_dirty)
        self.timer.start()

    def path_for(self, workflow_id: int) -> Path:
        return self.directory / f"workflow-{workflow_id}.json"

    def save_dirty(self) -> list[Path]:
        """Write a copy of every dirty tab now; returns the files written."""
        written = []
        for tab in self._tabs():
            if tab.doc.is_dirty and tab.workflow_id is not None:
                try:
                    written.append(self.write(tab.workflow_id, tab.doc.to_graph()))
                except (OSError, FlowdeskError):
                    log.exception("autosave of workflow %s failed", tab.workflow_id)
        return written

    def write(self, workflow_id: int, graph: WorkflowGraph) -> Path:
        import json

        self.directory.mkdir(parents=True, exist_ok=True)
        # APIs are referenced by library id here (the copy goes back into the same database),
        # so the document is written without embedding them.
        document = workflow_document(
            graph.model_copy(
                update={
                    "nodes": [
                        n.model_copy(update={"config": {k: v for k, v in n.config.items() if k != "api_id"}})
                        for n in graph.nodes
                    ]
                }
            )
        )
        for node_doc, node in zip(document["nodes"], graph.nodes, strict=True):
            if "api_id" in node.config:
                node_doc["config"]["api_id"] = node.config["api_id"]
        text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        target = self.path_for(workflow_id)
        fd, tmp = tempfile.mkstemp(prefix=".autosave-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def discard(self, workflow_id: int | None) -> None:
        if workflow_id is not None:
            self.path_for(workflow_id).unlink(missing_ok=True)

    def copies(self) -> list[AutosaveCopy]:
        """Copies left by a previous session that did not save (readable ones only)."""
        found: list[AutosaveCopy] = []
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("workflow-*.json")):
            try:
                workflow_id = int(path.stem.split("-", 1)[1])
                text = path.read_text(encoding="utf-8")
                graph = _read_copy(text)
            except (ValueError, KeyError, TypeError, OSError, FlowdeskError) as err:
                log.warning("ignoring unreadable autosave copy %s: %s", path, err)
                continue
            found.append(AutosaveCopy(workflow_id, path, graph))
        return found


def _read_copy(text: str) -> WorkflowGraph:
    """The graph of an autosave copy. A copy may be mid-edit (a missing END, an unfinished
    condition), which a file import refuses; the copy is our own output in the file's shape, so it
    is read back with the domain models and validated live once open, like any edit."""
    import json

    from flowdesk.domain.models import Connection, Node, Workflow

    doc = json.loads(text)
    return WorkflowGraph(
        workflow=Workflow(**doc["workflow"]),
        nodes=[Node(**n) for n in doc["nodes"]],
        connections=[
            Connection(
                from_node=c["from"],
                to_node=c["to"],
                connection_type=c["connection_type"],
                condition=c.get("condition"),
                config=c.get("config") or {},
            )
            for c in doc.get("connections", [])
        ],
    )
