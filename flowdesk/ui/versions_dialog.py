"""VersionsDialog: save a version with a note, browse the history, see a diff, restore."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flowdesk.services.versions import VersionDiff


def diff_text(diff: VersionDiff) -> str:
    """A readable multi-line account of a VersionDiff."""
    lines = [f"{diff.from_label or 'before'} → {diff.to_label or 'after'}: {diff.summary()}", ""]
    for c in diff.workflow_changes:
        lines.append(f"~ workflow {c.field}: {c.before!r} → {c.after!r}")
    lines += [f"+ node {n}" for n in diff.nodes_added]
    lines += [f"- node {n}" for n in diff.nodes_removed]
    for nd in diff.nodes_changed:
        for c in nd.changes:
            lines.append(f"~ node {nd.name} {c.field}: {c.before!r} → {c.after!r}")
    lines += [f"+ connection {c}" for c in diff.connections_added]
    lines += [f"- connection {c}" for c in diff.connections_removed]
    for cd in diff.connections_changed:
        for c in cd.changes:
            lines.append(f"~ connection {cd.from_node} -> {cd.to_node} {c.field}: {c.before!r} → {c.after!r}")
    return "\n".join(lines)


class VersionsDialog(QDialog):
    """History of one workflow. Saving a version saves the editor first (the caller's `save_first`)."""

    restored = Signal()

    def __init__(self, backend, workflow_id: int, save_first, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versionsDialog")
        self.setWindowTitle("Versions")
        self.resize(760, 480)
        self.backend, self.workflow_id, self.save_first = backend, workflow_id, save_first
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("What changed in this version (optional)")
        self.save_button = QPushButton("Save version", self)
        top = QHBoxLayout()
        top.addWidget(self.note, 1)
        top.addWidget(self.save_button)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.diff = QPlainTextEdit(self)
        self.diff.setReadOnly(True)
        self.diff.setPlaceholderText(
            "Select one version to compare it with the current workflow, or two to compare them."
        )
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.diff)
        split.setSizes([260, 500])
        self.restore_button = QPushButton("Restore selected", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("History", self))
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.save_button.clicked.connect(self.save_version)
        self.list.itemSelectionChanged.connect(self.show_diff)
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for v in reversed(self.backend.versions.list_versions(self.workflow_id)):
            when = v.created_at.strftime("%Y-%m-%d %H:%M") if v.created_at else ""
            item = QListWidgetItem(f"{v.label}  ·  {when}" + (f"\n{v.note}" if v.note else ""))
            item.setData(Qt.ItemDataRole.UserRole, v.id)
            self.list.addItem(item)

    def selected_ids(self) -> list[int]:
        return [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]

    def save_version(self) -> int:
        self.save_first()
        version = self.backend.versions.save_version(self.workflow_id, note=self.note.text().strip())
        self.note.clear()
        self.refresh()
        return version.id

    def show_diff(self) -> str:
        ids = self.selected_ids()
        if len(ids) == 1:
            text = diff_text(self.backend.versions.diff_with_current(ids[0]))
        elif len(ids) == 2:
            a, b = sorted(ids)
            text = diff_text(self.backend.versions.diff_versions(a, b))
        else:
            text = ""
        self.diff.setPlainText(text)
        return text

    def restore_selected(self, *, confirm: bool = True) -> bool:
        ids = self.selected_ids()
        if len(ids) != 1:
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                "Restore version",
                "Make the workflow what this version was? The current state is kept as a version first.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.save_first()
        self.backend.versions.restore_version(ids[0])
        self.refresh()
        self.restored.emit()
        return True
