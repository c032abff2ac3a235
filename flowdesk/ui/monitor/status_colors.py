"""One colour per execution and step status, shared by the monitor's charts, timeline and tables."""

from __future__ import annotations

from PySide6.QtGui import QColor

STATUS_COLORS: dict[str, QColor] = {
    "completed": QColor("#2e9d5b"),
    "success": QColor("#2e9d5b"),
    "failed": QColor("#d93025"),
    "timed_out": QColor("#e8710a"),
    "cancelled": QColor("#8a94a3"),
    "interrupted": QColor("#9b59b6"),
    "resumed": QColor("#b39ddb"),
    "running": QColor("#2f6fed"),
    "paused": QColor("#0f9aa8"),
    "pending": QColor("#c9ced6"),
    "skipped": QColor("#dfe3e8"),
}
#: Order of the stacked bars, bottom up: successes first, then the kinds of failure, then live runs.
STATUS_ORDER = (
    "completed",
    "failed",
    "timed_out",
    "cancelled",
    "interrupted",
    "resumed",
    "running",
    "paused",
    "pending",
)
STATUS_LABELS = {
    "completed": "Completed",
    "failed": "Failed",
    "timed_out": "Timed out",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
    "resumed": "Resumed",
    "running": "Running",
    "paused": "Paused",
    "pending": "Pending",
    "success": "Success",
    "skipped": "Skipped",
}


def status_color(status: str) -> QColor:
    """The colour of `status` (grey for anything unknown)."""
    return QColor(STATUS_COLORS.get(status, QColor("#8a94a3")))


def format_seconds(value: float | None) -> str:
    """A duration for people: '—', '850 ms', '12.4 s', '3 min 05 s', '2 h 07 min'."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
