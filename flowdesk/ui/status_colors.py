"""One colour per execution and step status, for every view that shows one: the canvas's run badges
and rings (ui/run/overlays.py), the run history and data inspector, and the monitor's charts,
timeline and tables (ui/monitor/status_colors.py adds their labels and bar order).

White text stands on these colours in the canvas badges, so each is dark enough for it except the
quiet ones (pending, skipped), whose badges fade anyway.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from flowdesk.domain.enums import ExecutionStatus, StepStatus

STATUS_COLORS: dict[str, QColor] = {
    # the green of the START node and of true branches (ui/style/theme.py)
    ExecutionStatus.COMPLETED: QColor("#2e9d5b"),
    StepStatus.SUCCESS: QColor("#2e9d5b"),
    ExecutionStatus.FAILED: QColor("#d93025"),  # StepStatus.FAILED too (the same string)
    ExecutionStatus.TIMED_OUT: QColor("#e8710a"),
    ExecutionStatus.CANCELLED: QColor("#5f6b7a"),
    ExecutionStatus.INTERRUPTED: QColor("#9b59b6"),
    ExecutionStatus.RESUMED: QColor("#b39ddb"),
    ExecutionStatus.RUNNING: QColor("#2f6fed"),
    # amber: also the still ring on the node a paused run runs next
    ExecutionStatus.PAUSED: QColor("#f29900"),
    ExecutionStatus.PENDING: QColor("#c9ced6"),
    StepStatus.SKIPPED: QColor("#a0a7b1"),
}
UNKNOWN_STATUS_COLOR = QColor("#8a94a3")


def status_color(status: str) -> QColor:
    """The colour of `status` (a copy; grey for anything unknown)."""
    return QColor(STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR))
