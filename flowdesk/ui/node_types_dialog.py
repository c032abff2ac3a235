"""NodeTypesDialog (File > Node types…): the custom node types registered in the database.

The list on the left; on the right the form of the selected type (name, description, config schema as
JSON, execution handler). New clears the form for a new type; Save registers or updates it (the name
of a stored type is fixed: a type of another name is a new type); Delete removes one no node uses.
Every refusal is one sentence under the form. A type whose handler cannot be found is saved and the
sentence that would refuse its nodes at run time is shown. `changed` is emitted after every stored
change, so the window redraws its palette and revalidates its tabs.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.errors import FlowdeskError
from flowdesk.services.node_types import NodeTypeDefinition, NodeTypeService

EMPTY_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}'


class NodeTypesDialog(QDialog):
    """List, add, edit and delete custom node types."""

    changed = Signal()

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nodeTypesDialog")
        self.setWindowTitle("Node types")
        self.resize(860, 520)
        self.service = NodeTypeService(backend.db)
        self.backend = backend

        self.list = QListWidget(self)
        self.list.setObjectName("nodeTypeList")
        self.list.currentItemChanged.connect(lambda item, _old: self._show(item))

        self.name = QLineEdit(self)
        self.name.setObjectName("nodeTypeName")
        self.name.setPlaceholderText("e.g. CREATE_TICKET")
        self.description = QLineEdit(self)
        self.description.setObjectName("nodeTypeDescription")
        self.schema = QPlainTextEdit(self)
        self.schema.setObjectName("nodeTypeSchema")
        self.schema.setTabChangesFocus(True)
        self.schema.setPlaceholderText(
            '{"processor_type": "string", "parameters": "object"} or a JSON Schema'
        )
        self.handler = QLineEdit(self)
        self.handler.setObjectName("nodeTypeHandler")
        self.handler.setPlaceholderText("api:NAME, workflow:NAME, package.module:function, or a handler name")
        self.message = QLabel(self)
        self.message.setObjectName("nodeTypeMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Description", self.description)
        form.addRow("Config &schema (JSON)", self.schema)
        form.addRow("&Handler", self.handler)

        self.new_button = QPushButton("&New", self)
        self.new_button.setObjectName("nodeTypeNew")
        self.new_button.clicked.connect(self.start_new)
        self.save_button = QPushButton("&Save", self)
        self.save_button.setObjectName("nodeTypeSave")
        self.save_button.clicked.connect(self.save)
        self.delete_button = QPushButton("De&lete", self)
        self.delete_button.setObjectName("nodeTypeDelete")
        self.delete_button.clicked.connect(self.delete)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        right = QVBoxLayout()
        right.addLayout(form, 1)
        right.addWidget(self.message)
        right.addLayout(buttons)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(right, 3)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(body, 1)
        outer.addWidget(close)

        self.refresh()
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.start_new()

    # -- list ---------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Read the registered types again (and select `select` when given)."""
        self.list.blockSignals(True)
        self.list.clear()
        for definition in self.service.list_node_types():
            item = QListWidgetItem(definition.type_name, self.list)
            item.setData(Qt.ItemDataRole.UserRole, definition)
            item.setToolTip(definition.description)
        self.list.blockSignals(False)
        if select is not None:
            found = self.list.findItems(select, Qt.MatchFlag.MatchExactly)
            if found:
                self.list.setCurrentItem(found[0])

    def type_names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        definition: NodeTypeDefinition = item.data(Qt.ItemDataRole.UserRole)
        self.name.setText(definition.type_name)
        self.name.setReadOnly(True)
        self.description.setText(definition.description)
        schema = definition.config_schema
        self.schema.setPlainText(json.dumps(schema, indent=2, ensure_ascii=False) if schema else EMPTY_SCHEMA)
        self.handler.setText(definition.execution_handler or "")
        self.delete_button.setEnabled(True)
        self._say(self._run_problem(definition.type_name) or "")

    def start_new(self) -> None:
        """An empty form for a new type."""
        self.list.blockSignals(True)
        self.list.setCurrentRow(-1)
        self.list.clearSelection()
        self.list.blockSignals(False)
        self.name.setReadOnly(False)
        for field in (self.name, self.description, self.handler):
            field.clear()
        self.schema.setPlainText(EMPTY_SCHEMA)
        self.delete_button.setEnabled(False)
        self._say("")
        self.name.setFocus()

    # -- changes ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Register the form's type (or update it); False, with the reason shown, when refused."""
        text = self.schema.toPlainText().strip()
        try:
            schema = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            self._say(
                f"The config schema is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
            )
            return False
        if not isinstance(schema, dict):
            self._say("The config schema must be a JSON object: field names to types, or a JSON Schema.")
            return False
        try:
            stored = self.service.register_node_type(
                self.name.text(), self.description.text(), schema, self.handler.text() or None
            )
        except FlowdeskError as err:
            self._say(str(err))
            return False
        self.refresh(select=stored.type_name)
        problem = self._run_problem(stored.type_name)
        self._say(f"Saved '{stored.type_name}'." + (f" It cannot run yet: {problem}." if problem else ""))
        self.changed.emit()
        return True

    def delete(self) -> bool:
        """Remove the selected type; False, with the reason shown, when refused (nodes use it)."""
        item = self.list.currentItem()
        if item is None:
            return False
        name = item.text()
        try:
            self.service.delete_node_type(name)
        except FlowdeskError as err:
            self._say(str(err))
            return False
        self.refresh()
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.start_new()
        self._say(f"Deleted '{name}'.")
        self.changed.emit()
        return True

    def _run_problem(self, type_name: str) -> str | None:
        """Why nodes of `type_name` would be refused at run time (its handler cannot be found)."""
        from flowdesk.engine.custom_types import checked_descriptors

        with self.backend.db.session(read_only=True) as session:
            descriptor = checked_descriptors(session).get(type_name)
        return descriptor.cannot_run if descriptor is not None else None

    def _say(self, text: str) -> None:
        self.message.setText(text)
