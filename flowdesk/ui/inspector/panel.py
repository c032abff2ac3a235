"""InspectorPanel: the node, connection or workflow under edit, as forms that push undo commands.

It follows the current tab's document; refreshes are coalesced (a zero-length timer), so deleting
500 selected nodes costs one refresh, not 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, SignalInstance
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import ConnectionType, WorkflowStatus
from flowdesk.domain.errors import FlowdeskError
from flowdesk.ui.widgets import set_number

from ..commands import EditNodeCommand, SetWorkflowPropertiesCommand
from ..document import allowed_connection_types
from ..style.theme import ERROR_MARK
from .expression_field import ExpressionField
from .json_editor import RawJsonEditor
from .node_forms import TypeForm, form_for

if TYPE_CHECKING:
    from ..editor_tab import EditorTab


class _PlainTextCommit(QPlainTextEdit):
    """A multi-line text field that reports when focus leaves it."""

    def __init__(self, on_commit, parent=None) -> None:
        super().__init__(parent)
        self._on_commit = on_commit
        self.setTabChangesFocus(True)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self._on_commit(self.toPlainText())

    def set_text(self, text: str) -> None:
        if self.toPlainText() != text:
            self.blockSignals(True)
            self.setPlainText(text)
            self.blockSignals(False)


class NodePage(QWidget):
    """Name, description, the type's form and the raw JSON of one node."""

    def __init__(self, panel: InspectorPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.uid: int | None = None
        self.node_type: str | None = None
        self.header = QLabel(self)
        self.header.setObjectName("inspectorHeader")
        self.name = QLineEdit(self)
        self.name.setObjectName("nodeName")
        self.description = _PlainTextCommit(self._commit_description, self)
        self.description.setMaximumHeight(60)
        self.description.setPlaceholderText("What this step is for")
        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("Description", self.description)
        self.form_host = QVBoxLayout()
        # A custom type whose handler cannot be found: the sentence a run would refuse it with.
        self.handler_warning = QLabel(self)
        self.handler_warning.setObjectName("handlerWarning")
        self.handler_warning.setWordWrap(True)
        self.handler_warning.setStyleSheet(f"color: {ERROR_MARK.name()};")  # a run refuses it
        self.handler_warning.hide()
        self.form_host.addWidget(self.handler_warning)
        form_widget = QWidget(self)
        form_widget.setLayout(self.form_host)
        self.form: TypeForm | None = None
        self.json = RawJsonEditor(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(form_widget, "Settings")
        self.tabs.addTab(self.json, "JSON")
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.name.editingFinished.connect(self._commit_name)
        self.json.applied.connect(lambda cfg: self._commit_config(cfg, replace=True))

    def show_node(self, uid: int) -> None:
        tab = self.panel.open_tab()
        node = tab.doc.node(uid)
        if node.node_type != self.node_type:
            if self.form is not None:
                self.form.setParent(None)
                self.form.deleteLater()
            self.form = form_for(tab.doc.descriptor(node.node_type), tab.backend.apis.list_apis)
            if self.form is not None:
                self.form_host.addWidget(self.form)
                self.form.edited.connect(self._commit_config)
            self.node_type = node.node_type
        self.uid = uid
        self.header.setText(f"<b>{node.node_type}</b> node")
        cannot_run = tab.doc.descriptor(node.node_type).cannot_run
        self.handler_warning.setText(f"⚠ {cannot_run}" if cannot_run else "")
        self.handler_warning.setVisible(bool(cannot_run))
        if self.name.text() != node.name:
            self.name.setText(node.name)
        self.description.set_text(node.description)
        if self.form is not None:
            refresh = getattr(self.form, "refresh_apis", None)
            if refresh is not None and self.uid != getattr(self, "_shown_uid", None):
                refresh()  # the library may have grown since the form was made
            self.form.load(node.config)
        self._shown_uid = uid
        self.json.load(node.config)
        if self.form is None:
            self.tabs.setCurrentWidget(self.json)

    def _commit_name(self) -> None:
        tab = self.panel.tab
        if self.uid is None or tab is None or not tab.doc.has_node(self.uid):
            return
        if not tab.rename_node(self.uid, self.name.text().strip() if self.name.text().strip() else ""):
            self.name.setText(tab.doc.node(self.uid).name)

    def _commit_description(self, text: str) -> None:
        tab = self.panel.tab
        if self.uid is None or tab is None or not tab.doc.has_node(self.uid):
            return
        if tab.doc.node(self.uid).description != text:
            tab.doc.undo_stack.push(
                EditNodeCommand(tab.doc, self.uid, description=text, text="Edit description")
            )

    def _commit_config(self, change: dict[str, Any], replace: bool = False) -> None:
        tab = self.panel.tab
        if self.uid is None or tab is None or not tab.doc.has_node(self.uid):
            return
        node = tab.doc.node(self.uid)
        if replace:
            config = dict(change)
        else:
            config = dict(node.config)
            for key, value in change.items():
                if value is None:
                    config.pop(key, None)
                else:
                    config[key] = value
        if config != node.config:
            tab.doc.undo_stack.push(EditNodeCommand(tab.doc, self.uid, config=config, text="Edit settings"))


class ConnectionPage(QWidget):
    """The type (and a CONDITIONAL's condition) of one connection."""

    def __init__(self, panel: InspectorPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.uid: int | None = None
        self.ends = QLabel(self)
        self.ends.setObjectName("inspectorHeader")
        self.ends.setWordWrap(True)
        self.type = QComboBox(self)
        self.type.setObjectName("connectionType")
        self.condition = ExpressionField("{{response.status}} == 200", parent=self)
        layout = QFormLayout()
        layout.addRow(self.ends)
        layout.addRow("Type", self.type)
        layout.addRow("Condition", self.condition)
        outer = QVBoxLayout(self)
        outer.addLayout(layout)
        outer.addStretch(1)
        self.type.activated.connect(self._commit)
        self.condition.committed.connect(lambda _t: self._commit())

    def show_connection(self, uid: int) -> None:
        doc = self.panel.open_tab().doc
        conn = doc.connection(uid)
        self.uid = uid
        source, target = doc.node(conn.source), doc.node(conn.target)
        self.ends.setText(f"<b>{source.name}</b> → <b>{target.name}</b>")
        self.type.blockSignals(True)
        self.type.clear()
        for ctype in allowed_connection_types(doc.descriptor(source.node_type)):
            self.type.addItem(ctype.value, ctype)
        self.type.setCurrentIndex(max(self.type.findData(conn.connection_type), 0))
        self.type.blockSignals(False)
        self.condition.set_text(conn.condition or "")
        self.condition.setEnabled(conn.connection_type == ConnectionType.CONDITIONAL)

    def _commit(self, *_args) -> None:
        tab = self.panel.tab
        if self.uid is None or tab is None or not tab.doc.has_connection(self.uid):
            return
        ctype = self.type.currentData()
        condition = self.condition.text() if ctype == ConnectionType.CONDITIONAL else None
        conn = tab.doc.connection(self.uid)
        if (conn.connection_type, conn.condition) != (ctype, condition):
            if not tab.set_connection_type(self.uid, ctype, condition):
                self.show_connection(self.uid)
        self.condition.setEnabled(ctype == ConnectionType.CONDITIONAL)


class WorkflowPage(QWidget):
    """The workflow's own properties."""

    def __init__(self, panel: InspectorPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        header = QLabel("<b>Workflow</b>", self)
        header.setObjectName("inspectorHeader")
        self.name = QLineEdit(self)
        self.name.setObjectName("workflowName")
        self.description = _PlainTextCommit(lambda t: self._commit("description", t), self)
        self.description.setMaximumHeight(70)
        self.version = QLineEdit(self)
        self.tags = QLineEdit(self)
        self.tags.setPlaceholderText("comma, separated")
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0, 7 * 86400)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("none")
        self.retry_count = QSpinBox(self)
        self.retry_count.setRange(0, 100)
        self.status = QComboBox(self)
        self.status.addItem("draft", WorkflowStatus.DRAFT)
        self.status.addItem("active", WorkflowStatus.ACTIVE)
        hint = QLabel("Select a node or connection to edit it.", self)
        hint.setObjectName("hint")
        layout = QFormLayout()
        outer = QVBoxLayout(self)
        outer.addLayout(layout)
        outer.addStretch(1)
        layout.addRow(header)
        layout.addRow("Name", self.name)
        layout.addRow("Description", self.description)
        layout.addRow("Version", self.version)
        layout.addRow("Tags", self.tags)
        layout.addRow("Timeout", self.timeout)
        layout.addRow("Retries", self.retry_count)
        layout.addRow("Status", self.status)
        layout.addRow(hint)
        self.name.editingFinished.connect(lambda: self._commit("name", self.name.text().strip()))
        self.version.editingFinished.connect(lambda: self._commit("version", self.version.text().strip()))
        self.tags.editingFinished.connect(
            lambda: self._commit("tags", [t.strip() for t in self.tags.text().split(",") if t.strip()])
        )
        self.timeout.editingFinished.connect(lambda: self._commit_config("timeout", self.timeout.value()))
        self.retry_count.editingFinished.connect(
            lambda: self._commit_config("retry_count", self.retry_count.value())
        )
        self.status.activated.connect(
            lambda _i: self._commit("is_active", self.status.currentData() == WorkflowStatus.ACTIVE)
        )

    def show_workflow(self) -> None:
        w = self.panel.open_tab().doc.workflow
        if self.name.text() != w.name:
            self.name.setText(w.name)
        self.description.set_text(w.description)
        if self.version.text() != w.version:
            self.version.setText(w.version)
        tags = ", ".join(w.tags)
        if self.tags.text() != tags:
            self.tags.setText(tags)
        for spin, key in ((self.timeout, "timeout"), (self.retry_count, "retry_count")):
            value = w.config.get(key, 0)
            spin.blockSignals(True)
            set_number(spin, value)
            spin.blockSignals(False)
        self.status.setCurrentIndex(1 if w.is_active else 0)

    def _commit(self, key: str, value: Any) -> None:
        tab = self.panel.tab
        if tab is None:
            return
        if tab.doc.workflow_properties()[key] == value:
            return
        if key == "name" and not value:
            self.show_workflow()
            tab.status_message.emit("A workflow needs a name.")
            return
        try:
            tab.doc.undo_stack.push(SetWorkflowPropertiesCommand(tab.doc, f"Change {key}", **{key: value}))
        except FlowdeskError as err:
            tab.status_message.emit(str(err))
            self.show_workflow()

    def _commit_config(self, key: str, value: float) -> None:
        tab = self.panel.tab
        if tab is None:
            return
        config = dict(tab.doc.workflow.config)
        value = int(value) if float(value).is_integer() else value
        if config.get(key, 0) == value and (key in config or value == 0):
            return
        config[key] = value
        self._commit("config", config)


class InspectorPanel(QWidget):
    """Shows the page for the current selection of the current tab."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.tab: EditorTab | None = None
        self.stack = QStackedWidget(self)
        self.empty = QLabel("Open a workflow to inspect it.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.many = QLabel(self)
        self.many.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.node_page = NodePage(self)
        self.connection_page = ConnectionPage(self)
        self.workflow_page = WorkflowPage(self)
        for page in (self.empty, self.many, self.node_page, self.connection_page, self.workflow_page):
            self.stack.addWidget(page)
        self.scroll_area = scroll = QScrollArea(self)
        scroll.setObjectName("inspectorScroll")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.stack)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self._connected: list[tuple[SignalInstance, Callable[[], None]]] = []

    def open_tab(self) -> EditorTab:
        """The tab being inspected: the node, connection and workflow pages show only while there is one."""
        assert self.tab is not None
        return self.tab

    def set_tab(self, tab: EditorTab | None) -> None:
        for signal, slot in self._connected:
            signal.disconnect(slot)
        self._connected = []
        self.tab = tab
        if tab is not None:
            doc = tab.doc
            for signal in (
                doc.selection_changed,
                doc.node_changed,
                doc.node_renamed,
                doc.connection_changed,
                doc.workflow_changed,
                doc.reset,
                doc.node_removed,
                doc.connection_removed,
            ):
                signal.connect(self._timer.start)
                self._connected.append((signal, self._timer.start))
        self.refresh()

    def refresh(self) -> None:
        self._timer.stop()
        tab = self.tab
        if tab is None:
            self.stack.setCurrentWidget(self.empty)
            return
        nodes, conns = tab.doc.selected_nodes, tab.doc.selected_connections
        if len(nodes) == 1 and not conns:
            self.node_page.show_node(next(iter(nodes)))
            self.stack.setCurrentWidget(self.node_page)
        elif len(conns) == 1 and not nodes:
            self.connection_page.show_connection(next(iter(conns)))
            self.stack.setCurrentWidget(self.connection_page)
        elif nodes or conns:
            self.many.setText(f"{len(nodes)} nodes and {len(conns)} connections selected")
            self.stack.setCurrentWidget(self.many)
        else:
            self.workflow_page.show_workflow()
            self.stack.setCurrentWidget(self.workflow_page)
