"""The data inspector: a node's resolved input, output and response (status, headers, body) as a
collapsible JSON tree during or after a run, with copy-value and copy-path (`{{node.path}}`);
a failed node shows its message and attempt history."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.enums import StepStatus
from flowdesk.ui.widgets import tree_children

from .overlays import STATUS_COLORS, WARNING_MARK, badge_text
from .run_state import NodeRun, RunState

CHILD_CAP = 200  # children shown per object/list (the rest summarised in one row)
_IDENT = re.compile(r"^[A-Za-z_\u00a0-\uffff][\w\u00a0-\uffff]*$")
PATH_ROLE = Qt.ItemDataRole.UserRole
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1

StepLoader = Callable[[int, str], Any]  # (execution id, node name) -> ExecutionLog | None


def reference_path(node: str, path: tuple[Any, ...]) -> str:
    """`{{login.response.data.items[0]}}`; names that are not identifiers use `nodes["…"]` / `["…"]`."""
    text = node if _IDENT.match(node) else f"nodes[{json.dumps(node, ensure_ascii=False)}]"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENT.match(str(part)):
            text += f".{part}"
        else:
            text += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return "{{" + text + "}}"


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{…}} {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"[…] {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if len(value) < 400 else json.dumps(value[:400]) + "…"
    return json.dumps(value, ensure_ascii=False, default=str)


class DataInspector(QWidget):
    """Shows one node of one RunState."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataInspector")
        self.state: RunState | None = None
        self.node_name: str | None = None
        self.loader: StepLoader | None = None

        self.title = QLabel("Click a node after (or during) a run to see its data.", self)
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.error = self._notice("inspectorError", "#a50e0e", "#fce8e6", "#f4c7c3")
        self.warnings = self._notice("inspectorWarnings", "#7a4d00", "#fef7e0", "#f9e2a6")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("inspectorTree")
        self.tree.setHeaderLabels(["Key", "Value"])
        self.tree.setColumnWidth(0, 170)
        self.tree.setUniformRowHeights(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.copy_value_button = QPushButton("Copy value", self)
        self.copy_value_button.setObjectName("copyValue")
        self.copy_value_button.clicked.connect(lambda: self.copy_value())
        self.copy_path_button = QPushButton("Copy path", self)
        self.copy_path_button.setObjectName("copyPath")
        self.copy_path_button.setToolTip("Copy a {{node.path}} reference to paste into a template")
        self.copy_path_button.clicked.connect(lambda: self.copy_path())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_value_button)
        buttons.addWidget(self.copy_path_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.error)
        layout.addWidget(self.warnings)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._current_changed(None)

    def _notice(self, name: str, color: str, background: str, border: str) -> QLabel:
        """A hidden, selectable, wrapping box of coloured text (the error, the warnings)."""
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet(
            f"color: {color}; background: {background}; border: 1px solid {border}; "
            "border-radius: 4px; padding: 6px;"
        )
        label.hide()
        return label

    # ------------------------------------------------------------ showing
    def show_node(
        self, state: RunState | None, node_name: str | None, loader: StepLoader | None = None
    ) -> None:
        """Show `node_name` as `state` knows it (None clears)."""
        if self.state is not None and self.state is not state:
            self.state.unfollow(self._on_change)
        if state is not None and state is not self.state:
            state.updated.connect(self._on_change)
        self.state, self.node_name, self.loader = state, node_name, loader
        self.refresh()

    def _on_change(self, change) -> None:
        if self.node_name is not None and self.node_name in change.nodes:
            self.refresh()

    def refresh(self) -> None:
        self.tree.clear()
        self.error.hide()
        self.warnings.hide()
        state, name = self.state, self.node_name
        if state is None or name is None:
            self.title.setText("Click a node after (or during) a run to see its data.")
            return
        run = state.node(name)
        if run is None:
            where = "this run" if state.live else f"execution {state.execution_id}"
            self.title.setText(f"<b>{_html(name)}</b> — has not run in {where}.")
            return
        self._load(run)
        color = STATUS_COLORS.get(run.status, STATUS_COLORS[StepStatus.RUNNING]).name()
        detail = (
            badge_text(run.status, run.duration, run.attempts, run.runs, len(run.warnings))
            if run.status != StepStatus.RUNNING
            else "▶ running"
        )
        self.title.setText(
            f"<b>{_html(name)}</b> <span style='color:#6b7280'>{_html(run.node_type)} · {_html(run.step_name)}</span>"
            f"<br><span style='color:{color}'>{_html(detail)}</span>"
            f"<span style='color:#6b7280'> · execution {state.execution_id}</span>"
        )
        if run.error:
            kind = f" ({run.error_type})" if run.error_type else ""
            self.error.setText(f"Error{kind}: {run.error}")
            self.error.show()
        if run.warnings:
            noun = "Warning" if len(run.warnings) == 1 else f"{len(run.warnings)} warnings"
            self.warnings.setText(f"{WARNING_MARK} {noun}: " + "; ".join(run.warnings))
            self.warnings.show()
        if run.input is not None:
            self._section("input", "Resolved input", run.input, expanded=False)
        output = run.output
        response = output.get("response") if isinstance(output, dict) else None
        if isinstance(response, dict):
            shown = {
                "status": response.get("status"),
                "reason": response.get("reason"),
                "headers": response.get("headers"),
                "body": response.get("data"),
            }
            self._section("response", "Response", shown, expanded=True)
        if output is not None:
            self._section("output", "Output", output, expanded=response is None)
        if run.attempt_history:
            failed = run.status == StepStatus.FAILED
            self._section("attempts", "Attempts", run.attempt_history, expanded=failed)

    def _load(self, run: NodeRun) -> None:
        """Fill the resolved input and attempt history from the step row (once it is written)."""
        if run.loaded or self.loader is None or self.state is None or self.state.execution_id is None:
            return
        if run.status == StepStatus.RUNNING:
            return
        try:
            row = self.loader(self.state.execution_id, run.name)
        except Exception:  # the inspector is a view: a failed read leaves the live data shown
            row = None
        if row is None:
            return
        run.input = row.input_data
        run.attempt_history = list((row.metrics or {}).get("attempts") or [])
        if row.warnings and not run.warnings:
            run.warnings = list(row.warnings)
        if run.output is None:
            run.output = row.output_data
        run.loaded = True

    def _section(self, section: str, label: str, value: Any, *, expanded: bool) -> QTreeWidgetItem:
        top = QTreeWidgetItem(self.tree, [label, _summary(value) if isinstance(value, (dict, list)) else ""])
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        top.setData(0, PATH_ROLE, (section, ()))
        top.setData(0, VALUE_ROLE, value)
        self._fill(top, section, (), value)
        top.setExpanded(expanded)
        if expanded:
            for child in tree_children(top)[:12]:
                if child.childCount() and child.childCount() < 12:
                    child.setExpanded(True)
        return top

    def _fill(self, parent: QTreeWidgetItem, section: str, path: tuple[Any, ...], value: Any) -> None:
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            if not path:
                parent.setText(1, _summary(value))
            return
        for key, child_value in items[:CHILD_CAP]:
            label = f"[{key}]" if isinstance(key, int) else str(key)
            item = QTreeWidgetItem(parent, [label, _summary(child_value)])
            item.setData(0, PATH_ROLE, (section, (*path, key)))
            item.setData(0, VALUE_ROLE, child_value)
            if isinstance(child_value, (dict, list)):
                self._fill(item, section, (*path, key), child_value)
        if len(items) > CHILD_CAP:
            QTreeWidgetItem(parent, ["…", f"{len(items) - CHILD_CAP} more not shown"])

    # ------------------------------------------------------------ copying
    def item_at_path(self, section: str, path: tuple[Any, ...]) -> QTreeWidgetItem | None:
        """The tree row of (section, path), e.g. ("response", ("body", "id"))."""
        for top in tree_children(self.tree.invisibleRootItem()):
            if top.data(0, PATH_ROLE)[0] != section:
                continue
            item = top
            for key in path:
                label = f"[{key}]" if isinstance(key, int) else str(key)
                found = next((child for child in tree_children(item) if child.text(0) == label), None)
                if found is None:
                    return None
                item = found
            return item
        return None

    def path_reference(self, item: QTreeWidgetItem | None) -> str | None:
        """The `{{node.path}}` reference of a row (None for input and attempt rows)."""
        if item is None or self.node_name is None or item.data(0, PATH_ROLE) is None:
            return None
        section, path = item.data(0, PATH_ROLE)
        if section == "output":
            return reference_path(self.node_name, tuple(path))
        if section == "response":
            mapped = tuple(path)
            if mapped and mapped[0] == "body":
                mapped = ("data", *mapped[1:])
            return reference_path(self.node_name, ("response", *mapped))
        return None

    def copy_value(self, item: QTreeWidgetItem | None = None) -> str | None:
        item = item or self.tree.currentItem()
        if item is None or item.data(0, PATH_ROLE) is None:
            return None
        value = item.data(0, VALUE_ROLE)
        text = (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, default=str)
        )
        QGuiApplication.clipboard().setText(text)
        return text

    def copy_path(self, item: QTreeWidgetItem | None = None) -> str | None:
        text = self.path_reference(item or self.tree.currentItem())
        if text is not None:
            QGuiApplication.clipboard().setText(text)
        return text

    def _current_changed(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        self.copy_value_button.setEnabled(item is not None and item.data(0, PATH_ROLE) is not None)
        self.copy_path_button.setEnabled(self.path_reference(item) is not None)

    def _menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Copy value").triggered.connect(lambda: self.copy_value(item))
        ref = self.path_reference(item)
        action = menu.addAction(f"Copy path  {ref}" if ref else "Copy path")
        action.setEnabled(ref is not None)
        action.triggered.connect(lambda: self.copy_path(item))
        menu.popup(self.tree.viewport().mapToGlobal(pos))


def _html(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
