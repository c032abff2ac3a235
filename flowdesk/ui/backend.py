"""EditorBackend: the services the editor talks to, all on one database."""

from __future__ import annotations

from functools import cached_property

from flowdesk.domain.node_descriptors import NodeTypeDescriptor
from flowdesk.services import ApiService, VersionService, WorkflowService
from flowdesk.store import Database


class EditorBackend:
    """Opens the database once and hands out the services (transfer is loaded on first use)."""

    def __init__(self, db: Database | str | None = None) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self.workflows = WorkflowService(self.db)
        self.versions = VersionService(self.db)
        self.apis = ApiService(self.db)

    @cached_property
    def transfer(self):
        from flowdesk.services.transfer import TransferService

        return TransferService(self.db)

    def known_node_types(self) -> dict[str, NodeTypeDescriptor]:
        """Built-in plus registered custom node types, with their descriptors; a custom type whose
        handler cannot be found (a missing API definition or workflow, a module that is not there)
        has `cannot_run` set, so the editor's live validation marks its nodes and the inspector
        says why, as a run would refuse them (engine/custom_types.py)."""
        from flowdesk.services import NodeTypeService

        known = NodeTypeService(self.db).known_types()
        if all(d.builtin for d in known.values()):
            return known
        from flowdesk.engine.custom_types import checked_descriptors

        with self.db.session(read_only=True) as session:
            return {**known, **checked_descriptors(session)}

    def close(self) -> None:
        self.db.close()
