"""The API_CALL form's request settings beyond method, URL and parameters: headers, query, body,
auth, retries and timeout, each in a labelled section that folds (closed by default, its title
summing up what is set), so the whole form fits the inspector without scrolling.

Each editor reports edits as a partial node config ({key: value}, None removing the key), like the
per-type forms in node_forms.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.ui.widgets import set_number


class FoldingSection(QWidget):
    """A titled section whose body shows or hides when its title is clicked."""

    def __init__(self, title: str, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self.body = body
        self.toggle = QToolButton(self)
        self.toggle.setObjectName(f"section{title.replace(' ', '')}")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.toggle.setStyleSheet("QToolButton { border: none; font-weight: 600; text-align: left; }")
        self.toggle.toggled.connect(self.set_open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle)
        layout.addWidget(body)
        body.setVisible(False)
        self.set_summary("")

    def set_open(self, open_: bool) -> None:
        if self.toggle.isChecked() != open_:
            self.toggle.setChecked(open_)
            return
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.body.setVisible(open_)

    def is_open(self) -> bool:
        return self.toggle.isChecked()

    def set_summary(self, summary: str) -> None:
        """The title, with what is set after it ("Headers — 2 set")."""
        self.toggle.setText(f"{self._title} — {summary}" if summary else self._title)


class KeyValueEditor(QWidget):
    """A table of name → template pairs: a request's headers and query parameters, and an API call's
    parameters (with a read-only "In" column between name and value, filled by `describe`).

    `edited` carries the mapping (None when empty) after every change made in the table or by its
    Add and Remove buttons; `load()` fills it without a signal."""

    edited = Signal(object)  # the mapping, or None when empty
    NAME = 0

    def __init__(
        self,
        headers: list[str],
        object_name: str,
        parent: QWidget | None = None,
        *,
        new_name: str = "name",
        add_text: str = "Add",
        heights: tuple[int, int] = (90, 140),
        margins: tuple[int, int, int, int] = (12, 0, 0, 4),
    ) -> None:
        super().__init__(parent)
        self.value_column = len(headers) - 1
        self._new_name = new_name
        #: called with a row after it is added and when its name changes (signals blocked)
        self.describe: Callable[[int], None] = lambda _row: None
        self.table = QTableWidget(0, len(headers), self)
        self.table.setObjectName(object_name)
        self.table.setHorizontalHeaderLabels(headers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.value_column):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(heights[0])
        self.table.setMaximumHeight(heights[1])
        add = QPushButton(add_text, self)
        remove = QPushButton("Remove", self)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(*margins)
        self.box.addWidget(self.table)
        self.box.addLayout(buttons)
        self.table.itemChanged.connect(self._item_changed)
        add.clicked.connect(self._add)
        remove.clicked.connect(self._remove)

    def load(self, value: Any) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        if isinstance(value, dict):
            for key, item in value.items():
                self._append(
                    str(key), item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
                )
        self.table.blockSignals(False)

    def values(self) -> dict[str, str]:
        """The rows with a name, in order (an empty dict when there are none)."""
        out: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            key, val = self.table.item(row, self.NAME), self.table.item(row, self.value_column)
            name = key.text().strip() if key else ""
            if name:
                out[name] = val.text() if val else ""
        return out

    def value(self) -> dict[str, str] | None:
        return self.values() or None

    def count(self) -> int:
        return len(self.values())

    def describe_rows(self) -> None:
        """Run `describe` on every row again (what it reads has changed)."""
        self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            self.describe(row)
        self.table.blockSignals(False)

    def _append(self, key: str, value: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, self.NAME, QTableWidgetItem(key))
        for column in range(1, self.value_column):
            fixed = QTableWidgetItem("")
            fixed.setFlags(fixed.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, column, fixed)
        self.table.setItem(row, self.value_column, QTableWidgetItem(value))
        self.describe(row)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == self.NAME:
            self.table.blockSignals(True)
            self.describe(item.row())
            self.table.blockSignals(False)
        self.edited.emit(self.value())

    def _add(self) -> None:
        taken = set(self.values())
        name, i = self._new_name, 1
        while name in taken:
            i += 1
            name = f"{self._new_name}{i}"
        self.table.blockSignals(True)
        self._append(name, "")
        self.table.blockSignals(False)
        self.edited.emit(self.value())

    def _remove(self) -> None:
        row = self.table.currentRow() if self.table.currentRow() >= 0 else self.table.rowCount() - 1
        if row >= 0:
            self.table.removeRow(row)
            self.edited.emit(self.value())


class _CommitOnLeave(QPlainTextEdit):
    left = Signal()

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.left.emit()


class BodyEditor(QWidget):
    """The request body: JSON when it starts with { or [ (checked; nothing changes until it
    parses), otherwise text with templates."""

    edited = Signal(object)  # the body, or None when empty

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = _CommitOnLeave(self)
        self.text.setObjectName("requestBody")
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText('{"name": "{{input.name}}"}  — JSON, or plain text with templates')
        self.text.setMinimumHeight(70)
        self.text.setMaximumHeight(130)
        self.error = QLabel(self)
        self.error.setObjectName("requestBodyError")
        self.error.setStyleSheet("color: #d93025;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 4)
        layout.addWidget(self.text)
        layout.addWidget(self.error)
        self.text.left.connect(self.commit)
        self._value: Any = None

    def load(self, value: Any) -> None:
        self._value = value
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, ensure_ascii=False, indent=2)
        if self.text.toPlainText() != text:
            self.text.setPlainText(text)
        self.error.hide()

    def commit(self) -> None:
        text = self.text.toPlainText()
        stripped = text.strip()
        value: Any
        if not stripped:
            value = None
        elif stripped[0] in "{[":
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as err:
                self.error.setText(
                    f"The body is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}."
                )
                self.error.show()
                return
        else:
            value = text
        self.error.hide()
        if value != self._value:
            self._value = value
            self.edited.emit(value)


# auth type -> its fields: (config key, label, placeholder)
AUTH_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "none": (),
    "bearer": (("token", "Token", "{{secrets.API_TOKEN}}"),),
    "basic": (("username", "User", "{{secrets.USER}}"), ("password", "Password", "{{secrets.PASSWORD}}")),
    "api_key": (
        ("in", "Sent in", "header or query"),
        ("name", "Name", "X-API-Key"),
        ("value", "Value", "{{secrets.API_KEY}}"),
    ),
    "oauth2_client_credentials": (
        ("token_url", "Token URL", "https://auth.example.com/oauth/token"),
        ("client_id", "Client id", "{{secrets.CLIENT_ID}}"),
        ("client_secret", "Client secret", "{{secrets.CLIENT_SECRET}}"),
        ("scopes", "Scopes", "read write"),
    ),
    "oauth2_authorization_code": (
        ("authorization_url", "Authorization URL", "https://auth.example.com/authorize"),
        ("token_url", "Token URL", "https://auth.example.com/oauth/token"),
        ("client_id", "Client id", "{{secrets.CLIENT_ID}}"),
        ("scopes", "Scopes", "read write"),
        ("flow", "Flow", "code (with PKCE) or implicit"),
        ("userinfo_url", "Userinfo URL", "optional: who signed in"),
    ),
}
AUTH_LABELS = {
    "none": "None (or the API's own)",
    "bearer": "Bearer token",
    "basic": "Basic (user and password)",
    "api_key": "API key",
    "oauth2_client_credentials": "OAuth2 client credentials",
    "oauth2_authorization_code": "OAuth2 sign-in (authorization code, PKCE)",
}


class AuthEditor(QWidget):
    """The node's auth: a type and that type's fields (keys of other types are kept as they are)."""

    edited = Signal(object)  # the auth dict, or None for none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox(self)
        self.kind.setObjectName("authType")
        for key, label in AUTH_LABELS.items():
            self.kind.addItem(label, key)
        self.form = QFormLayout()
        self.form.addRow("Type", self.kind)
        self.fields: dict[str, QLineEdit] = {}
        for kind_fields in AUTH_FIELDS.values():
            for key, label, placeholder in kind_fields:
                if key in self.fields:
                    continue
                edit = QLineEdit(self)
                edit.setObjectName(f"auth_{key}")
                edit.setPlaceholderText(placeholder)
                edit.editingFinished.connect(self._commit)
                self.fields[key] = edit
                self.form.addRow(label, edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 4)
        layout.addLayout(self.form)
        self._auth: dict[str, Any] = {}
        self.kind.activated.connect(lambda _i: self._commit())
        self._show_fields("none")

    def _show_fields(self, kind: str) -> None:
        wanted = {key for key, _label, _ph in AUTH_FIELDS.get(kind, ())}
        for key, edit in self.fields.items():
            self.form.setRowVisible(edit, key in wanted)

    def kind_name(self) -> str:
        return str(self.kind.currentData())

    def load(self, value: Any) -> None:
        self._auth = dict(value) if isinstance(value, dict) else {}
        kind = str(self._auth.get("type") or "none").strip().lower().replace("-", "_")
        kind = {"": "none", "noauth": "none", "apikey": "api_key", "oauth2": "oauth2_client_credentials"}.get(
            kind, kind
        )
        index = self.kind.findData(kind)
        if index < 0:
            self.kind.addItem(kind, kind)
            index = self.kind.count() - 1
        self.kind.setCurrentIndex(index)
        for key, edit in self.fields.items():
            item = self._auth.get(key)
            if isinstance(item, list):
                text = " ".join(str(x) for x in item)
            else:
                text = "" if item is None else str(item)
            if edit.text() != text:
                edit.setText(text)
        self._show_fields(kind)

    def _commit(self) -> None:
        kind = self.kind_name()
        self._show_fields(kind)
        if kind == "none":
            value: dict[str, Any] | None = None
        else:
            value = dict(self._auth)
            value["type"] = kind
            for key, _label, _ph in AUTH_FIELDS.get(kind, ()):
                text = self.fields[key].text().strip()
                if key == "scopes":
                    value[key] = text.split() if text else []
                elif text:
                    value[key] = text
                else:
                    value.pop(key, None)
        if value != (self._auth or None):
            self._auth = dict(value or {})
            self.edited.emit(value)


class RetryEditor(QWidget):
    """Retries, the first retry's delay, the timeout and extra accepted statuses of one call;
    "workflow default" removes the key so the workflow's setting applies."""

    edited = Signal(dict)  # partial config

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.retry_count = QSpinBox(self)
        self.retry_count.setObjectName("retryCount")
        self.retry_count.setRange(-1, 100)
        self.retry_count.setSpecialValueText("workflow default")
        self.retry_delay = QDoubleSpinBox(self)
        self.retry_delay.setRange(-1, 3600)
        self.retry_delay.setDecimals(2)
        self.retry_delay.setSuffix(" s")
        self.retry_delay.setSpecialValueText("workflow default")
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setObjectName("callTimeout")
        self.timeout.setRange(0, 86400)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("default")
        self.accept_status = QLineEdit(self)
        self.accept_status.setPlaceholderText("e.g. 404, 409 (2xx always)")
        form = QFormLayout()
        form.addRow("Retries", self.retry_count)
        form.addRow("First delay", self.retry_delay)
        form.addRow("Timeout", self.timeout)
        form.addRow("Also accept", self.accept_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 4)
        layout.addLayout(form)
        self.retry_count.editingFinished.connect(
            lambda: self.edited.emit({"retry_count": _or_none(self.retry_count.value(), -1)})
        )
        self.retry_delay.editingFinished.connect(
            lambda: self.edited.emit({"retry_delay": _or_none(plain_number(self.retry_delay.value()), -1)})
        )
        self.timeout.editingFinished.connect(
            lambda: self.edited.emit({"timeout": _or_none(plain_number(self.timeout.value()), 0)})
        )
        self.accept_status.editingFinished.connect(self._commit_statuses)

    def load(self, config: dict[str, Any]) -> None:
        for spin, key, default in (
            (self.retry_count, "retry_count", -1),
            (self.retry_delay, "retry_delay", -1),
            (self.timeout, "timeout", 0),
        ):
            value = config.get(key)
            spin.blockSignals(True)
            set_number(spin, value, default)
            spin.blockSignals(False)
        statuses = config.get("accept_status")
        text = ", ".join(str(s) for s in statuses) if isinstance(statuses, list) else str(statuses or "")
        if self.accept_status.text() != text:
            self.accept_status.setText(text)

    def summary(self) -> str:
        parts = []
        if self.retry_count.value() >= 0:
            parts.append(f"{self.retry_count.value()} retries")
        if self.timeout.value() > 0:
            parts.append(f"timeout {self.timeout.value():g} s")
        return ", ".join(parts)

    def _commit_statuses(self) -> None:
        text = self.accept_status.text().replace(",", " ").split()
        statuses = [int(t) for t in text if t.isdigit()]
        bad = [t for t in text if not t.isdigit()]
        if bad:
            self.accept_status.setToolTip(f"'{bad[0]}' is not a status code; it was left out.")
        self.edited.emit({"accept_status": statuses or None})


def plain_number(value: float) -> int | float:
    """A spin box's float as the int it is when it has no fraction (3.0 -> 3)."""
    return int(value) if float(value).is_integer() else value


def _or_none(value: Any, unset: Any) -> Any:
    return None if value == unset else value
