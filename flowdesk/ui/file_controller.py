"""The editor's file actions (File menu and toolbar): new, from a template, save, import, import
into this workflow, export, versions, the audit log, and bringing back autosaved copies. MainWindow
makes one `FileController` and places its actions in its menus and toolbar; the controller reaches the
window only through its public names (backend, browser, autosaver, current_tab, tab_for,
open_workflow, add_tab, show_status)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from flowdesk.domain.enums import NodeType
from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import Node, Workflow, WorkflowGraph
from flowdesk.interchange.workflow_file import write_workflow_file

from .commands import ReplaceGraphCommand
from .document import ConnectionState, NodeState
from .editor_tab import EditorTab
from .import_problems_dialog import ImportProblemsDialog
from .versions_dialog import VersionsDialog

if TYPE_CHECKING:
    from flowdesk.services.transfer import NameTaken, WorkflowNameTakenError

    from .audit_dialog import AuditDialog
    from .main_window import MainWindow
    from .node_types_dialog import NodeTypesDialog


class FileController(QObject):
    """File actions of one MainWindow (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.last_import_problems: ImportProblemsDialog | None = None
        make = window.make_action
        K = QKeySequence
        self.action_new = make("actionNew", "&New workflow", self.new_workflow, K.StandardKey.New)
        self.action_new_from_template = make(
            "actionNewFromTemplate",
            "New from &template…",
            self.show_template_gallery,
            K("Ctrl+Shift+N"),
            "Start a workflow from the template library (docs/templates.md)",
        )
        self.action_save = make(
            "actionSave", "&Save", self.save_current, K.StandardKey.Save, "Save the workflow to the database"
        )
        self.action_import = make(
            "actionImport",
            "&Import…",
            lambda: self.import_file(),
            K("Ctrl+I"),
            "Import a workflow file as a new workflow",
        )
        self.action_insert_file = make(
            "actionInsertFile",
            "Import into this &workflow…",
            lambda: self.insert_file(),
            None,
            "Add a workflow file's nodes to the open workflow (one undo step)",
        )
        self.action_export = make(
            "actionExport",
            "&Export…",
            lambda: self.export_current(),
            K("Ctrl+E"),
            "Export this workflow as a file",
        )
        self.action_versions = make(
            "actionVersions",
            "&Versions…",
            self.show_versions,
            None,
            "Save a version, browse history, diff, restore",
        )
        self.action_node_types = make(
            "actionNodeTypes",
            "Node &types…",
            self.show_node_types,
            None,
            "Custom node types: add, edit and delete them without code",
        )
        self.action_audit = make(
            "actionAudit",
            "&Audit log…",
            self.show_audit,
            None,
            "Who changed what, when (filter by workflow, actor and time)",
        )

    def new_workflow(self) -> EditorTab:
        """Create a workflow with a START and an END node in the database and open it."""
        taken = {w.name for w in self.window.backend.workflows.list_workflows()}
        name, i = "Untitled workflow", 1
        while name in taken:
            i += 1
            name = f"Untitled workflow {i}"
        graph = WorkflowGraph(
            workflow=Workflow(name=name, config={"timeout": 300, "retry_count": 0}),
            nodes=[
                Node(name="Start", node_type=NodeType.START, position_x=0, position_y=0),
                Node(name="End", node_type=NodeType.END, position_x=400, position_y=0),
            ],
        )
        created = self.window.backend.workflows.create_from_graph(graph)
        self.window.browser.refresh()
        assert created.workflow.id is not None  # written just now
        self.window.browser.select_id(created.workflow.id)
        return self.window.add_tab(created)

    def show_template_gallery(self) -> None:
        """File > New from template… (ui/template_gallery.py; imported when first used)."""
        from .template_gallery import show_gallery

        show_gallery(self.window)

    def save_tab(self, tab: EditorTab) -> bool:
        try:
            tab.save()
        except FlowdeskError as err:
            QMessageBox.warning(self.window, "Not saved", str(err))
            return False
        self.window.autosaver.discard(tab.workflow_id)
        self.window.browser.refresh()
        self.window.reload_node_types()  # a `workflow:NAME` handler may name what was just saved
        return True

    def save_current(self) -> bool:
        tab = self.window.current_tab()
        return self.save_tab(tab) if tab is not None else False

    def import_file(self, path: str | os.PathLike[str] | None = None) -> EditorTab | None:
        """Open a workflow file: the stored workflow with identical content if there is one, else the
        file imported (the services' rule, TransferService.open_file). A name taken by a different
        workflow asks: replace it as a new version, import as a copy, or cancel. Problems are listed
        and nothing changes."""
        from flowdesk.services.transfer import NameTaken, WorkflowNameTakenError

        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window, "Import workflow", str(Path.home()), "Workflow files (*.json);;All files (*)"
            )
            if not path:
                return None
        source = Path(path).name
        choice = NameTaken.REFUSE
        while True:
            try:
                opened = self.window.backend.transfer.open_file(Path(path), if_name_taken=choice)
                break
            except WorkflowNameTakenError as err:
                answer = self.ask_name_taken(err, source)
                if answer is None:
                    self.window.show_status(f"{source} was not imported")
                    return None
                choice = answer
            except FlowdeskError as err:
                dialog = ImportProblemsDialog(source, err, self.window)
                self.last_import_problems = dialog
                dialog.open()
                self.window.show_status(f"{source} was not imported")
                return None
        graph = opened.graph
        self.window.browser.refresh()
        self.window.browser.select_id(graph.workflow.id)
        status = {
            "reused": f"{source} is already stored as '{graph.workflow.name}': opened it",
            "stored": f"Imported '{graph.workflow.name}' from {source}",
            "replaced": f"'{graph.workflow.name}' replaced by {source} (the old content is a version)",
            "copied": f"Imported {source} as a copy, '{graph.workflow.name}'",
        }[opened.outcome]
        self.window.show_status(status)
        open_tab = self.window.tab_for(graph.workflow.id)
        if opened.outcome == "replaced" and open_tab is not None:
            open_tab.reload()
        # A reused workflow was just read from the database to compare it with the file: the tab
        # opens that reading (a 2,000-node workflow takes a tenth of a second to read).
        return self.window.open_workflow(graph.workflow.id, graph if opened.outcome == "reused" else None)

    def ask_name_taken(self, err: WorkflowNameTakenError, source: str) -> NameTaken | None:
        """A file named like a different stored workflow: Replace (as a new version), Import as a
        copy, or Cancel (None)."""
        from flowdesk.services.transfer import NameTaken

        box = QMessageBox(self.window)
        box.setObjectName("nameTakenQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("A workflow with this name exists")
        box.setText(
            f"{source} is named '{err.name}', like stored workflow {err.workflow_id}, but its content differs."
        )
        box.setInformativeText(
            "Replace that workflow with the file (its current content is kept as a version), "
            "import the file as a copy, or cancel?"
        )
        replace = box.addButton("Replace as new version", QMessageBox.ButtonRole.AcceptRole)
        replace.setObjectName("replaceWorkflow")
        copy = box.addButton("Import as copy", QMessageBox.ButtonRole.ActionRole)
        copy.setObjectName("importAsCopy")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is replace:
            return NameTaken.REPLACE
        if clicked is copy:
            return NameTaken.AS_NEW
        return None

    def insert_file(self, path: str | os.PathLike[str] | None = None) -> list[int]:
        """Import a file's nodes into the current workflow as one undo step; problems are listed."""
        tab = self.window.current_tab()
        if tab is None:
            return []
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window,
                "Import into this workflow",
                str(Path.home()),
                "Workflow files (*.json);;All files (*)",
            )
            if not path:
                return []
        try:
            return tab.insert_file(Path(path))
        except FlowdeskError as err:
            dialog = ImportProblemsDialog(Path(path).name, err, self.window)
            self.last_import_problems = dialog
            dialog.open()
            return []

    def export_current(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write what the current tab shows (saved or not) as a workflow file."""
        tab = self.window.current_tab()
        if tab is None:
            return None
        if path is None:
            suggested = str(Path.home() / f"{tab.doc.workflow.name}.json")
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export workflow", suggested, "Workflow files (*.json)"
            )
            if not path:
                return None
        target = Path(path)
        graph = tab.doc.to_graph()
        backend = self.window.backend
        try:
            # The workflows it calls, its custom types and the APIs travel with it (as `flowdesk
            # export` writes them: TransferService.export_parts), so the file is whole.
            carried, apis, registrations = backend.transfer.export_parts(graph)
            text = write_workflow_file(
                graph, apis, tab.doc.node_types, workflows=carried, registrations=registrations
            )
        except FlowdeskError as err:
            QMessageBox.warning(self.window, "Not exported", str(err))
            return None
        fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.window.show_status(f"Exported '{graph.workflow.name}' to {target}")
        return target

    def show_versions(self) -> VersionsDialog | None:
        tab = self.window.current_tab()
        if tab is None:
            return None
        # versions belong to a stored workflow: unsaved edits (or a never-saved template tab) are saved first
        if (tab.doc.is_dirty or tab.workflow_id is None) and not self.save_tab(tab):
            return None
        dialog = VersionsDialog(self.window.backend, tab.stored_id, lambda: self.save_tab(tab), self.window)
        dialog.restored.connect(tab.reload)
        dialog.open()
        return dialog

    def show_node_types(self) -> NodeTypesDialog:
        """The custom node types dialog; the palette and every tab follow its changes."""
        from .node_types_dialog import NodeTypesDialog

        dialog = NodeTypesDialog(self.window.backend, self.window)
        dialog.changed.connect(self.window.reload_node_types)
        dialog.open()
        return dialog

    def show_audit(self) -> AuditDialog:
        """The audit log, filtered to the current workflow when one is open."""
        from .audit_dialog import AuditDialog

        tab = self.window.current_tab()
        dialog = AuditDialog(self.window.backend, tab.workflow_id if tab is not None else None, self.window)
        dialog.open()
        return dialog

    def offer_autosave_copies(self, *, ask: bool = True) -> list[EditorTab]:
        """Offer to bring back copies a crashed session left; restored ones open as unsaved edits."""
        copies = self.window.autosaver.copies()
        if not copies:
            return []
        if ask:
            names = "\n".join(f"• {c.graph.workflow.name}" for c in copies)
            answer = QMessageBox.question(
                self.window,
                "Recover unsaved work",
                f"flowdesk closed without saving these workflows:\n{names}\n\nRestore the unsaved changes?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer != QMessageBox.StandardButton.Yes:
                for c in copies:
                    c.path.unlink(missing_ok=True)
                return []
        restored = []
        for c in copies:
            try:
                tab = self.window.open_workflow(c.workflow_id)
            except FlowdeskError:
                # the workflow was deleted meanwhile: bring the copy back as a new one
                created = self.window.backend.workflows.create_from_graph(
                    c.graph.model_copy(update={"workflow": c.graph.workflow.model_copy(update={"id": None})})
                )
                self.window.browser.refresh()
                assert created.workflow.id is not None  # written just now
                tab = self.window.open_workflow(created.workflow.id)
                c.path.unlink(missing_ok=True)
                restored.append(tab)
                continue
            doc = tab.doc
            uids = {}
            nodes = []
            for n in c.graph.nodes:
                uid = doc.new_uid()
                uids[n.name] = uid
                existing = doc.node_by_name(n.name)  # keep database ids, so run history stays attached
                nodes.append(
                    NodeState(
                        uid,
                        n.name,
                        str(n.node_type),
                        dict(n.config),
                        n.position_x,
                        n.position_y,
                        n.description,
                        existing.db_id if existing else None,
                    )
                )
            conns = [
                ConnectionState(
                    doc.new_uid(),
                    uids[x.from_node],
                    uids[x.to_node],
                    x.connection_type,
                    x.condition,
                    dict(x.config),
                )
                for x in c.graph.connections
                if x.from_node in uids and x.to_node in uids
            ]
            props = {
                k: getattr(c.graph.workflow, k)
                for k in ("name", "description", "version", "config", "tags", "is_active")
            }
            doc.undo_stack.push(ReplaceGraphCommand(doc, nodes, conns, props, text="Restore unsaved changes"))
            restored.append(tab)
        return restored
