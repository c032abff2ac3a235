"""The API_CALL form's "Cache" section: the node's `cache` option (docs/semantics.md §2.12).

A TTL of 0 ("the API's") removes the node's option, so its API definition's applies; any other
value writes `{"ttl": N, ...}` with the checked settings. Methods and varying headers are lists typed
as text ("GET, HEAD"; commas or spaces between them).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from flowdesk.domain.response_cache import DEFAULT_METHODS, MAX_TTL

from .request_sections import plain_number


def _words(text: str) -> list[str]:
    return text.replace(",", " ").split()


class CacheEditor(QWidget):
    """The node's response cache: TTL, kept across runs, secrets, methods, varying headers."""

    edited = Signal(dict)  # partial config: {"cache": {...} or None}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ttl = QDoubleSpinBox(self)
        self.ttl.setObjectName("cacheTtl")
        self.ttl.setRange(0, MAX_TTL)
        self.ttl.setDecimals(1)
        self.ttl.setSuffix(" s")
        self.ttl.setSpecialValueText("the API's")
        self.ttl.setToolTip(
            "seconds a successful answer is served from the cache; 0: the API definition's cache"
        )
        self.persist = QCheckBox("Keep across runs (in the database)", self)
        self.persist.setObjectName("cachePersist")
        self.secrets = QCheckBox("Also cache requests that carry a secret", self)
        self.secrets.setObjectName("cacheSecrets")
        self.methods = QLineEdit(self)
        self.methods.setObjectName("cacheMethods")
        self.methods.setPlaceholderText(", ".join(DEFAULT_METHODS))
        self.vary = QLineEdit(self)
        self.vary.setObjectName("cacheVary")
        self.vary.setPlaceholderText("header names in the key, e.g. Accept-Language")
        form = QFormLayout()
        form.addRow("Cache for", self.ttl)
        form.addRow("", self.persist)
        form.addRow("", self.secrets)
        form.addRow("Methods", self.methods)
        form.addRow("Vary on", self.vary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 4)
        layout.addLayout(form)
        self.ttl.editingFinished.connect(self._commit)
        self.persist.toggled.connect(lambda _on: self._commit())
        self.secrets.toggled.connect(lambda _on: self._commit())
        self.methods.editingFinished.connect(self._commit)
        self.vary.editingFinished.connect(self._commit)

    def load(self, value: Any) -> None:
        option = value if isinstance(value, dict) else {}
        ttl = option.get("ttl")
        widgets = (self.ttl, self.persist, self.secrets, self.methods, self.vary)
        for widget in widgets:
            widget.blockSignals(True)
        self.ttl.setValue(float(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool) else 0.0)
        self.persist.setChecked(option.get("persist") is True)
        self.secrets.setChecked(option.get("secrets") is True)
        methods = option.get("methods")
        self.methods.setText(", ".join(map(str, methods)) if isinstance(methods, list) else "")
        vary = option.get("vary")
        self.vary.setText(", ".join(map(str, vary)) if isinstance(vary, list) else "")
        for widget in widgets:
            widget.blockSignals(False)

    def option(self) -> dict[str, Any] | None:
        """The `cache` option the fields say, or None (the API's)."""
        if self.ttl.value() <= 0:
            return None
        option: dict[str, Any] = {"ttl": plain_number(self.ttl.value())}
        if self.persist.isChecked():
            option["persist"] = True
        if self.secrets.isChecked():
            option["secrets"] = True
        methods = _words(self.methods.text())
        if methods:
            option["methods"] = [m.upper() for m in methods]
        vary = _words(self.vary.text())
        if vary:
            option["vary"] = vary
        return option

    def summary(self) -> str:
        """What the folded section's title says."""
        option = self.option()
        if option is None:
            return ""
        return f"{option['ttl']:g} s" + (", kept across runs" if option.get("persist") else "")

    def _commit(self) -> None:
        self.edited.emit({"cache": self.option()})
