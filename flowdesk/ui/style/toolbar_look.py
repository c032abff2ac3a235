"""The main toolbar's look: one icon family (Material Design Icons 6, the font qtawesome ships), a
short fixed label per button and a fixed width for each button, so nothing moves when an action's
text changes (Undo's text grows to "Undo Connect (SEQUENCE)": that goes to its tooltip and the
Edit menu, never to the toolbar).

The glyphs are drawn from qtawesome's font file by a small icon engine rather than through
`import qtawesome`, which loads qtpy and every Qt module it wraps: about a second of start-up on a
busy machine for fifteen icons. When the font file is not where qtawesome keeps it, qtawesome
itself draws them.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtWidgets import QToolBar, QToolButton

# action objectName -> (Material Design Icons 6 name, the label under the icon)
TOOLBAR_LOOK: dict[str, tuple[str, str]] = {
    "actionNew": ("mdi6.file-plus-outline", "New"),
    "actionNewFromTemplate": ("mdi6.view-grid-plus-outline", "Template"),
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
_engines: list[QIconEngine] = []  # kept alive as long as their icons
_font: tuple[str, dict[str, int]] | None = None  # family, glyph name -> code point
_FONT_PREFIX = "materialdesignicons6-webfont"


class GlyphIconEngine(QIconEngine):
    """Draws one glyph of an icon font, in the normal or the disabled colour."""

    def __init__(self, family: str, char: str, color: str, disabled: str) -> None:
        super().__init__()
        self.family, self.char, self.color, self.disabled = family, char, color, disabled

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:  # noqa: ARG002
        painter.save()
        font = QFont(self.family)
        font.setPixelSize(max(1, round(rect.height() * 0.9)))
        painter.setFont(font)
        painter.setPen(QColor(self.disabled if mode == QIcon.Mode.Disabled else self.color))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.char)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        engine = GlyphIconEngine(self.family, self.char, self.color, self.disabled)
        _engines.append(engine)
        return engine


def _load_font() -> tuple[str, dict[str, int]] | None:
    """The icon font's family and charmap from qtawesome's package folder (not importing it)."""
    spec = importlib.util.find_spec("qtawesome")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        fonts = Path(folder) / "fonts"
        ttf = sorted(fonts.glob(f"{_FONT_PREFIX}-[0-9]*.ttf"))
        charmap = sorted(fonts.glob(f"{_FONT_PREFIX}-charmap-*.json"))
        if not ttf or not charmap:
            continue
        font_id = QFontDatabase.addApplicationFont(str(ttf[-1]))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if not families:
            continue
        codes = json.loads(charmap[-1].read_text(encoding="utf-8"))
        return families[0], {name: int(code, 16) for name, code in codes.items()}
    return None


def toolbar_icon(name: str) -> QIcon:
    """An icon of the toolbar's family by its qtawesome name ("mdi6.play"), made once, then cached."""
    global _font
    icon = _icons.get(name)
    if icon is not None:
        return icon
    if _font is None:
        _font = _load_font() or ("", {})
    family, codes = _font
    glyph = name.split(".", 1)[1] if name.startswith("mdi6.") else None
    if family and glyph in codes:
        engine = GlyphIconEngine(family, chr(codes[glyph]), ICON_COLOR, ICON_COLOR_DISABLED)
        _engines.append(engine)
        icon = QIcon(engine)
    else:
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
