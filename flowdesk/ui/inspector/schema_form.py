"""SchemaForm: the inspector's form for a node type built from its descriptor's config schema.

Used for every type without a hand-made form (custom types, and built-ins whose descriptor says
`form=None`). One row per schema property, in the schema's order: an expression field for
`x-expression`, a checkbox for booleans, a drop-down for enums, a spin box for numbers (a text field
when `x-template` lets them hold a `{{template}}`), a template field for text, and a JSON field for
objects, lists and untyped values. Required fields' labels are bold; the description is the tooltip.
"""

from __future__ import annotations

import json
import math
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.node_config import declared_types
from flowdesk.domain.node_descriptors import NodeTypeDescriptor
from flowdesk.ui.widgets import set_number

from .expression_field import ExpressionField
from .node_forms import TypeForm

_SPIN_LIMIT = 2**31 - 1


class _JsonField(QWidget):
    """A line of JSON text; a text that does not parse is kept back with one sentence saying why."""

    def __init__(self, key: str, form: SchemaForm) -> None:
        super().__init__(form)
        self.key = key
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText('JSON, e.g. {"a": 1} or [1, 2]')
        self.error = QLabel(self)
        self.error.setObjectName("schemaFieldError")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.edit.editingFinished.connect(lambda: form.commit_json(self))

    def set_value(self, value: Any) -> None:
        text = "" if value is None else json.dumps(value, ensure_ascii=False)
        if self.edit.text() != text:
            self.edit.blockSignals(True)
            self.edit.setText(text)
            self.edit.blockSignals(False)
        self.error.setText("")


class SchemaForm(TypeForm):
    """A form with one row per field of the descriptor's config schema."""

    def __init__(self, descriptor: NodeTypeDescriptor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.descriptor = descriptor
        self.fields: dict[str, QWidget] = {}
        layout = self.form_layout()
        schema = descriptor.config_schema
        required = set(descriptor.required_keys)
        for key, field in (schema.get("properties") or {}).items():
            widget = self._widget_for(str(key), field if isinstance(field, dict) else {})
            widget.setObjectName(f"field_{key}")
            label = QLabel(f"<b>{key}</b>" if key in required else str(key), self)
            if isinstance(field, dict) and field.get("description"):
                widget.setToolTip(f"{key}: {field['description']}")
                label.setToolTip(widget.toolTip())
            layout.addRow(label, widget)
            self.fields[str(key)] = widget

    def _widget_for(self, key: str, field: dict[str, Any]) -> QWidget:
        types = [t for t in declared_types(field) if t != "null"]
        if field.get("x-expression"):
            expression = ExpressionField("expression, e.g. {{input.n}} > 0", parent=self)
            expression.committed.connect(lambda text, k=key: self.edited.emit({k: text or None}))
            return expression
        if isinstance(field.get("enum"), list):
            combo = QComboBox(self)
            combo.addItem("", None)
            for choice in field["enum"]:
                combo.addItem(str(choice), choice)
            combo.activated.connect(lambda _i, k=key, c=combo: self.edited.emit({k: c.currentData()}))
            return combo
        if types == ["boolean"]:
            box = QCheckBox(str(field.get("description") or "yes"), self)
            box.toggled.connect(lambda on, k=key: self.edited.emit({k: on}))
            return box
        if types in (["integer"], ["number"]) and not field.get("x-template"):
            spin: QSpinBox | QDoubleSpinBox = QSpinBox(self) if types == ["integer"] else QDoubleSpinBox(self)
            low, high = field.get("minimum", -_SPIN_LIMIT), field.get("maximum", _SPIN_LIMIT)
            spin.setRange(max(low, -_SPIN_LIMIT), min(high, _SPIN_LIMIT))
            spin.editingFinished.connect(lambda k=key, s=spin: self._commit_number(k, s.value()))
            return spin
        if types and set(types) <= {"string", "integer", "number", "boolean"}:
            text = ExpressionField("text or {{template}}", template=True, parent=self)
            text.committed.connect(lambda t, k=key, f=field: self._commit_text(k, t, f))
            return text
        return _JsonField(key, self)

    # -- widget -> config ------------------------------------------------------------------

    def _commit_number(self, key: str, value: float) -> None:
        self.edited.emit({key: int(value) if float(value).is_integer() else value})

    def _commit_text(self, key: str, text: str, field: dict[str, Any]) -> None:
        """Text as typed; for a number or boolean field a plain number or true/false is stored as one."""
        types = declared_types(field)
        value: Any = text
        stripped = text.strip()
        if "string" not in types and "{{" not in stripped:
            try:
                parsed = json.loads(stripped)
            except ValueError:
                parsed = text
            if isinstance(parsed, bool | int | float) and not (
                isinstance(parsed, float) and not math.isfinite(parsed)
            ):
                value = parsed
        self.edited.emit({key: value if stripped else None})

    def commit_json(self, field: _JsonField) -> None:
        text = field.edit.text().strip()
        if not text:
            field.error.setText("")
            self.edited.emit({field.key: None})
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            field.error.setText(f"✗ {field.key} is not JSON: {exc.msg} at column {exc.colno}.")
            return
        field.error.setText("")
        self.edited.emit({field.key: value})

    # -- config -> widgets -----------------------------------------------------------------

    def load(self, config: dict[str, Any]) -> None:
        for key, widget in self.fields.items():
            value = config.get(key)
            widget.blockSignals(True)
            try:
                if isinstance(widget, ExpressionField):
                    widget.set_text(_as_text(value))
                elif isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(widget.findData(value), 0) if value is not None else 0)
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                    set_number(widget, value)
                elif isinstance(widget, _JsonField):
                    widget.set_value(value)
            finally:
                widget.blockSignals(False)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
