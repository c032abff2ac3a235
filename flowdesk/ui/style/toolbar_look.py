"""The main toolbar's look: one icon family (Material Design Icons 6, through qtawesome), a short
fixed label per button and a fixed width for each button, so nothing moves when an action's
text changes (Undo's text grows to "Undo Connect (SEQUENCE)": that goes to its tooltip and the
Edit menu, never to the toolbar)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QToolBar, QToolButton

# action objectName -> (Material Design Icons 6 name, the label under the icon)
TOOLBAR_LOOK: dict[str, tuple[str, str]] = {
    "actionNew": ("mdi6.file-plus-outline", "New"),
    "actionSave": ("mdi6.content-save-outline", "Save"),
    "actionUndo": ("mdi6.undo", "Undo"),
    "actionRedo": ("mdi6.redo", "Redo"),
    "actionImport": ("mdi6.file-import-outline", "Import"),
    "actionExport": ("mdi6.file-export-outline", "Export"),
    "actionVersions": ("mdi6.history", "Versions"),
    "actionAutoLayout": ("mdi6.sitemap-outline", "Layout"),
    "actionFitView": ("mdi6.fit-to-screen-outline", "Fit"),
    "actionRun": ("mdi6.play", "Run"),
    "actionStep": ("mdi6.debug-step-over", "Step"),
    "actionContinue": ("mdi6.step-forward", "Continue"),
    "actionPause": ("mdi6.pause", "Pause"),
    "actionStop": ("mdi6.stop", "Stop"),
    "actionToggleBreakpoint": ("mdi6.record-circle-outline", "Breakpoint"),
}
ICON_COLOR = "#3b4252"
ICON_COLOR_DISABLED = "#b4b9c2"
ICON_SIZE = QSize(20, 20)

_icons: dict[str, QIcon] = {}


def toolbar_icon(name: str) -> QIcon:
    """An icon of the toolbar's family by its qtawesome name (made once, then cached)."""
    icon = _icons.get(name)
    if icon is None:
        os.environ.setdefault("QT_API", "pyside6")  # qtawesome reaches Qt through qtpy
        import qtawesome

        icon = qtawesome.icon(name, color=ICON_COLOR, color_disabled=ICON_COLOR_DISABLED)
        _icons[name] = icon
    return icon


def dress_toolbar(toolbar: QToolBar) -> None:
    """Give the toolbar's known actions their icon and label, and each button a fixed width.

    Safe to call again after other parts add actions (the run UI adds Pause and Breakpoint)."""
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    toolbar.setIconSize(ICON_SIZE)
    buttons: list[QToolButton] = []
    for action in toolbar.actions():
        look = TOOLBAR_LOOK.get(action.objectName())
        if look is None:
            continue
        icon_name, label = look
        action.setIcon(toolbar_icon(icon_name))
        action.setIconText(label)
        button = toolbar.widgetForAction(action)
        if isinstance(button, QToolButton):
            buttons.append(button)
    for button in buttons:
        # the width of its own fixed label: set once, so a changing action text cannot move it
        button.setMinimumWidth(0)
        button.setMaximumWidth(16777215)
        button.ensurePolished()
        button.setFixedWidth(max(button.sizeHint().width(), ICON_SIZE.width() + 16))
