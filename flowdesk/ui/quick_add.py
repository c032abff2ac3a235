"""QuickAddPopup: the search box a double-click on the canvas opens to add a node by typing."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from flowdesk.domain.node_descriptors import describe

from .palette import node_type_icon, type_tooltip


class QuickAddPopup(QFrame):
    """A small popup: type to filter node types, Enter or click to add."""

    chosen = Signal(str)

    def __init__(
        self, node_types: list[str], parent: QWidget | None = None, known: dict | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add node…")
        self.list = QListWidget(self)
        for node_type in node_types:
            descriptor = describe(node_type, known)
            item = QListWidgetItem(node_type_icon(descriptor), node_type)
            item.setToolTip(type_tooltip(descriptor))
            item.setData(Qt.ItemDataRole.UserRole, node_type)
            self.list.addItem(item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(240, 260)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._accept_current)
        self.list.itemActivated.connect(self._accept)
        self.list.itemClicked.connect(self._accept)
        self._filter("")

    def popup_at(self, global_pos: QPoint) -> None:
        self.move(global_pos)
        self.show()
        self.search.setFocus()

    def _filter(self, text: str) -> None:
        needle = text.casefold().replace(" ", "_")
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hidden = needle not in item.text().casefold()
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        if first is not None:
            self.list.setCurrentItem(first)

    def _accept_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            self._accept(item)

    def _accept(self, item: QListWidgetItem) -> None:
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        self.close()
