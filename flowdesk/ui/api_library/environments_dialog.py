"""Environments (variables, the active one) and secrets (names only; values shown masked, never read back)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.errors import FlowdeskError
from flowdesk.engine.http.settings import ENVIRONMENT_PREFIX
from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService
from flowdesk.ui.widgets import named

MASKED = "••••••••"


PROXY_VARIABLE = ENVIRONMENT_PREFIX + "proxy"


class EnvironmentsDialog(QDialog):
    """Edit environment variables, choose the active environment, set and delete secrets."""

    def __init__(
        self, envs: EnvironmentService, secrets: SecretService, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("environmentsDialog")
        self.setWindowTitle("Environments and secrets")
        self.envs = envs
        self.secrets = secrets
        self.env_combo = named(QComboBox(), "envCombo")
        self.env_combo.currentTextChanged.connect(self._show_env)
        new_env = QPushButton("New…")
        new_env.clicked.connect(self._new_env)
        self.activate_button = named(QPushButton("Make active"), "envActivate")
        self.activate_button.clicked.connect(self._activate)
        top = QHBoxLayout()
        top.addWidget(QLabel("Environment:"))
        top.addWidget(self.env_combo, 1)
        top.addWidget(new_env)
        top.addWidget(self.activate_button)
        # The environment's proxy is its `http.proxy` variable (docs/http.md), edited here on its own.
        self.proxy = named(QLineEdit(), "envProxy")
        self.proxy.setPlaceholderText(
            "http://user:{{secrets.proxy_password}}@proxy.example:3128 (empty: HTTP_PROXY / HTTPS_PROXY)"
        )
        proxy_row = QHBoxLayout()
        proxy_row.addWidget(QLabel("Proxy:"))
        proxy_row.addWidget(self.proxy, 1)
        self.variables = named(QTableWidget(0, 2), "envVariables")
        self.variables.setHorizontalHeaderLabels(["Variable", "Value"])
        self.variables.horizontalHeader().setStretchLastSection(True)
        add_var = QPushButton("Add variable")
        add_var.clicked.connect(lambda: self.variables.insertRow(self.variables.rowCount()))
        save_vars = named(QPushButton("Save variables"), "envSave")
        save_vars.clicked.connect(self.save_variables)
        var_buttons = QHBoxLayout()
        var_buttons.addStretch(1)
        var_buttons.addWidget(add_var)
        var_buttons.addWidget(save_vars)
        env_box = QGroupBox("Variables ({{env.NAME}})")
        env_layout = QVBoxLayout(env_box)
        env_layout.addLayout(top)
        env_layout.addLayout(proxy_row)
        env_layout.addWidget(self.variables)
        env_layout.addLayout(var_buttons)

        self.secret_table = named(QTableWidget(0, 2), "secretTable")
        self.secret_table.setHorizontalHeaderLabels(["Secret", "Value"])
        self.secret_table.horizontalHeader().setStretchLastSection(True)
        self.secret_name = named(QLineEdit(), "secretName")
        self.secret_name.setPlaceholderText("name")
        self.secret_value = named(QLineEdit(), "secretValue")
        self.secret_value.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_value.setPlaceholderText("value (hidden)")
        set_secret = named(QPushButton("Set"), "secretSet")
        set_secret.clicked.connect(self.set_secret)
        delete_secret = named(QPushButton("Delete selected"), "secretDelete")
        delete_secret.clicked.connect(self._delete_secret)
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret_name, 1)
        secret_row.addWidget(self.secret_value, 2)
        secret_row.addWidget(set_secret)
        secret_row.addWidget(delete_secret)
        where = QLabel(f"Stored encrypted in the database; the key is in {secrets.keys.location}.")
        where.setWordWrap(True)
        where.setObjectName("secretKeyLocation")
        secret_box = QGroupBox("Secrets ({{secrets.NAME}})")
        secret_layout = QVBoxLayout(secret_box)
        secret_layout.addWidget(self.secret_table)
        secret_layout.addLayout(secret_row)
        secret_layout.addWidget(where)

        self.error = named(QLabel(), "envError")
        self.error.setStyleSheet("color: #b3261e")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(env_box, 1)
        layout.addWidget(secret_box, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, 560)
        self.refresh()

    def _fail(self, err: FlowdeskError) -> None:
        self.error.setText(str(err))
        self.error.show()

    def refresh(self) -> None:
        """Reload environments and secret names."""
        current = self.env_combo.currentText()
        envs = self.envs.list_environments()
        self.env_combo.blockSignals(True)
        self.env_combo.clear()
        for env in envs:
            self.env_combo.addItem(env.name + (" (active)" if env.is_active else ""), env.name)
        names = [e.name for e in envs]
        active = next((e.name for e in envs if e.is_active), None)
        pick = current.removesuffix(" (active)") if current.removesuffix(" (active)") in names else active
        if pick in names:
            self.env_combo.setCurrentIndex(names.index(pick))
        self.env_combo.blockSignals(False)
        self._show_env()
        names = self.secrets.list_secret_names()
        self.secret_table.setRowCount(len(names))
        for row, name in enumerate(names):
            self.secret_table.setItem(row, 0, QTableWidgetItem(name))
            self.secret_table.setItem(row, 1, QTableWidgetItem(MASKED))

    def current_env(self) -> str | None:
        return self.env_combo.currentData()

    def _show_env(self, *_args) -> None:
        name = self.current_env()
        variables = dict(self.envs.get_environment(name).variables) if name else {}
        self.proxy.setText(variables.pop(PROXY_VARIABLE, ""))
        self.variables.setRowCount(len(variables))
        for row, (k, v) in enumerate(sorted(variables.items())):
            self.variables.setItem(row, 0, QTableWidgetItem(k))
            self.variables.setItem(row, 1, QTableWidgetItem(v))

    def _new_env(self) -> None:
        name, ok = QInputDialog.getText(self, "New environment", "Name:")
        if ok and name.strip():
            try:
                self.envs.create_environment(name.strip())
            except FlowdeskError as err:
                self._fail(err)
                return
            self.refresh()
            self.env_combo.setCurrentIndex(self.env_combo.findData(name.strip()))

    def _activate(self) -> None:
        env = self.current_env()
        if env:
            self.envs.activate(env)
            self.refresh()

    def save_variables(self) -> None:
        """Replace the environment's variables with the table's rows."""
        name = self.current_env()
        if not name:
            return
        values = {}
        for row in range(self.variables.rowCount()):
            key_item, value_item = self.variables.item(row, 0), self.variables.item(row, 1)
            key = key_item.text().strip() if key_item else ""
            if key:
                values[key] = value_item.text() if value_item else ""
        if self.proxy.text().strip():
            values[PROXY_VARIABLE] = self.proxy.text().strip()
        try:
            self.envs.set_variables(name, values, replace=True)
        except FlowdeskError as err:
            self._fail(err)
            return
        self.error.hide()

    def set_secret(self) -> None:
        """Store the typed secret (encrypted) and clear the value field."""
        try:
            self.secrets.set_secret(self.secret_name.text().strip(), self.secret_value.text())
        except FlowdeskError as err:
            self._fail(err)
            return
        self.secret_value.clear()
        self.secret_name.clear()
        self.error.hide()
        self.refresh()

    def _delete_secret(self) -> None:
        row = self.secret_table.currentRow()
        item = self.secret_table.item(row, 0) if row >= 0 else None
        if item is not None:
            self.secrets.delete_secret(item.text())
            self.refresh()
