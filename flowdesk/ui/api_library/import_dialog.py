"""The import preview: one checkbox per definition (added / updated / unchanged), problems, then apply."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.services.api_library import ApiImportPlan, ApiImportReport, ApiLibraryService
from flowdesk.ui.widgets import named, tree_children

ACTION_WORDS = {"add": "new", "update": "update", "skip": "unchanged"}


class CurlInputDialog(QDialog):
    """Paste a curl command (as copied from a browser's devtools)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a curl command")
        self.text = named(QPlainTextEdit(), "curlText")
        self.text.setPlaceholderText("curl 'https://api.example.com/v1/users' -H 'accept: application/json'")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Paste a curl command (bash form; quoted across lines is fine):"))
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(620, 260)


class ApiImportDialog(QDialog):
    """Shows an ApiImportPlan with checkboxes; Import applies the checked ones in one transaction."""

    def __init__(
        self, service: ApiLibraryService, plan: ApiImportPlan, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("apiImportDialog")
        self.service = service
        self.plan = plan
        self.report: ApiImportReport | None = None
        counts = plan.counts()
        title = plan.result.title or plan.source_name or plan.format
        self.setWindowTitle(f"Import {title}")
        summary = QLabel(
            f"<b>{title}</b> ({plan.format}): {counts['add']} new, {counts['update']} to update, "
            f"{counts['skip']} unchanged. Nothing is written until you press Import."
        )
        summary.setWordWrap(True)
        self.tree = named(QTreeWidget(), "apiImportItems")
        self.tree.setHeaderLabels(["Definition", "Method", "URL", "What happens"])
        self.tree.setRootIsDecorated(False)
        for item in plan.items:
            row = QTreeWidgetItem(
                [
                    item.name,
                    item.definition.method,
                    item.definition.url,
                    f"{ACTION_WORDS[item.action]}: {item.reason}",
                ]
            )
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = item.action != "skip"
            row.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            row.setData(0, Qt.ItemDataRole.UserRole, item.index)
            self.tree.addTopLevelItem(row)
        for col in range(4):
            self.tree.resizeColumnToContents(col)
        self.problems = named(QListWidget(), "apiImportProblems")
        for problem in plan.result.problems:
            self.problems.addItem(f"⚠ {problem}")
        for note in plan.result.notes:
            self.problems.addItem(f"ℹ {note}")
        if plan.result.environment:
            self.problems.addItem(
                "Variables for the environment: "
                + ", ".join(f"{k} = {v}" for k, v in plan.result.environment.items())
            )
        if plan.result.secrets:
            self.problems.addItem(
                "Secrets found (stored encrypted): " + ", ".join(sorted(plan.result.secrets))
            )
        self.problems.setVisible(self.problems.count() > 0)
        self.environment = named(QLineEdit("default"), "apiImportEnvironment")
        env_row = QHBoxLayout()
        env_row.addWidget(QLabel("Environment for the variables:"))
        env_row.addWidget(self.environment, 1)
        all_button = QPushButton("Check all")
        none_button = QPushButton("Check none")
        all_button.clicked.connect(lambda: self._check_all(True))
        none_button.clicked.connect(lambda: self._check_all(False))
        env_row.addWidget(all_button)
        env_row.addWidget(none_button)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("apiImportApply")
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.error = named(QLabel(), "apiImportError")
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.tree, 3)
        layout.addWidget(self.problems, 1)
        layout.addLayout(env_row)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(860, 520)

    def _check_all(self, on: bool) -> None:
        for row in self._rows():
            row.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _rows(self) -> list[QTreeWidgetItem]:
        return tree_children(self.tree.invisibleRootItem())

    def selected_indexes(self) -> list[int]:
        """The plan indexes whose boxes are checked."""
        out = []
        for row in self._rows():
            if row.checkState(0) == Qt.CheckState.Checked:
                out.append(int(row.data(0, Qt.ItemDataRole.UserRole)))
        return out

    def apply(self) -> None:
        """Write the checked definitions (one transaction); the dialog closes on success."""
        from flowdesk.domain.errors import FlowdeskError

        try:
            self.report = self.service.apply(
                self.plan,
                selected=self.selected_indexes(),
                environment=self.environment.text().strip() or "default",
            )
        except FlowdeskError as err:
            self.error.setText(str(err))
            self.error.show()
            return
        self.accept()
