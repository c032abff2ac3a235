"""Config forms, one per node type. Each form shows the keys it knows and reports edits as a
partial config ({key: value}, None meaning "remove the key"); the inspector turns that into one
EditNodeCommand. Keys a form does not know stay untouched (the raw JSON view shows them all)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import ApiDefinition, ApiParameter
from flowdesk.domain.node_config import field_schema
from flowdesk.domain.node_descriptors import NodeTypeDescriptor

from .cache_section import CacheEditor
from .expression_field import ExpressionField
from .request_sections import (
    AuthEditor,
    BodyEditor,
    FoldingSection,
    KeyValueEditor,
    RetryEditor,
    plain_number,
)

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class TypeForm(QWidget):
    """Base of the per-type forms."""

    edited = Signal(dict)  # partial config

    def form_layout(self) -> QFormLayout:
        """A form layout that keeps its rows at the top."""
        form = QFormLayout()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 4, 0, 0)
        outer.addLayout(form)
        outer.addStretch(1)
        return form

    def load(self, config: dict[str, Any]) -> None:
        raise NotImplementedError


def _fit_to_schema(widget: QWidget, node_type: NodeType, key: str) -> None:
    """Range and tooltip of a field's widget, from the node type's config schema (the one validation
    checks), so the form never offers a value validation refuses."""
    schema = field_schema(node_type, key)
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.setRange(schema.get("minimum", 0), schema.get("maximum", 2**31 - 1))
    if schema.get("description"):
        widget.setToolTip(f"{key}: {schema['description']}")


def _set_spin(spin, value) -> None:
    spin.blockSignals(True)
    spin.setValue(value)
    spin.blockSignals(False)


def _set_check(box: QCheckBox, value: bool) -> None:
    box.blockSignals(True)
    box.setChecked(bool(value))
    box.blockSignals(False)


def _set_line(edit: QLineEdit, text: str) -> None:
    if edit.text() != text:
        edit.blockSignals(True)
        edit.setText(text)
        edit.blockSignals(False)


class ConditionForm(TypeForm):
    """CONDITION: the expression, checked as you type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.condition = ExpressionField("{{input.score}} >= 60", parent=self)
        layout = self.form_layout()
        layout.addRow("Condition", self.condition)
        self.condition.committed.connect(lambda text: self.edited.emit({"condition": text}))

    def load(self, config: dict[str, Any]) -> None:
        self.condition.set_text(str(config.get("condition", "") or ""))


class DelayForm(TypeForm):
    """DELAY: seconds to wait."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds = QDoubleSpinBox(self)
        _fit_to_schema(self.seconds, NodeType.DELAY, "seconds")
        self.seconds.setDecimals(2)
        self.seconds.setSuffix(" s")
        layout = self.form_layout()
        layout.addRow("Wait", self.seconds)
        self.seconds.editingFinished.connect(
            lambda: self.edited.emit({"seconds": plain_number(self.seconds.value())})
        )

    def load(self, config: dict[str, Any]) -> None:
        value = config.get("seconds", 0)
        _set_spin(self.seconds, float(value) if isinstance(value, int | float) else 0.0)


class ParallelForm(TypeForm):
    """PARALLEL: how many branches at once, and whether to wait for all of them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_concurrent = QSpinBox(self)
        _fit_to_schema(self.max_concurrent, NodeType.PARALLEL, "max_concurrent")
        self.max_concurrent.setSpecialValueText("unlimited")
        self.wait_for_all = QCheckBox("Wait for every branch", self)
        _fit_to_schema(self.wait_for_all, NodeType.PARALLEL, "wait_for_all")
        layout = self.form_layout()
        layout.addRow("At most at once", self.max_concurrent)
        layout.addRow("", self.wait_for_all)
        self.max_concurrent.editingFinished.connect(
            lambda: self.edited.emit({"max_concurrent": self.max_concurrent.value()})
        )
        self.wait_for_all.toggled.connect(lambda on: self.edited.emit({"wait_for_all": on}))

    def load(self, config: dict[str, Any]) -> None:
        value = config.get("max_concurrent", 0)
        _set_spin(self.max_concurrent, int(value) if isinstance(value, int) else 0)
        _set_check(self.wait_for_all, config.get("wait_for_all", True))


class LoopForm(TypeForm):
    """LOOP: condition and/or items, max_iterations, concurrency, batch_size, break_on_error."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.condition = ExpressionField("{{loop.index}} < 10 (optional)", parent=self)
        self.items = ExpressionField("{{input.users}} (optional)", template=True, parent=self)
        self.max_iterations = QSpinBox(self)
        _fit_to_schema(self.max_iterations, NodeType.LOOP, "max_iterations")
        self.break_on_error = QCheckBox("Stop the loop when an iteration fails", self)
        _fit_to_schema(self.break_on_error, NodeType.LOOP, "break_on_error")
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("loopConcurrency")
        _fit_to_schema(self.concurrency, NodeType.LOOP, "concurrency")
        self.batch_size = QSpinBox(self)
        self.batch_size.setObjectName("loopBatchSize")
        _fit_to_schema(self.batch_size, NodeType.LOOP, "batch_size")
        self.batch_size.setMinimum(0)  # 0: no batches (each iteration gets one item)
        self.batch_size.setSpecialValueText("off")
        layout = self.form_layout()
        layout.addRow("While", self.condition)
        layout.addRow("For each of", self.items)
        layout.addRow("Max iterations", self.max_iterations)
        layout.addRow("At once", self.concurrency)
        layout.addRow("Batch size", self.batch_size)
        layout.addRow("", self.break_on_error)
        self.concurrency.editingFinished.connect(
            lambda: self.edited.emit({"concurrency": self.concurrency.value()})
        )
        self.batch_size.editingFinished.connect(
            lambda: self.edited.emit({"batch_size": self.batch_size.value() or None})
        )
        self.condition.committed.connect(lambda t: self.edited.emit({"condition": t or None}))
        self.items.committed.connect(lambda t: self.edited.emit({"items": t}))
        self.max_iterations.editingFinished.connect(
            lambda: self.edited.emit({"max_iterations": self.max_iterations.value()})
        )
        self.break_on_error.toggled.connect(lambda on: self.edited.emit({"break_on_error": on}))

    def load(self, config: dict[str, Any]) -> None:
        self.condition.set_text(str(config.get("condition") or ""))
        items = config.get("items")
        self.items.set_text(items if isinstance(items, str) else "")
        default = field_schema(NodeType.LOOP, "max_iterations")["default"]
        value = config.get("max_iterations", default)
        _set_spin(self.max_iterations, int(value) if isinstance(value, int) else default)
        _set_check(self.break_on_error, config.get("break_on_error", True))
        concurrency = config.get("concurrency", 1)
        _set_spin(self.concurrency, concurrency if isinstance(concurrency, int) else 1)
        batch_size = config.get("batch_size")
        _set_spin(self.batch_size, batch_size if isinstance(batch_size, int) else 0)


class ApiCallForm(TypeForm):
    """API_CALL: an API from the library (or an inline method and URL) and its parameters.

    The parameters the chosen API declares show where they go, a bold name when required and their
    description as a tooltip; `params_hint` names the required ones left without a value."""

    INLINE = -1
    NAME, WHERE, VALUE = 0, 1, 2

    def __init__(self, list_apis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._list_apis = list_apis
        self._apis: dict[int, ApiDefinition] = {}
        self._declared: dict[str, ApiParameter] = {}  # the chosen API's parameters, by name
        self.api = QComboBox(self)
        self.api.setObjectName("apiChooser")
        # long "name — METHOD url" entries must not widen the inspector
        self.api.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.api.setMinimumContentsLength(12)
        self.method = QComboBox(self)
        self.method.addItems(HTTP_METHODS)
        self.method.setEditable(False)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("https://api.example.com/users/{{input.user_id}}")
        inline = QHBoxLayout()
        inline.addWidget(self.method)
        inline.addWidget(self.url, 1)
        self.parameter_rows = KeyValueEditor(
            ["Parameter", "In", "Value (template)"],
            "parametersTable",
            self,
            new_name="param",
            add_text="Add parameter",
            heights=(110, 170),
            margins=(0, 0, 0, 0),
        )
        self.parameter_rows.describe = self._describe_row
        self.parameters = self.parameter_rows.table
        self.params_hint = QLabel(self)
        self.params_hint.setObjectName("parametersHint")
        self.params_hint.setStyleSheet("color: #d93025;")
        self.params_hint.setWordWrap(True)
        self.params_hint.hide()
        self.parameter_rows.box.insertWidget(1, self.params_hint)
        layout = self.form_layout()
        layout.addRow("API", self.api)
        layout.addRow("Request", inline)
        layout.addRow("Parameters", self.parameter_rows)
        # the rest of the request folds away, each section's title saying what is set
        self.headers = KeyValueEditor(["Header", "Value (template)"], "headersTable", self)
        self.query = KeyValueEditor(["Query parameter", "Value (template)"], "queryTable", self)
        self.body = BodyEditor(self)
        self.auth = AuthEditor(self)
        self.retries = RetryEditor(self)
        self.cache = CacheEditor(self)
        self.sections = {
            "headers": FoldingSection("Headers", self.headers, self),
            "query": FoldingSection("Query", self.query, self),
            "body": FoldingSection("Body", self.body, self),
            "auth": FoldingSection("Auth", self.auth, self),
            "retries": FoldingSection("Retries and timeout", self.retries, self),
            "cache": FoldingSection("Cache", self.cache, self),
        }
        for section in self.sections.values():
            layout.addRow(section)
        self.headers.edited.connect(lambda value: self.edited.emit({"headers": value}))
        self.query.edited.connect(lambda value: self.edited.emit({"query": value}))
        self.body.edited.connect(lambda value: self.edited.emit({"body": value}))
        self.auth.edited.connect(lambda value: self.edited.emit({"auth": value}))
        self.retries.edited.connect(self.edited.emit)
        self.cache.edited.connect(self.edited.emit)
        self.refresh_apis()
        self.api.activated.connect(self._api_chosen)
        self.method.activated.connect(lambda _i: self.edited.emit({"method": self.method.currentText()}))
        self.url.editingFinished.connect(lambda: self.edited.emit({"url": self.url.text()}))
        self.parameter_rows.edited.connect(lambda _value: self._parameters_edited())

    def refresh_apis(self) -> None:
        current = self.api.currentData()
        self.api.blockSignals(True)
        self.api.clear()
        self.api.addItem("Inline request (method and URL below)", self.INLINE)
        self._apis = {a.id: a for a in self._list_apis()}
        for api in self._apis.values():
            self.api.addItem(f"{api.name} — {api.method} {api.url}", api.id)
        if current is not None:
            index = self.api.findData(current)
            if index >= 0:
                self.api.setCurrentIndex(index)
        self.api.blockSignals(False)

    def load(self, config: dict[str, Any]) -> None:
        api_id = config.get("api_id")
        self.api.blockSignals(True)
        index = self.api.findData(api_id) if isinstance(api_id, int) else 0
        if index < 0 and isinstance(api_id, int):
            self.api.addItem(f"API #{api_id} (not in the library)", api_id)
            index = self.api.count() - 1
        self.api.setCurrentIndex(max(index, 0))
        self.api.blockSignals(False)
        inline = not isinstance(api_id, int)
        self.method.setEnabled(inline)
        self.url.setEnabled(inline)
        self.method.blockSignals(True)
        api = self._apis.get(api_id) if isinstance(api_id, int) else None
        # with a library API the fields show its request (read-only); inline they are the node's own
        method = (api.method if api else str(config.get("method", "GET"))).upper()
        if self.method.findText(method) < 0:
            self.method.addItem(method)
        self.method.setCurrentText(method)
        self.method.blockSignals(False)
        _set_line(self.url, api.url if api else str(config.get("url", "") or ""))
        self.url.setCursorPosition(0)
        self._declared = {p.name: p for p in api.parameters} if api else {}
        params = config.get("parameters") or {}
        if isinstance(params, dict):
            # the API's declared parameters first, in its order; the node's own after them
            order = {name: i for i, name in enumerate(self._declared)}
            params = dict(sorted(params.items(), key=lambda kv: order.get(str(kv[0]), len(order))))
        self.parameter_rows.load(params)
        self._check_required()
        self.headers.load(config.get("headers"))
        self.query.load(config.get("query"))
        self.body.load(config.get("body"))
        self.auth.load(config.get("auth"))
        self.retries.load(config)
        self.cache.load(config.get("cache"))
        self._summarise(api)

    def _summarise(self, api: ApiDefinition | None) -> None:
        """Each folded section's title says what is set in it."""
        s = self.sections
        s["headers"].set_summary(f"{self.headers.count()} set" if self.headers.count() else "")
        s["query"].set_summary(f"{self.query.count()} set" if self.query.count() else "")
        body = self.body.text.toPlainText().strip()
        s["body"].set_summary("JSON" if body[:1] in ("{", "[") else ("text" if body else ""))
        kind = self.auth.kind_name()
        if kind == "none" and api is not None and api.auth:
            s["auth"].set_summary("the API's own")
        else:
            s["auth"].set_summary("" if kind == "none" else kind.replace("_", " "))
        s["retries"].set_summary(self.retries.summary())
        cache = self.cache.summary()
        if not cache and api is not None and api.cache:
            cache = "the API's own"
        s["cache"].set_summary(cache)

    def _describe_row(self, row: int) -> None:
        """Location, required mark and tooltip of one row from the API's declared parameter."""
        name, where = self.parameters.item(row, self.NAME), self.parameters.item(row, self.WHERE)
        if name is None or where is None:
            return
        declared = self._declared.get(name.text().strip())
        font = name.font()
        font.setBold(bool(declared and declared.required))
        name.setFont(font)
        if declared is None:
            where.setText("")
            tip = "Not declared by the API" if self._declared else ""
        else:
            where.setText(f"{declared.location} *" if declared.required else declared.location)
            kind = "required" if declared.required else "optional"
            tip = f"{declared.name} ({declared.type}, {declared.location}, {kind})"
            if declared.description:
                tip += f": {declared.description}"
            if declared.example is not None:
                tip += f" — e.g. {_json_text(declared.example)}"
        for item in (name, where, self.parameters.item(row, self.VALUE)):
            if item is not None:
                item.setToolTip(tip)

    def _check_required(self) -> None:
        """Show which required parameters have no value (empty hint when none)."""
        values = self.parameter_values()
        missing = [
            p.name for p in self._declared.values() if p.required and not str(values.get(p.name, "")).strip()
        ]
        if not missing:
            self.params_hint.setText("")
            self.params_hint.hide()
            return
        names = ", ".join(f"'{m}'" for m in missing)
        verb = "has" if len(missing) == 1 else "have"
        self.params_hint.setText(f"Required parameter{'s' * (len(missing) > 1)} {names} {verb} no value.")
        self.params_hint.show()

    def _parameters_edited(self) -> None:
        self._check_required()
        self.edited.emit({"parameters": self.parameter_values()})

    def parameter_values(self) -> dict[str, Any]:
        return dict(self.parameter_rows.values())

    def _api_chosen(self, index: int) -> None:
        api_id = self.api.itemData(index)
        if api_id == self.INLINE:
            # nothing is declared any more: the rows lose their locations, marks and hint at once
            # (the inspector reloads the form from the node only on a later turn of the loop)
            self._declared = {}
            self.parameter_rows.describe_rows()
            self._check_required()
            self.edited.emit({"api_id": None})
            return
        change: dict[str, Any] = {"api_id": api_id}
        api = self._apis.get(api_id)
        self._declared = {p.name: p for p in api.parameters} if api else {}
        if api is not None and api.parameters:
            params = self.parameter_values()
            for p in api.parameters:
                params.setdefault(p.name, "")
            change["parameters"] = params
        self.edited.emit(change)


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


_HAND_MADE_FORMS: dict[str, Any] = {
    "condition": ConditionForm,
    "delay": DelayForm,
    "parallel": ParallelForm,
    "loop": LoopForm,
}


def form_for(descriptor: NodeTypeDescriptor, list_apis) -> TypeForm | None:
    """The form for a node type: the hand-made one its descriptor names, else one built from its
    config schema (custom types); None when the schema has no fields (the raw JSON shows the rest)."""
    if descriptor.form == "api_call":
        return ApiCallForm(list_apis)
    made = _HAND_MADE_FORMS.get(descriptor.form or "")
    if made is not None:
        return made()
    if not descriptor.config_schema.get("properties"):
        return None
    from .schema_form import SchemaForm

    return SchemaForm(descriptor)
