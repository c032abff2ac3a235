"""The monitor's words for statuses: labels, the order of stacked bars, durations. The colours are the
app's one table (flowdesk/ui/status_colors.py), re-exported here for the monitor's views."""

from __future__ import annotations

from flowdesk.domain.enums import ExecutionStatus, StepStatus
from flowdesk.ui.status_colors import STATUS_COLORS, status_color

__all__ = ["STATUS_COLORS", "STATUS_LABELS", "STATUS_ORDER", "format_seconds", "status_color"]

#: Order of the stacked bars, bottom up: successes first, then the kinds of failure, then live runs.
STATUS_ORDER: tuple[str, ...] = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.CANCELLED,
    ExecutionStatus.INTERRUPTED,
    ExecutionStatus.RESUMED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.PAUSED,
    ExecutionStatus.PENDING,
)
#: "timed_out" -> "Timed out", for every execution and step status.
STATUS_LABELS: dict[str, str] = {
    status: status.value.replace("_", " ").capitalize() for status in (*ExecutionStatus, *StepStatus)
}


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
