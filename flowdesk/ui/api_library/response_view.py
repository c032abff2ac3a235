"""The response of a trial request: status, time, headers and the body as a JSON tree (or text)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .trial_request import TrialResult

MAX_TREE_ITEMS = 5000
JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string"}


def _short(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)[:300]
    return json.dumps(value, ensure_ascii=False, default=str)[:300]


def fill_json_tree(tree: QTreeWidget, data: Any) -> int:
    """Show `data` as an expandable tree (key, value, type); returns how many items were made."""
    tree.clear()
    count = 0

    def add(parent: Any, key: str, value: Any) -> None:
        nonlocal count
        if count >= MAX_TREE_ITEMS:
            return
        count += 1
        if isinstance(value, dict):
            item = QTreeWidgetItem(parent, [key, f"{{{len(value)}}}", "object"])
            for k, v in value.items():
                add(item, str(k), v)
        elif isinstance(value, list):
            item = QTreeWidgetItem(parent, [key, f"[{len(value)}]", "array"])
            for i, v in enumerate(value):
                add(item, str(i), v)
        else:
            kind = JSON_TYPES.get(type(value), type(value).__name__)
            QTreeWidgetItem(parent, [key, _short(value), kind])

    if isinstance(data, dict):
        for k, v in data.items():
            add(tree, str(k), v)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            add(tree, str(i), v)
    elif data is not None:
        add(tree, "value", data)
    tree.expandToDepth(1)
    tree.resizeColumnToContents(0)
    tree.resizeColumnToContents(1)
    tree.setColumnWidth(1, min(tree.columnWidth(1), 360))
    return count


class ResponseView(QWidget):
    """Status line plus tabs: Body (JSON tree), Raw, Headers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status_label = QLabel("Press Send to try the request with the active environment.")
        self.status_label.setObjectName("apiResponseStatus")
        self.status_label.setWordWrap(True)
        self.body_tree = QTreeWidget()
        self.body_tree.setObjectName("apiResponseTree")
        self.body_tree.setHeaderLabels(["Key", "Value", "Type"])
        self.body_tree.setColumnWidth(0, 160)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("apiResponseRaw")
        self.raw.setReadOnly(True)
        self.headers = QTreeWidget()
        self.headers.setObjectName("apiResponseHeaders")
        self.headers.setHeaderLabels(["Header", "Value"])
        self.headers.setRootIsDecorated(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.body_tree, "Body")
        self.tabs.addTab(self.raw, "Raw")
        self.tabs.addTab(self.headers, "Headers")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.tabs, 1)

    def show_sending(self, method: str, name: str) -> None:
        self.status_label.setText(f"Sending {method} '{name}'…")

    def show_result(self, result: TrialResult) -> None:
        """Fill the view from a trial result (secrets are already masked in it)."""
        self.headers.clear()
        self.raw.setPlainText(result.text)
        if result.error:
            self.status_label.setText(f"<span style='color:#b3261e'>Failed: {result.error}</span>")
            fill_json_tree(self.body_tree, None)
            return
        color = "#1b7f3b" if result.ok else "#b3261e"
        self.status_label.setText(
            f"<b style='color:{color}'>{result.status} {result.reason}</b> &nbsp; "
            f"{result.elapsed_ms:.0f} ms &nbsp; {result.method} {result.url}"
        )
        for k, v in result.headers.items():
            QTreeWidgetItem(self.headers, [k, str(v)])
        self.headers.resizeColumnToContents(0)
        if isinstance(result.data, dict | list):
            fill_json_tree(self.body_tree, result.data)
            self.tabs.setCurrentWidget(self.body_tree)
        else:
            fill_json_tree(self.body_tree, None)
            self.tabs.setCurrentWidget(self.raw)
