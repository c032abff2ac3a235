"""Small widget helpers shared across the ui package."""

from __future__ import annotations

from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QTableWidget, QTreeWidgetItem

ObjectT = TypeVar("ObjectT", bound=QObject)


def named(obj: ObjectT, name: str) -> ObjectT:
    """`obj` with its objectName set to `name` (the name tests and style sheets find it by)."""
    obj.setObjectName(name)
    return obj


def set_number(spin: QSpinBox | QDoubleSpinBox, value: object, default: float = 0) -> None:
    """Show `value` in `spin` when it is a number (not a bool), else `default`; a QSpinBox drops the
    fraction as Qt does."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else default
    if isinstance(spin, QSpinBox):
        spin.setValue(int(number))
    else:
        spin.setValue(float(number))


def row_data(table: QTableWidget, row: int, column: int = 0) -> Any:
    """What the cell at (row, column) holds under Qt.ItemDataRole.UserRole (None for an empty cell)."""
    item = table.item(row, column)
    return None if item is None else item.data(Qt.ItemDataRole.UserRole)


def tree_children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """The child rows of `item` in order (a tree's top-level rows: its invisibleRootItem()'s)."""
    rows = (item.child(i) for i in range(item.childCount()))
    return [row for row in rows if row is not None]
