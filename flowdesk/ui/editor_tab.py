"""EditorTab: one open workflow — its document, canvas, minimap and live validation — and the
edit operations the main window's actions call (each one an undo command)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, QPointF, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QVBoxLayout, QWidget

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import WorkflowGraph
from flowdesk.domain.node_descriptors import ordered_type_names

from . import clipboard
from .backend import EditorBackend
from .canvas.layout import LayoutEdge, layered_layout
from .canvas.minimap import Minimap
from .canvas.node_item import NODE_HEIGHT, NODE_WIDTH
from .canvas.scene import GRID, WorkflowScene
from .canvas.view import WorkflowView
from .commands import (
    AddGraphCommand,
    AddNodeCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    RenameNodeCommand,
    SetConnectionTypeCommand,
    referencing_nodes,
)
from .document import NodeState, WorkflowDocument, allowed_connection_types, json_copy
from .live_validation import LiveValidation
from .quick_add import QuickAddPopup

log = logging.getLogger(__name__)

MINIMAP_THRESHOLD = 40  # nodes: below this the whole graph fits in a glance anyway


STACKED_MESSAGE = "The nodes had no positions of their own: laid out automatically (undo: Ctrl+Z)"


class EditorTab(QWidget):
    """The canvas of one workflow and its edit operations."""

    status_message = Signal(str)
    title_changed = Signal()

    def __init__(self, backend: EditorBackend, graph: WorkflowGraph, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.doc = WorkflowDocument(self)
        self.scene = WorkflowScene(self.doc, self)
        self.scene.api_names = {
            a.id: f"{a.method} · {a.name}" for a in backend.apis.list_apis() if a.id is not None
        }
        self.view = WorkflowView(self.scene, self)
        self.minimap = Minimap(self.view, self.doc)
        self.minimap.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.doc.node_types = backend.known_node_types()
        self.validation = LiveValidation(self.doc, node_types=self.doc.node_types, parent=self)
        self.validation.problems_changed.connect(self._show_problems)

        self.scene.status_message.connect(self.status_message)
        self.scene.context_menu_requested.connect(self._context_menu)
        self.view.node_dropped.connect(self.add_node_at)
        self.view.api_dropped.connect(self.add_api_node_at)
        self.view.quick_add_requested.connect(self.quick_add)
        self.view.viewport_moved.connect(self._place_overlays)
        self.doc.dirty_changed.connect(lambda _dirty: self.title_changed.emit())
        self.doc.workflow_changed.connect(self.title_changed)
        self.doc.graph_changed.connect(self._update_minimap_visibility)

        self.doc.load_graph(graph)
        self.lay_out_if_stacked()
        # validation runs once the tab is on screen (the debounce timer), not in the way of opening
        self.validation.schedule()
        self._update_minimap_visibility()

    # ------------------------------------------------------------ identity
    @property
    def workflow_id(self) -> int | None:
        return self.doc.workflow_id

    @property
    def stored_id(self) -> int:
        """The id of the tab's workflow, for what needs it stored: read after a save (a tab from a
        template has no id until its first save; new and imported workflows are stored at once)."""
        workflow_id = self.doc.workflow_id
        assert workflow_id is not None
        return workflow_id

    def title(self) -> str:
        return self.doc.workflow.name + ("*" if self.doc.is_dirty else "")

    # ------------------------------------------------------------ view
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_overlays()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._place_overlays()

    def _place_overlays(self) -> None:
        self.minimap.place()

    def _update_minimap_visibility(self) -> None:
        want = self.show_minimap and self.doc.node_count >= MINIMAP_THRESHOLD
        if want == self.minimap.isHidden():
            self.minimap.setVisible(want)

    show_minimap = True

    def set_minimap_enabled(self, enabled: bool) -> None:
        self.show_minimap = enabled
        self._update_minimap_visibility()

    def fit_to_view(self) -> None:
        self.view.fit_rect(self.scene.nodes_bounding_rect())

    def zoom_by(self, factor: float) -> None:
        self.view.set_zoom(self.view.zoom * factor)

    def find_node(self, text: str) -> bool:
        """Select and centre the first node whose name contains `text` (case-insensitive)."""
        needle = text.casefold()
        for node in self.doc.nodes():
            if needle and needle in node.name.casefold():
                self.focus_node(node.uid)
                return True
        self.status_message.emit(f"No node named like '{text}'")
        return False

    def focus_node(self, uid: int) -> None:
        self.doc.set_selection([uid], [])
        node = self.doc.node(uid)
        if self.view.zoom < 0.6:
            self.view.set_zoom(0.9)
        self.view.centerOn(QPointF(node.x + NODE_WIDTH / 2, node.y + NODE_HEIGHT / 2))

    def focus_connection(self, uid: int) -> None:
        self.doc.set_selection([], [uid])
        item = self.scene.connection_items.get(uid)
        if item is not None:
            self.view.centerOn(item.boundingRect().center())

    # ------------------------------------------------------------ adding nodes
    def add_node_at(self, node_type: str, scene_pos: QPointF) -> int:
        """Add a node of `node_type` centred on `scene_pos` with a unique default name; returns its uid."""
        x = scene_pos.x() - NODE_WIDTH / 2
        y = scene_pos.y() - NODE_HEIGHT / 2
        if self.scene.snap_to_grid:
            x, y = round(x / GRID) * GRID, round(y / GRID) * GRID
        node = NodeState(
            self.doc.new_uid(),
            self.doc.default_name(node_type),
            node_type,
            json_copy(self.doc.descriptor(node_type).new_config),
            x,
            y,
        )
        self.doc.undo_stack.push(AddNodeCommand(self.doc, node))
        self.doc.set_selection([node.uid], [])
        self.status_message.emit(f"Added '{node.name}'")
        return node.uid

    def add_api_node_at(self, api_id: int, api_name: str, scene_pos: QPointF) -> int:
        """An API_CALL node using library API `api_id` (named after it), dropped at `scene_pos`."""
        x = scene_pos.x() - NODE_WIDTH / 2
        y = scene_pos.y() - NODE_HEIGHT / 2
        if self.scene.snap_to_grid:
            x, y = round(x / GRID) * GRID, round(y / GRID) * GRID
        name = self.doc.unique_name(api_name) if api_name.strip() else self.doc.default_name("API_CALL")
        config = {**json_copy(self.doc.descriptor("API_CALL").new_config), "api_id": api_id}
        node = NodeState(self.doc.new_uid(), name, "API_CALL", config, x, y)
        self.doc.undo_stack.push(AddNodeCommand(self.doc, node))
        self.doc.set_selection([node.uid], [])
        self.status_message.emit(f"Added '{name}' calling API {api_id}")
        return node.uid

    def node_types(self) -> list[str]:
        """The types a node can be added as: the built-ins in their order, then custom ones by name."""
        return ordered_type_names(self.doc.node_types)

    def quick_add(self, scene_pos: QPointF, global_pos: QPoint) -> QuickAddPopup:
        popup = QuickAddPopup(self.node_types(), self, known=self.doc.node_types)
        popup.chosen.connect(lambda node_type: self.add_node_at(node_type, scene_pos))
        popup.popup_at(global_pos)
        return popup

    # ------------------------------------------------------------ editing the selection
    def delete_selection(self) -> None:
        nodes, conns = self.doc.selected_nodes, self.doc.selected_connections
        if not nodes and not conns:
            return
        count = len(nodes) + len(conns)
        self.doc.undo_stack.push(
            RemoveItemsCommand(self.doc, nodes, conns, text=f"Delete {count} item{'s' if count > 1 else ''}")
        )

    def select_all(self) -> None:
        self.scene.select_all()

    def copy_selection(self) -> str | None:
        """Put the selected nodes (and the connections among them) on the clipboard as file JSON."""
        uids = self.doc.selected_nodes
        if not uids:
            return None
        graph = self.doc.to_graph(uids)
        api_ids = {api_id for n in graph.nodes if isinstance(api_id := n.config.get("api_id"), int)}
        apis = []
        for api_id in sorted(api_ids):
            try:
                apis.append(self.backend.apis.get_api(api_id))
            except FlowdeskError:
                continue  # deleted from the library meanwhile: the node is copied without it
        text = clipboard.fragment_text(graph, apis, self.doc.node_types)
        # Plain text: the JSON pastes into any editor, and back. (A QMimeData made in Python and
        # handed to the clipboard is freed twice at exit by this PySide build, so none is made.)
        QGuiApplication.clipboard().setText(text)
        self.status_message.emit(f"Copied {len(graph.nodes)} node{'s' if len(graph.nodes) != 1 else ''}")
        return text

    def cut_selection(self) -> None:
        if self.copy_selection() is not None:
            self.doc.undo_stack.push(RemoveItemsCommand(self.doc, self.doc.selected_nodes, [], text="Cut"))

    def paste(self, text: str | None = None, at: QPointF | None = None) -> list[int]:
        """Paste workflow JSON (the clipboard's by default) as one undo step; returns the new uids."""
        if text is None:
            text = QGuiApplication.clipboard().text()
        try:
            fragment = clipboard.read_fragment(text)
        except FlowdeskError as err:
            self.status_message.emit(f"Nothing to paste: {err}")
            return []
        if not fragment.nodes:
            return []
        api_ids = self._library_api_ids(fragment)
        if at is None:
            visible = self.view.visible_scene_rect()
            xs = [float(n.get("position_x", 0) or 0) for n in fragment.nodes]
            ys = [float(n.get("position_y", 0) or 0) for n in fragment.nodes]
            origin = QPointF(min(xs), min(ys))
            # a copy lands beside its original when that is in sight, else in the middle of the view
            if visible.contains(origin):
                at = origin + QPointF(2 * GRID, 2 * GRID)
            else:
                at = visible.center() - QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)
        nodes, conns = clipboard.fragment_states(self.doc, fragment, api_ids, (at.x(), at.y()))
        command = AddGraphCommand(self.doc, nodes, conns, text=f"Paste {len(nodes)} nodes")
        self.doc.undo_stack.push(command)
        uids = [n.uid for n in nodes]
        self.doc.set_selection(uids, [])
        self.status_message.emit(f"Pasted {len(nodes)} node{'s' if len(nodes) != 1 else ''}")
        return uids

    def insert_file(self, path) -> list[int]:
        """Import a workflow file's nodes and connections into this workflow: one undo step.

        The file is read and checked by the file format's reader (all problems raise
        FileFormatError, and nothing changes); names that clash get a suffix.
        """
        from pathlib import Path

        from flowdesk.interchange.workflow_file import read_workflow_file

        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            from flowdesk.domain.errors import InvalidInputError

            raise InvalidInputError(f"Cannot read {path}: {err.strerror or err}.") from None
        workflow_file = read_workflow_file(data, source=path.name, node_types=self.validation.node_types)
        graph = workflow_file.graph
        fragment = clipboard.Fragment.from_graph(graph, workflow_file.apis)
        api_ids = self._library_api_ids(fragment)
        visible = self.view.visible_scene_rect()
        at = (visible.left() + 2 * GRID, visible.top() + 2 * GRID)
        nodes, conns = clipboard.fragment_states(self.doc, fragment, api_ids, at)
        self.doc.undo_stack.push(AddGraphCommand(self.doc, nodes, conns, text=f"Import {path.name}"))
        uids = [n.uid for n in nodes]
        self.doc.set_selection(uids, [])
        self.status_message.emit(f"Imported {len(nodes)} nodes from {path.name}")
        return uids

    def _library_api_ids(self, fragment: clipboard.Fragment) -> dict[int, int]:
        """File-local API ids -> the library's, adding APIs the library does not have yet."""
        mapping: dict[int, int] = {}
        for api in fragment.apis:
            if api.id is None:
                continue
            local = api.id
            found = self.backend.apis.find_identical(api)
            if found is None:
                found = self.backend.apis.create_api(api.model_copy(update={"id": None}))
            assert found.id is not None  # read from or written to the library
            mapping[local] = found.id
        return mapping

    def duplicate_selection(self) -> list[int]:
        uids = self.doc.selected_nodes
        if not uids:
            return []
        graph = self.doc.to_graph(uids)
        fragment = clipboard.Fragment.from_graph(graph)
        xs = [n.position_x for n in graph.nodes]
        ys = [n.position_y for n in graph.nodes]
        nodes, conns = clipboard.fragment_states(
            self.doc, fragment, {}, (min(xs) + 2 * GRID, min(ys) + 2 * GRID + NODE_HEIGHT)
        )
        self.doc.undo_stack.push(AddGraphCommand(self.doc, nodes, conns, text="Duplicate"))
        new = [n.uid for n in nodes]
        self.doc.set_selection(new, [])
        return new

    def lay_out_if_stacked(self) -> bool:
        """A graph whose nodes lie on top of each other (a file without positions puts them all at
        0,0) is laid out at once, as one undo step; returns whether it was."""
        seen: set[tuple[float, float]] = set()
        for node in self.doc.nodes():
            if (node.x, node.y) in seen:
                self.auto_layout("Auto-layout (nodes were stacked)")
                # after the window has connected to this tab's messages
                QTimer.singleShot(0, lambda: self.status_message.emit(STACKED_MESSAGE))
                return True
            seen.add((node.x, node.y))
        return False

    def auto_layout(self, text: str = "Auto-layout") -> None:
        """Lay the whole graph out left to right, one undo step."""
        nodes = self.doc.nodes()
        if not nodes:
            return
        edges = [
            LayoutEdge(
                c.source,
                c.target,
                self.doc.descriptor(self.doc.node(c.source).node_type).port_index(c.connection_type),
            )
            for c in self.doc.connections()
        ]
        left = min(n.x for n in nodes)
        top = min(n.y for n in nodes)
        positions = layered_layout([n.uid for n in nodes], edges, origin=(left, top))
        moves = {}
        for n in nodes:
            new = positions[n.uid]
            if (n.x, n.y) != new:
                moves[n.uid] = ((n.x, n.y), new)
        if moves:
            self.doc.undo_stack.push(MoveNodesCommand(self.doc, moves, text))
        self.fit_to_view()

    def rename_node(self, uid: int, new_name: str, *, ask: bool = True) -> bool:
        """Rename with one undo step; offers to update `{{old.x}}` references when there are any."""
        node = self.doc.node(uid)
        if new_name == node.name:
            return True
        try:
            self.doc.check_name(new_name, uid)
        except FlowdeskError as err:
            self.status_message.emit(str(err))
            return False
        users = referencing_nodes(self.doc, node.name)
        update = False
        if users and ask:
            shown = ", ".join(users[:6]) + (" …" if len(users) > 6 else "")
            answer = QMessageBox.question(
                self,
                "Update references?",
                f"{len(users)} place{'s' if len(users) > 1 else ''} refer to '{node.name}' ({shown}).\n"
                f"Rewrite them to '{new_name}'?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            update = answer == QMessageBox.StandardButton.Yes
        self.doc.undo_stack.push(RenameNodeCommand(self.doc, uid, new_name, update_references=update))
        return True

    def set_connection_type(self, uid: int, ctype: ConnectionType, condition: str | None = None) -> bool:
        try:
            self.doc.check_connect(
                self.doc.connection(uid).source, self.doc.connection(uid).target, ctype, ignore=uid
            )
        except FlowdeskError as err:
            self.status_message.emit(f"Cannot change the type: {err}")
            return False
        if ctype != ConnectionType.CONDITIONAL:
            condition = None
        self.doc.undo_stack.push(SetConnectionTypeCommand(self.doc, uid, ctype, condition))
        return True

    # ------------------------------------------------------------ saving
    def save(self) -> None:
        """Write the document to the database in one transaction, then mark it clean."""
        graph = self.doc.to_graph()
        if graph.workflow.id is None:  # a new workflow not stored yet (from a template): created now
            saved = self.backend.workflows.create_from_graph(graph)
        else:
            saved = self.backend.workflows.save_graph(graph)
        self.doc.adopt_saved(saved)
        self.doc.undo_stack.setClean()
        self.title_changed.emit()
        self.status_message.emit(f"Saved '{self.doc.workflow.name}'")

    def reload(self) -> None:
        """Replace the document by the database's copy (after a version restore)."""
        self.doc.load_graph(self.backend.workflows.load_graph(self.stored_id))
        self.validation.run()
        self.title_changed.emit()

    # ------------------------------------------------------------ problems
    def _show_problems(self, _problems) -> None:
        self.scene.set_problems(self.validation.node_problems, self.validation.connection_problems)

    # ------------------------------------------------------------ context menus
    def _context_menu(self, kind: str, uid: int, scene_pos: QPointF, screen_pos) -> None:
        menu = self.build_context_menu(kind, uid, scene_pos)
        if menu is not None:
            menu.exec(screen_pos)

    def build_context_menu(self, kind: str, uid: int, scene_pos: QPointF) -> QMenu | None:
        menu = QMenu(self)
        if kind == "connection":
            conn = self.doc.connection(uid)
            source_type = self.doc.node(conn.source).node_type
            for ctype in allowed_connection_types(self.doc.descriptor(source_type)):
                action = menu.addAction(_type_label(ctype))
                action.setCheckable(True)
                action.setChecked(ctype == conn.connection_type)
                action.setObjectName(f"connectionType_{ctype.value}")
                action.triggered.connect(lambda _=False, t=ctype: self._choose_connection_type(uid, t))
            menu.addSeparator()
            delete = menu.addAction("Delete connection")
            delete.triggered.connect(
                lambda: self.doc.undo_stack.push(
                    RemoveItemsCommand(self.doc, [], [uid], text="Delete connection")
                )
            )
        elif kind == "node":
            menu.addAction("Rename…").triggered.connect(lambda: self._ask_rename(uid))
            menu.addAction("Duplicate").triggered.connect(self.duplicate_selection)
            menu.addAction("Copy").triggered.connect(self.copy_selection)
            menu.addSeparator()
            menu.addAction("Delete").triggered.connect(self.delete_selection)
        else:
            add = menu.addMenu("Add node")
            for node_type in self.node_types():
                add.addAction(node_type).triggered.connect(
                    lambda _=False, t=node_type: self.add_node_at(t, scene_pos)
                )
            menu.addAction("Paste").triggered.connect(lambda: self.paste(at=scene_pos))
            menu.addSeparator()
            menu.addAction("Auto-layout").triggered.connect(lambda _checked=False: self.auto_layout())
            menu.addAction("Fit to view").triggered.connect(self.fit_to_view)
        return menu

    def _choose_connection_type(self, uid: int, ctype: ConnectionType) -> None:
        condition = None
        if ctype == ConnectionType.CONDITIONAL:
            current = self.doc.connection(uid).condition or ""
            text, ok = QInputDialog.getText(
                self, "Conditional connection", "Follow this connection when:", text=current
            )
            if not ok:
                return
            condition = text
        self.set_connection_type(uid, ctype, condition)

    def _ask_rename(self, uid: int) -> None:
        name, ok = QInputDialog.getText(self, "Rename node", "Name:", text=self.doc.node(uid).name)
        if ok:
            self.rename_node(uid, name)


def _type_label(ctype: ConnectionType) -> str:
    return {
        ConnectionType.SEQUENCE: "Sequence (on success)",
        ConnectionType.CONDITIONAL: "Conditional (own condition)…",
        ConnectionType.CONDITIONAL_TRUE: "True branch",
        ConnectionType.CONDITIONAL_FALSE: "False branch",
        ConnectionType.PARALLEL: "Parallel branch",
        ConnectionType.LOOP: "Loop body",
        ConnectionType.ERROR: "On error",
    }[ctype]
