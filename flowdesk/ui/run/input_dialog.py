"""RunInputDialog: the run's input data, as a form of the workflow's inputs (declared in
`config.inputs`, else proposed from its `{{input.*}}` references) and as raw JSON, both checked as
you type with the engine's own rules (domain/workflow_inputs.py: a required input missing refuses
the run). The last input of each workflow is remembered, named inputs are saved to pick from, and
the environment the run uses is chosen (the active one preselected). Ctrl+Enter accepts, like OK."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.workflow_inputs import INPUTS_KEY, InputField, apply_inputs, input_fields


def parse_input(text: str) -> Any:
    """The input JSON as a value (empty text is null); InvalidInputError says the line and column."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInputError(
            f"Line {err.lineno}, column {err.colno}: {err.msg}.",
            location=f"input JSON {err.lineno}:{err.colno}",
        ) from None


def _field_text(value: Any, kind: str | None) -> str:
    """How a form field shows a value: strings as they are, everything else as JSON."""
    if isinstance(value, str) and kind in ("string", None):
        return value
    return json.dumps(value, ensure_ascii=False)


def _field_value(text: str, field: InputField) -> Any:
    """The value a form field's text stands for; InvalidInputError says what is wrong with it."""
    kind = field.type
    if kind == "string":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        if kind is None:
            return text  # an untyped input: plain text is a string
        wanted = {"integer": "a whole number", "number": "a number", "boolean": "true or false"}
        raise InvalidInputError(
            f"input '{field.name}' must be {wanted.get(kind, f'JSON ({kind})')}, not {text!r}."
        ) from None
    return value


class InputForm(QWidget):
    """One labelled line per input (`*` marks a required one; the default and description show as
    placeholder and tooltip). `edited` fires when the user changes a field."""

    edited = Signal()

    def __init__(self, fields: list[InputField], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputForm")
        self.fields = fields
        self.editors: dict[str, QLineEdit] = {}
        layout = QFormLayout(self)
        for field in fields:
            editor = QLineEdit(self)
            editor.setObjectName(f"input_{field.name}")
            hints = [field.type or "any JSON value, or text"]
            if field.has_default:
                hints.append(f"default: {_field_text(field.default, field.type)}")
            elif field.required:
                hints.append("required")
            editor.setPlaceholderText(" · ".join(hints))
            editor.setToolTip(field.description or field.name)
            editor.textEdited.connect(lambda _text: self.edited.emit())
            label = QLabel(f"{field.name}{' *' if field.required else ''}:", self)
            label.setToolTip(field.description or field.name)
            label.setBuddy(editor)
            layout.addRow(label, editor)
            if field.description:
                note = QLabel(field.description, self)
                note.setWordWrap(True)
                note.setStyleSheet("color: #6b7280;")
                layout.addRow("", note)
            self.editors[field.name] = editor

    def show_values(self, value: Any) -> None:
        """Fill the fields from an input object (fields it does not name are cleared)."""
        data = value if isinstance(value, dict) else {}
        for field in self.fields:
            editor = self.editors[field.name]
            text = _field_text(data[field.name], field.type) if field.name in data else ""
            if editor.text() != text:
                editor.setText(text)

    def merged_into(self, value: Any) -> dict[str, Any]:
        """`value` (an object, else {}) with the form's inputs set; an empty field removes its input
        (so a declared default applies). InvalidInputError for a field that cannot be read."""
        data = dict(value) if isinstance(value, dict) else {}
        for field in self.fields:
            text = self.editors[field.name].text()
            if text == "":
                data.pop(field.name, None)
            else:
                data[field.name] = _field_value(text, field)
        return data


class RunInputStore:
    """Per-workflow last input and saved named inputs, in the app's QSettings."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def _key(self, workflow_id: int | None, what: str) -> str:
        return f"runInputs/{workflow_id if workflow_id is not None else 'unsaved'}/{what}"

    def last(self, workflow_id: int | None) -> str | None:
        value = self.settings.value(self._key(workflow_id, "last"))
        return str(value) if value is not None else None

    def set_last(self, workflow_id: int | None, text: str) -> None:
        self.settings.setValue(self._key(workflow_id, "last"), text)
        self.settings.sync()

    def saved(self, workflow_id: int | None) -> dict[str, str]:
        raw = self.settings.value(self._key(workflow_id, "saved"))
        try:
            value = json.loads(str(raw)) if raw else {}
        except json.JSONDecodeError:
            return {}
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def save_named(self, workflow_id: int | None, name: str, text: str) -> None:
        saved = self.saved(workflow_id)
        saved[name] = text
        self.settings.setValue(self._key(workflow_id, "saved"), json.dumps(saved, ensure_ascii=False))
        self.settings.sync()

    def delete_named(self, workflow_id: int | None, name: str) -> None:
        saved = self.saved(workflow_id)
        if saved.pop(name, None) is not None:
            self.settings.setValue(self._key(workflow_id, "saved"), json.dumps(saved, ensure_ascii=False))
            self.settings.sync()


class RunInputDialog(QDialog):
    """Asks for a run's input data and environment; `input_accepted(value)` when OK or Ctrl+Enter
    is pressed, with the chosen environment's name in `environment` (None: no environments)."""

    input_accepted = Signal(object)

    def __init__(
        self,
        store: RunInputStore,
        workflow_id: int | None,
        workflow_name: str,
        *,
        title: str = "Run",
        initial: str | None = None,
        environments: list[str] | None = None,
        active_environment: str | None = None,
        inputs: dict[str, Any] | None = None,
        declared: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        """`inputs` is the workflow's declaration (`declared=True`) or the one proposed from its
        references; a declared one is enforced (required inputs, types) before OK is enabled."""
        super().__init__(parent)
        self.setObjectName("runInputDialog")
        self.setWindowTitle(f"{title} '{workflow_name}' — input data")
        self.store = store
        self.workflow_id = workflow_id
        self.workflow_name = workflow_name
        self.rules: dict[str, Any] = {INPUTS_KEY: inputs} if declared and inputs is not None else {}
        self.value: Any = None
        self._syncing = False
        self.resize(560, 420)

        self.saved_combo = QComboBox(self)
        self.saved_combo.setObjectName("savedInputs")
        self.saved_combo.setMinimumWidth(200)
        self.saved_combo.activated.connect(self._pick_saved)
        self.save_button = QPushButton("Save as…", self)
        self.save_button.setObjectName("saveInput")
        self.save_button.clicked.connect(self._save_named)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("deleteInput")
        self.delete_button.clicked.connect(self._delete_named)
        top = QHBoxLayout()
        top.addWidget(QLabel("Saved inputs:", self))
        top.addWidget(self.saved_combo, 1)
        top.addWidget(self.save_button)
        top.addWidget(self.delete_button)

        # The environment whose variables are {{env.*}} in this run; hidden when there is none.
        self.environment_combo = QComboBox(self)
        self.environment_combo.setObjectName("runEnvironment")
        self.environment_combo.addItems(list(environments or []))
        if active_environment in (environments or []):
            self.environment_combo.setCurrentText(active_environment)
        self.environment_combo.setToolTip("The environment whose variables are {{env.*}} in this run")
        env_row = QHBoxLayout()
        env_label = QLabel("Environment:", self)
        env_label.setBuddy(self.environment_combo)
        env_row.addWidget(env_label)
        env_row.addWidget(self.environment_combo, 1)
        env_label.setVisible(bool(environments))
        self.environment_combo.setVisible(bool(environments))

        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("inputEditor")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(mono)
        self.editor.setTabChangesFocus(False)
        self.editor.setPlaceholderText('{"user_id": 1}   — JSON; leave empty for no input')
        self.problem = QLabel(self)
        self.problem.setObjectName("inputProblem")
        self.problem.setStyleSheet("color: #d93025;")
        self.problem.setWordWrap(True)
        hint = QLabel("Ctrl+Enter runs", self)
        hint.setStyleSheet("color: #6b7280;")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(title)
        self.ok_button.setObjectName("runInputOk")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(hint)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        # The form of the inputs and the raw JSON: two views of one value, kept in step.
        fields = input_fields(inputs or {})
        self.form = InputForm(fields, self)
        self.form.edited.connect(self._form_edited)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        form_page = QWidget(self)
        form_layout = QVBoxLayout(form_page)
        origin = (
            "Inputs declared by the workflow (* required; an empty field takes the default)."
            if declared
            else "Inputs the workflow reads ({{input.*}}); it declares none, so none is required."
        )
        form_note = QLabel(origin if fields else "This workflow reads no {{input.*}} values.", form_page)
        form_note.setWordWrap(True)
        form_note.setStyleSheet("color: #6b7280;")
        form_layout.addWidget(form_note)
        form_layout.addWidget(self.form)
        form_layout.addStretch(1)
        scroll.setWidget(form_page)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("inputTabs")
        self.tabs.addTab(scroll, "Form")
        self.tabs.addTab(self.editor, "JSON")
        self.tabs.setCurrentIndex(0 if fields else 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(env_row)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addLayout(bottom)

        # Ctrl+Enter accepts: caught as a key press (on the editor and the dialog), which works
        # whether or not the dialog is the active window (a QShortcut needs that).
        self.editor.installEventFilter(self)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(150)
        self._check_timer.timeout.connect(self.check)
        self.editor.textChanged.connect(self._check_timer.start)

        self._fill_saved()
        text = initial if initial is not None else store.last(workflow_id)
        self.editor.setPlainText(text if text is not None else "{}")
        self.check()
        if fields:
            first = self.form.editors[fields[0].name]
            first.setFocus()
            for editor in self.form.editors.values():
                editor.installEventFilter(self)
        else:
            self.editor.setFocus()

    @property
    def environment(self) -> str | None:
        """The chosen environment's name, or None when there are no environments."""
        return self.environment_combo.currentText() or None

    # ------------------------------------------------------------ keys
    @staticmethod
    def _is_ctrl_enter(event: QKeyEvent) -> bool:
        return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and bool(
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and self._is_ctrl_enter(event):  # type: ignore[arg-type]
            self.accept()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self._is_ctrl_enter(event):
            self.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------ checking
    def check(self) -> bool:
        """Validate the JSON now, and the input against the workflow's rules (the engine's own:
        an object, required inputs present, values fitting); shows what is wrong and disables OK."""
        self._check_timer.stop()
        try:
            self.value = parse_input(self.editor.toPlainText())
        except InvalidInputError as err:
            return self._refuse(err.message, err.location)
        if not self._syncing:
            self._syncing = True
            try:
                self.form.show_values(self.value)
            finally:
                self._syncing = False
        try:
            apply_inputs(self.rules, self.value, self.workflow_name)
        except InvalidInputError as err:
            return self._refuse(str(err), None)
        self.problem.setText("")
        self.ok_button.setEnabled(True)
        self._error_at: str | None = None
        return True

    def _refuse(self, message: str, location: str | None) -> bool:
        self.problem.setText(message[:1].upper() + message[1:].rstrip(".") + ".")
        self.ok_button.setEnabled(False)
        self._error_at = location
        return False

    def _form_edited(self) -> None:
        """A form field changed: write the merged object into the JSON (other keys kept)."""
        if self._syncing:
            return
        try:
            current = parse_input(self.editor.toPlainText())
        except InvalidInputError:
            current = None  # the form's values replace JSON that does not parse
        try:
            merged = self.form.merged_into(current)
        except InvalidInputError as err:
            self._refuse(err.message, None)
            return
        self._syncing = True  # the field being typed in is not rewritten from the JSON
        try:
            self.editor.setPlainText(json.dumps(merged, ensure_ascii=False, indent=2))
            self.check()  # (stops the timer the text change started)
        finally:
            self._syncing = False

    def _move_to_error(self) -> None:
        if not self._error_at:
            return
        line, column = (int(x) for x in str(self._error_at).rsplit(" ", 1)[-1].split(":"))
        block = self.editor.document().findBlockByNumber(line - 1)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(column - 1, 0))
        self.editor.setTextCursor(cursor)

    def accept(self) -> None:
        if not self.check():
            self._move_to_error()
            return
        if self.result() == QDialog.DialogCode.Accepted and not self.isVisible():
            return  # already accepted
        self.store.set_last(self.workflow_id, self.editor.toPlainText())
        super().accept()
        self.input_accepted.emit(self.value)

    # ------------------------------------------------------------ saved inputs
    def _fill_saved(self) -> None:
        self.saved_combo.clear()
        saved = self.store.saved(self.workflow_id)
        self.saved_combo.addItem("(pick a saved input)" if saved else "(none saved yet)")
        for name in sorted(saved):
            self.saved_combo.addItem(name)
        self.delete_button.setEnabled(bool(saved))

    def _pick_saved(self, index: int) -> None:
        if index <= 0:
            return
        text = self.store.saved(self.workflow_id).get(self.saved_combo.itemText(index))
        if text is not None:
            self.editor.setPlainText(text)
            self.check()

    def save_named(self, name: str) -> None:
        """Save the editor's JSON under `name` (refused while it is invalid)."""
        if not name.strip() or not self.check():
            return
        self.store.save_named(self.workflow_id, name.strip(), self.editor.toPlainText())
        self._fill_saved()
        self.saved_combo.setCurrentText(name.strip())

    def _save_named(self) -> None:
        name, ok = QInputDialog.getText(self, "Save input", "Name:")
        if ok:
            self.save_named(name)

    def _delete_named(self) -> None:
        index = self.saved_combo.currentIndex()
        if index > 0:
            self.store.delete_named(self.workflow_id, self.saved_combo.itemText(index))
            self._fill_saved()
