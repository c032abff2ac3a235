"""The app's style sheet (resources/style.qss) as a user sees it: drawn offscreen and looked at."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS
from flowdesk.ui.palette import NodePalette
from flowdesk.ui.style.theme import style_sheet


def _dark_pixels(image, area: QRect) -> int:
    return sum(
        1
        for x in range(area.left(), area.right() + 1)
        for y in range(area.top(), area.bottom() + 1)
        if image.pixelColor(x, y).lightness() < 40
    )


def test_the_node_palette_s_scroll_bar_is_not_painted_black(qtbot):
    """With a transparent background the palette's scroll bar drew the part below its handle in
    solid black (seen in the window on X11 and offscreen)."""
    app = QApplication.instance()
    before = app.styleSheet()
    app.setStyleSheet(style_sheet())
    try:
        palette = NodePalette(list(BUILTIN_DESCRIPTORS))
        qtbot.addWidget(palette)
        palette.resize(240, 200)  # fewer rows than the types: the scroll bar shows
        palette.show()
        qtbot.waitExposed(palette)
        bar = palette.verticalScrollBar()
        assert bar.isVisible() and bar.maximum() > 0
        image = palette.grab().toImage()
        area = QRect(bar.mapTo(palette, bar.rect().topLeft()), bar.size()).adjusted(2, 16, -2, -16)
        assert _dark_pixels(image, area) == 0
    finally:
        app.setStyleSheet(before)
