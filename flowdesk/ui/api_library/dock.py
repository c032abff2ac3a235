"""The API library dock: search and tag filter, the list (drag onto the canvas), the editor form,
import with a preview, "Send" with the active environment, copy as cURL, environments and secrets, and the
OAuth2 sign-in row (sign_in_bar.py) for definitions whose auth is a browser sign-in."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.errors import FlowdeskError
from flowdesk.domain.models import ApiDefinition
from flowdesk.engine.api_sign_in import ApiSignIn
from flowdesk.interchange.api_export import to_curl
from flowdesk.services.api_library import ApiImportPlan, ApiImportReport, ApiLibraryService
from flowdesk.services.apis import ApiService
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService
from flowdesk.store import Database
from flowdesk.ui.canvas.view import API_MIME
from flowdesk.ui.widgets import named

from .editor_form import ApiEditorForm
from .response_view import ResponseView
from .sign_in_bar import SignInBar
from .trial_request import TrialResult, send_trial

log = logging.getLogger(__name__)
ALL_TAGS = "All tags"


def example_params(api: ApiDefinition) -> dict[str, Any]:
    """Values for Send: each required parameter's example (or an empty string), optional ones with an example."""
    out: dict[str, Any] = {}
    for param in api.parameters:
        if param.example is not None:
            out[param.name] = param.example
        elif param.required:
            out[param.name] = ""
    return out


class ApiList(QListWidget):
    """The definitions; dragging one onto the canvas makes an API_CALL node using it."""

    def mime_for(self, api_id: int, name: str) -> QMimeData:
        mime = QMimeData()
        mime.setData(API_MIME, json.dumps({"api_id": api_id, "name": name}).encode("utf-8"))
        mime.setText(name)
        return mime

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [API_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        item = items[0]
        return self.mime_for(
            int(item.data(Qt.ItemDataRole.UserRole)), item.data(Qt.ItemDataRole.UserRole + 1)
        )

    def startDrag(self, supported_actions) -> None:  # noqa: N802
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.exec(Qt.DropAction.CopyAction)


class ApiLibraryPanel(QWidget):
    """The dock's widget. Works on its own database services; "Send" needs a running asyncio loop."""

    status_message = Signal(str)
    library_changed = Signal()
    response_shown = Signal(object)  # TrialResult

    def __init__(self, db: Database, parent: QWidget | None = None, *, secrets: SecretService | None = None):
        super().__init__(parent)
        self.setObjectName("apiLibraryPanel")
        self.db = db
        self.apis = ApiService(db)
        self.envs = EnvironmentService(db)
        self.secrets = secrets or SecretService(db)
        self.library = ApiLibraryService(db, secrets=self.secrets)
        self._client: Any = None
        self._send_task: asyncio.Task | None = None

        self.search = named(QLineEdit(), "apiSearch")
        self.search.setPlaceholderText("Search name, URL, description")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.tag_filter = named(QComboBox(), "apiTagFilter")
        self.tag_filter.currentIndexChanged.connect(self.refresh)
        self.tag_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        new_button = named(QToolButton(), "apiNew")
        new_button.setText("New")
        new_button.clicked.connect(self.new_api)
        import_button = named(QToolButton(), "apiImport")
        import_button.setText("Import")
        import_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(import_button)
        self.action_import_file = menu.addAction("From a file (OpenAPI, Swagger, Postman)…", self.import_file)
        self.action_import_curl = menu.addAction("From a curl command…", self.import_curl)
        import_button.setMenu(menu)
        env_button = named(QToolButton(), "apiEnvironments")
        env_button.setText("Environments…")
        env_button.clicked.connect(self.open_environments)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.tag_filter)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(new_button)
        actions.addWidget(import_button)
        actions.addWidget(env_button)
        actions.addStretch(1)
        self.env_label = named(QLabel(), "apiActiveEnvironment")
        actions.addWidget(self.env_label)

        self.list = named(ApiList(), "apiList")
        self.list.setDragEnabled(True)
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))  # methods line up
        self.list.setSpacing(1)

        self.form = ApiEditorForm()
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.save_button = named(QPushButton("Save"), "apiSave")
        self.save_button.clicked.connect(self.save)
        self.delete_button = named(QPushButton("Delete"), "apiDelete")
        self.delete_button.clicked.connect(self.delete_current)
        self.send_button = named(QPushButton("Send"), "apiSend")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send_current)
        self.curl_button = named(QPushButton("Copy as cURL"), "apiCopyCurl")
        self.curl_button.clicked.connect(self.copy_curl)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.curl_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.save_button)
        self.send_params = named(QLineEdit(), "apiSendParams")
        self.send_params.setPlaceholderText('Parameters for Send, JSON: {"petId": 1}')
        self.send_params.setToolTip("The {{params.*}} values used by Send (filled from the examples)")
        self.sign_in_bar = SignInBar(ApiSignIn(db, secrets=self.secrets), self.http_client)
        self.message = named(QLabel(), "apiMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        editor = QWidget()
        editor_layout = QVBoxLayout(editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(form_scroll, 1)
        editor_layout.addWidget(self.sign_in_bar)
        editor_layout.addWidget(self.message)
        params_row = QHBoxLayout()
        params_row.addWidget(QLabel("Send with params"))
        params_row.addWidget(self.send_params, 1)
        editor_layout.addLayout(params_row)
        editor_layout.addLayout(buttons)
        self.response = ResponseView()
        self.tabs = named(QTabWidget(), "apiTabs")
        self.tabs.addTab(editor, "Definition")
        self.tabs.addTab(self.response, "Response")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)
        self.refresh()

    # ------------------------------------------------------------ list
    def refresh(self, *_args: Any) -> None:
        """Reload tags, the list (keeping the selection) and the active environment's name."""
        current_id = self.current_api_id()
        every = self.apis.list_apis()
        tags = sorted({t for a in every for t in a.tags})
        wanted_tag = self.tag_filter.currentText()
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem(ALL_TAGS)
        self.tag_filter.addItems(tags)
        self.tag_filter.setCurrentIndex(max(0, self.tag_filter.findText(wanted_tag)))
        self.tag_filter.blockSignals(False)
        tag = self.tag_filter.currentText()
        shown = self.apis.list_apis(search=self.search.text() or None, tag=None if tag == ALL_TAGS else tag)
        self.list.blockSignals(True)
        self.list.clear()
        for api in shown:
            item = QListWidgetItem(f"{api.method.upper():<7} {api.name}")
            item.setData(Qt.ItemDataRole.UserRole, api.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, api.name)
            item.setToolTip(f"{api.method} {api.url}\n{api.description}\nDrag onto the canvas to call it.")
            self.list.addItem(item)
            if api.id == current_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        active = self.envs.get_active()
        self.env_label.setText(f"Environment: <b>{active.name}</b>" if active else "No active environment")

    def current_api_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_api(self, api_id: int) -> None:
        """Select the definition with this id in the list (and show it in the form)."""
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == api_id:
                self.list.setCurrentRow(i)
                return

    def _current_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        if current is None:
            return
        try:
            api = self.apis.get_api(int(current.data(Qt.ItemDataRole.UserRole)))
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return
        self.form.load(api)
        self.sign_in_bar.show_for(api)
        self.send_params.setText(
            json.dumps(example_params(api), ensure_ascii=False) if api.parameters else ""
        )
        self.message.hide()

    def _show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b3261e" if error else "color: #1b5e20")
        self.message.setText(text)
        self.message.show()
        self.status_message.emit(text)

    # ------------------------------------------------------------ editing
    def new_api(self) -> None:
        """Clear the form for a new definition."""
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.form.load(None)
        self.tabs.setCurrentIndex(0)
        self.form.name.setFocus()

    def save(self) -> ApiDefinition | None:
        """Save the form: a new definition, or changes to the selected one."""
        try:
            values = self.form.values()
            if self.form.api is None or self.form.api.id is None:
                api = self.apis.create_api(**values)
            else:
                api = self.apis.update_api(self.form.api.id, **values)
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return None
        self.form.api = api
        self.refresh()
        if api.id is not None:
            self.select_api(api.id)
        self._show_message(f"Saved '{api.name}'.")
        self.library_changed.emit()
        return api

    def delete_current(self) -> None:
        """Delete the selected definition (refused, with the workflows, while nodes use it)."""
        api_id = self.current_api_id()
        if api_id is None:
            return
        try:
            self.apis.delete_api(api_id)
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return
        self.form.load(None)
        self.refresh()
        self._show_message("Deleted.")
        self.library_changed.emit()

    # ------------------------------------------------------------ import
    def import_file(self, path: str | None = None) -> ApiImportReport | None:
        """Pick a spec or collection, preview it, import the checked definitions."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import APIs", "", "API specs (*.json *.yaml *.yml);;All files (*)"
            )
            if not path:
                return None
        try:
            plan = self.library.plan_spec(Path(path).read_bytes(), source_name=Path(path).name)
        except OSError as err:
            self._show_message(f"Cannot read {path}: {err.strerror or err}.", error=True)
            return None
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return None
        return self.preview(plan)

    def import_curl(self, command: str | None = None) -> ApiImportReport | None:
        """Paste a curl command, preview it, import it."""
        if command is None:
            from .import_dialog import CurlInputDialog

            dialog = CurlInputDialog(self)
            if dialog.exec() != CurlInputDialog.DialogCode.Accepted:
                return None
            command = dialog.text.toPlainText()
        try:
            plan = self.library.plan_curl(command)
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return None
        return self.preview(plan)

    def make_import_dialog(self, plan: ApiImportPlan):
        """The preview dialog for `plan` (tests drive it before it is shown)."""
        from .import_dialog import ApiImportDialog

        return ApiImportDialog(self.library, plan, self)

    def preview(self, plan: ApiImportPlan) -> ApiImportReport | None:
        """Show the preview; the checked definitions are written when the user presses Import."""
        dialog = self.make_import_dialog(plan)
        self.last_import_dialog = dialog
        if dialog.exec() != dialog.DialogCode.Accepted or dialog.report is None:
            return None
        self.after_import(dialog.report)
        return dialog.report

    def after_import(self, report: ApiImportReport) -> None:
        """Refresh and say what the import did."""
        self.refresh()
        self._show_message(
            f"Imported: {len(report.added)} added, {len(report.updated)} updated, {len(report.skipped)} skipped."
        )
        self.library_changed.emit()

    def open_environments(self) -> None:
        from .environments_dialog import EnvironmentsDialog

        dialog = EnvironmentsDialog(self.envs, self.secrets, self)
        self.last_environments_dialog = dialog
        dialog.finished.connect(lambda _r: self.refresh())
        dialog.open()

    # ------------------------------------------------------------ send / cURL
    def _form_api(self) -> ApiDefinition | None:
        try:
            values = self.form.values()
            base = self.form.api.model_dump() if self.form.api is not None else {}
            return ApiDefinition.model_validate({**base, **values})
        except (FlowdeskError, ValueError) as err:
            self._show_message(str(err).splitlines()[0], error=True)
            return None

    def copy_curl(self) -> str | None:
        """Copy the form's request as a bash curl command (env filled in, secrets left as references)."""
        api = self._form_api()
        if api is None:
            return None
        active = self.envs.get_active()
        text = to_curl(api, resolved={"env": active.variables} if active else None)
        QApplication.clipboard().setText(text)
        self._show_message("Copied as cURL (secrets are left as {{secrets.*}}).")
        return text

    def send_current(self) -> asyncio.Task | None:
        """Send the form's request once with the active environment and the secrets; show the response."""
        api = self._form_api()
        if api is None:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self._show_message("Sending needs the app's event loop (qasync).", error=True)
            return None
        try:
            params = self._send_params()
            active = self.envs.get_active()
            secrets = self.secrets.resolve_all()
        except FlowdeskError as err:
            self._show_message(str(err), error=True)
            return None
        self.response.show_sending(api.method, api.name)
        self.tabs.setCurrentWidget(self.response)
        self.send_button.setEnabled(False)
        self._send_task = loop.create_task(
            self._send(api, active.variables if active else {}, secrets, params)
        )
        return self._send_task

    def _send_params(self) -> dict[str, Any]:
        from flowdesk.domain.errors import InvalidInputError

        text = self.send_params.text().strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInputError(
                f"Parameters for Send: not valid JSON at column {err.colno} ({err.msg})."
            ) from None
        if not isinstance(value, dict):
            raise InvalidInputError("Parameters for Send: must be a JSON object of names to values.")
        return value

    async def _send(
        self,
        api: ApiDefinition,
        env: dict[str, str],
        secrets: dict[str, str],
        params: dict[str, Any] | None = None,
    ) -> TrialResult:
        try:
            result = await send_trial(
                self.http_client(), api, environment=env, secrets=secrets, params=params
            )
        except Exception as err:  # noqa: BLE001 - shown in the dock, logged with the traceback
            log.exception("trial request failed")
            result = TrialResult(method=api.method, error=f"{type(err).__name__}: could not send")
        finally:
            self.send_button.setEnabled(True)
        self.response.show_result(result)
        self.response_shown.emit(result)
        return result

    def http_client(self) -> Any:
        """The HttpClient of "Send" and "Sign in" (made on first use; it uses this database's sign-ins)."""
        if self._client is None:
            from flowdesk.engine.http import HttpClient

            self._client = HttpClient(max_connections=4)
            self._client.user_tokens.store = self.sign_in_bar.sign_ins.store
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client of "Send"."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def install_api_library(window: Any, db: Database | None = None) -> QDockWidget:
    """Add the API library dock (objectName dockApiLibrary) to a MainWindow; returns the dock.

    The panel (`window.api_library`) is made when the dock is first shown or the attribute first
    read: in the default layout the dock is a tab behind the inspector, and the panel's list,
    editor and queries are not worth making before the window first paints.
    """
    database = db if db is not None else window.backend.db

    def build() -> ApiLibraryPanel:
        panel = ApiLibraryPanel(database, window)
        panel.status_message.connect(window.show_status)
        reload_types = getattr(window, "reload_node_types", None)
        if reload_types is not None:  # an `api:NAME` handler may name what was added or removed
            panel.library_changed.connect(reload_types)
        return panel

    dock = window.add_dock_built_when_shown(
        "dockApiLibrary", "API library", Qt.DockWidgetArea.RightDockWidgetArea, "api_library", build
    )
    window.dock_api_library = dock
    return dock


__all__ = ["API_MIME", "ApiLibraryPanel", "install_api_library"]
