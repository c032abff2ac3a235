"""One colour per execution and step status, for every view that shows one: the canvas's run badges
and rings (ui/run/overlays.py), the run history and data inspector, and the monitor's charts,
timeline and tables (ui/monitor/status_colors.py adds their labels and bar order).

White text stands on these colours in the canvas badges, so each is dark enough for it except the
quiet ones (pending, skipped), whose badges fade anyway.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

STATUS_COLORS: dict[str, QColor] = {
    "completed": QColor("#2e9d5b"),  # the green of the START node and of true branches (ui/style/theme.py)
    "success": QColor("#2e9d5b"),
    "failed": QColor("#d93025"),
    "timed_out": QColor("#e8710a"),
    "cancelled": QColor("#5f6b7a"),
    "interrupted": QColor("#9b59b6"),
    "resumed": QColor("#b39ddb"),
    "running": QColor("#2f6fed"),
    "paused": QColor("#f29900"),  # amber: also the still ring on the node a paused run runs next
    "pending": QColor("#c9ced6"),
    "skipped": QColor("#a0a7b1"),
}
UNKNOWN_STATUS_COLOR = QColor("#8a94a3")


def status_color(status: str) -> QColor:
    """The colour of `status` (a copy; grey for anything unknown)."""
    return QColor(STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR))
