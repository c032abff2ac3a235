"""The form that edits one API definition (JSON fields are checked before anything is saved)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ApiDefinition

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _json_edit(name: str, placeholder: str, lines: int = 3) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 12)
    return edit


def _dump(value: Any) -> str:
    if value is None or value == {} or value == "":
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


class ApiEditorForm(QWidget):
    """Name, method, URL, headers, query, body, content type, timeout, auth, tags, description."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api: ApiDefinition | None = None
        self.name = QLineEdit(objectName="apiName")
        self.method = QComboBox(objectName="apiMethod")
        self.method.addItems(METHODS)
        self.method.setEditable(False)
        self.url = QLineEdit(objectName="apiUrl")
        self.url.setPlaceholderText("{{env.base_url}}/pets/{{params.petId}}")
        self.headers = _json_edit("apiHeaders", '{"Accept": "application/json"}')
        self.query = _json_edit("apiQuery", '{"limit": "{{params.limit}}"}', 2)
        self.body = _json_edit("apiBody", "JSON (a template) or raw text", 4)
        self.content_type = QLineEdit(objectName="apiContentType")
        self.content_type.setPlaceholderText("application/json")
        self.timeout = QDoubleSpinBox(objectName="apiTimeout")
        self.timeout.setRange(0.1, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(30)
        self.auth = _json_edit("apiAuth", '{"type": "bearer", "token": "{{secrets.api_token}}"}', 3)
        self.tags = QLineEdit(objectName="apiTags")
        self.tags.setPlaceholderText("comma separated")
        self.description = _json_edit("apiDescription", "", 2)
        form = QFormLayout(self)
        form.setContentsMargins(0, 4, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Name", self.name)
        form.addRow("Method", self.method)
        form.addRow("URL", self.url)
        form.addRow("Headers", self.headers)
        form.addRow("Query", self.query)
        form.addRow("Body", self.body)
        form.addRow("Content type", self.content_type)
        form.addRow("Timeout", self.timeout)
        form.addRow("Auth", self.auth)
        form.addRow("Tags", self.tags)
        form.addRow("Description", self.description)
        for edit in (self.name, self.url, self.content_type, self.tags):
            edit.textEdited.connect(lambda _t: self.changed.emit())
        for edit in (self.headers, self.query, self.body, self.auth, self.description):
            edit.textChanged.connect(self.changed.emit)

    def load(self, api: ApiDefinition | None) -> None:
        """Show `api` (None clears the form for a new definition)."""
        self.api = api
        blank = api is None
        self.name.setText("" if blank else api.name)
        self.method.setCurrentText("GET" if blank else api.method.upper())
        self.url.setText("" if blank else api.url)
        self.headers.setPlainText("" if blank else _dump(api.headers))
        self.query.setPlainText("" if blank else _dump(api.query))
        self.body.setPlainText("" if blank else _dump(api.body))
        self.content_type.setText("" if blank or not api.content_type else api.content_type)
        self.timeout.setValue(30 if blank else float(api.timeout))
        self.auth.setPlainText("" if blank else _dump(api.auth))
        self.tags.setText("" if blank else ", ".join(api.tags))
        self.description.setPlainText("" if blank else api.description)

    @staticmethod
    def _object(edit: QPlainTextEdit, label: str) -> dict[str, Any]:
        text = edit.toPlainText().strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInputError(
                f"{label}: not valid JSON at line {err.lineno}, column {err.colno} ({err.msg})."
            ) from None
        if not isinstance(value, dict):
            raise InvalidInputError(f"{label}: must be a JSON object.")
        return value

    def values(self) -> dict[str, Any]:
        """The fields as ApiDefinition keywords; InvalidInputError names the field that is wrong."""
        body_text = self.body.toPlainText().strip()
        body: Any = None
        if body_text:
            try:
                body = json.loads(body_text)
            except json.JSONDecodeError:
                body = body_text  # raw text (XML, form text...) is allowed
        auth = self._object(self.auth, "Auth") or None
        if auth is not None and "type" not in auth:
            raise InvalidInputError(
                "Auth: needs a 'type' (bearer, basic, api_key, oauth2_client_credentials)."
            )
        return {
            "name": self.name.text().strip(),
            "method": self.method.currentText(),
            "url": self.url.text().strip(),
            "headers": self._object(self.headers, "Headers"),
            "query": self._object(self.query, "Query"),
            "body": body,
            "content_type": self.content_type.text().strip() or None,
            "timeout": self.timeout.value(),
            "auth": auth,
            "tags": [t.strip() for t in self.tags.text().split(",") if t.strip()],
            "description": self.description.toPlainText().strip(),
        }
