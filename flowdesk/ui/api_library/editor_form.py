"""The form that edits one API definition (JSON fields are checked before anything is saved)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from flowdesk.domain.errors import InvalidInputError
from flowdesk.domain.models import ApiDefinition
from flowdesk.domain.response_cache import cache_option_problem
from flowdesk.ui.widgets import named

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
BODY_TYPES = {"auto": "auto (JSON, text or form)", "multipart": "multipart (fields and files)"}
MULTIPART = "multipart/form-data"


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
    """Name, method, URL, headers, query, body, body type, content type, timeout, auth, connection
    settings (verify, client certificate, HTTP/2), the response cache, tags, description."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api: ApiDefinition | None = None
        self.name = named(QLineEdit(), "apiName")
        self.method = named(QComboBox(), "apiMethod")
        self.method.addItems(METHODS)
        self.method.setEditable(False)
        self.url = named(QLineEdit(), "apiUrl")
        self.url.setPlaceholderText("{{env.base_url}}/pets/{{params.petId}}")
        self.headers = _json_edit("apiHeaders", '{"Accept": "application/json"}')
        self.query = _json_edit("apiQuery", '{"limit": "{{params.limit}}"}', 2)
        self.body = _json_edit("apiBody", "JSON (a template) or raw text", 4)
        self.content_type = named(QLineEdit(), "apiContentType")
        self.content_type.setPlaceholderText("application/json")
        self.timeout = named(QDoubleSpinBox(), "apiTimeout")
        self.timeout.setRange(0.1, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(30)
        self.body_type = named(QComboBox(), "apiBodyType")
        for key, label in BODY_TYPES.items():
            self.body_type.addItem(label, key)
        self.auth = _json_edit("apiAuth", '{"type": "bearer", "token": "{{secrets.api_token}}"}', 3)
        # Connection settings (ApiDefinition.connection; docs/http.md "Connection settings")
        self.verify = named(QLineEdit(), "apiVerify")
        self.verify.setPlaceholderText("true, false or a CA bundle path (empty: as the environment says)")
        self.client_cert = named(QLineEdit(), "apiClientCert")
        self.client_cert.setPlaceholderText("client certificate (PEM) for mutual TLS")
        self.client_key = named(QLineEdit(), "apiClientKey")
        self.client_key.setPlaceholderText("its key (PEM), if not in the certificate's file")
        self.http2 = named(QCheckBox("HTTP/2"), "apiHttp2")
        # The response cache of its calls (ApiDefinition.cache; docs/semantics.md §2.12)
        self.cache = _json_edit("apiCache", '{"ttl": 60} (empty: not cached)', 2)
        self.tags = named(QLineEdit(), "apiTags")
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
        form.addRow("Body type", self.body_type)
        form.addRow("Content type", self.content_type)
        form.addRow("Timeout", self.timeout)
        form.addRow("Auth", self.auth)
        form.addRow("Verify TLS", self.verify)
        form.addRow("Client cert", self.client_cert)
        form.addRow("Client key", self.client_key)
        form.addRow("", self.http2)
        form.addRow("Cache", self.cache)
        form.addRow("Tags", self.tags)
        form.addRow("Description", self.description)
        for edit in (
            self.name,
            self.url,
            self.content_type,
            self.tags,
            self.verify,
            self.client_cert,
            self.client_key,
        ):
            edit.textEdited.connect(lambda _t: self.changed.emit())
        self.body_type.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.http2.toggled.connect(lambda _b: self.changed.emit())
        for text_edit in (self.headers, self.query, self.body, self.auth, self.cache, self.description):
            text_edit.textChanged.connect(self.changed.emit)

    def load(self, api: ApiDefinition | None) -> None:
        """Show `api` (None clears the form for a new definition)."""
        self.api = api
        self.name.setText("" if api is None else api.name)
        self.method.setCurrentText("GET" if api is None else api.method.upper())
        self.url.setText("" if api is None else api.url)
        self.headers.setPlainText("" if api is None else _dump(api.headers))
        self.query.setPlainText("" if api is None else _dump(api.query))
        self.body.setPlainText("" if api is None else _dump(api.body))
        content_type = "" if api is None or not api.content_type else api.content_type
        multipart = content_type.lower().startswith(MULTIPART)
        self.body_type.setCurrentIndex(self.body_type.findData("multipart" if multipart else "auto"))
        self.content_type.setText("" if multipart else content_type)
        connection = {} if api is None else dict(api.connection)
        verify = connection.get("verify")
        self.verify.setText(
            "" if verify is None else str(verify).lower() if isinstance(verify, bool) else str(verify)
        )
        self.client_cert.setText(str(connection.get("client_cert") or ""))
        self.client_key.setText(str(connection.get("client_key") or ""))
        self.http2.setChecked(bool(connection.get("http2")))
        self.timeout.setValue(30 if api is None else float(api.timeout))
        self.auth.setPlainText("" if api is None else _dump(api.auth))
        self.cache.setPlainText("" if api is None or api.cache is None else _dump(api.cache))
        self.tags.setText("" if api is None else ", ".join(api.tags))
        self.description.setPlainText("" if api is None else api.description)

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
                "Auth: needs a 'type' (bearer, basic, digest, api_key, oauth2_client_credentials, "
                "oauth2_authorization_code)."
            )
        cache = self._object(self.cache, "Cache") or None
        wrong = cache_option_problem(cache)
        if wrong is not None:
            raise InvalidInputError(f"Cache: {wrong}.")
        content_type = self.content_type.text().strip() or None
        if self.body_type.currentData() == "multipart":
            content_type = MULTIPART
            if body is not None and not isinstance(body, dict):
                raise InvalidInputError(
                    'Body: a multipart body is a JSON object of fields and files ({"file": {"path": ...}}).'
                )
        return {
            "name": self.name.text().strip(),
            "method": self.method.currentText(),
            "url": self.url.text().strip(),
            "headers": self._object(self.headers, "Headers"),
            "query": self._object(self.query, "Query"),
            "body": body,
            "content_type": content_type,
            "connection": self._connection(),
            "timeout": self.timeout.value(),
            "auth": auth,
            "cache": cache,
            "tags": [t.strip() for t in self.tags.text().split(",") if t.strip()],
            "description": self.description.toPlainText().strip(),
        }

    def _connection(self) -> dict[str, Any]:
        """The connection settings the fields give (only those set)."""
        connection: dict[str, Any] = {}
        verify = self.verify.text().strip()
        if verify:
            lowered = verify.lower()
            connection["verify"] = True if lowered == "true" else False if lowered == "false" else verify
        if self.client_cert.text().strip():
            connection["client_cert"] = self.client_cert.text().strip()
        if self.client_key.text().strip():
            connection["client_key"] = self.client_key.text().strip()
        if self.http2.isChecked():
            connection["http2"] = True
        return connection
