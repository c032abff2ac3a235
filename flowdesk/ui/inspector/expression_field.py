"""ExpressionField: a line edit for an expression or template that checks its syntax as you type."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from flowdesk.domain.expressions import check_expression, check_template


class ExpressionField(QWidget):
    """Shows "✓" or the first syntax error with its column under the text; `committed` on Enter/leave."""

    committed = Signal(str)

    def __init__(
        self, placeholder: str = "", *, template: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.template = template
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.status = QLabel(self)
        self.status.setObjectName("expressionStatus")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.status)
        self.edit.textChanged.connect(self.check)
        self.edit.editingFinished.connect(lambda: self.committed.emit(self.edit.text()))
        self.check(self.edit.text())

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        if self.edit.text() != text:
            self.edit.blockSignals(True)
            self.edit.setText(text)
            self.edit.blockSignals(False)
        self.check(text)

    def check(self, text: str) -> list:
        """Check the syntax now; returns the errors (empty when it parses or is empty)."""
        if not text.strip():
            self.status.setText("")
            self.status.setProperty("state", "empty")
            errors = []
        else:
            errors = check_template(text) if self.template else check_expression(text)
            if errors:
                err = errors[0]
                self.status.setText(f"✗ column {err.column}: {err.message}")
                self.status.setProperty("state", "error")
            else:
                self.status.setText("✓ valid")
                self.status.setProperty("state", "ok")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        return errors
