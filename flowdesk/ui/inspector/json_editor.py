"""RawJsonEditor: any node's config as JSON text, applied only when it parses to an object."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class RawJsonEditor(QWidget):
    """Edit JSON; `applied(dict)` on Apply when valid, else the error's line and column are shown."""

    applied = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("rawJson")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error = QLabel(self)
        self.error.setObjectName("jsonError")
        self.error.setWordWrap(True)
        self.apply_button = QPushButton("Apply JSON", self)
        self.apply_button.setObjectName("applyJson")
        self.revert_button = QPushButton("Revert", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._loaded = "{}"
        self.apply_button.clicked.connect(self.apply)
        self.revert_button.clicked.connect(lambda: self.load(json.loads(self._loaded)))
        self.text.textChanged.connect(lambda: self.error.setText(""))

    def load(self, config: dict[str, Any]) -> None:
        text = json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True)
        self._loaded = text
        if self.text.toPlainText() != text:
            self.text.blockSignals(True)
            self.text.setPlainText(text)
            self.text.blockSignals(False)
        self.error.setText("")

    def apply(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.text.toPlainText())
        except json.JSONDecodeError as err:
            self.error.setText(f"✗ line {err.lineno}, column {err.colno}: {err.msg}")
            return None
        if not isinstance(value, dict):
            self.error.setText("✗ the config must be a JSON object ({...})")
            return None
        self.applied.emit(value)
        return value
