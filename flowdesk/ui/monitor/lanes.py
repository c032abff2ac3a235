"""Rows of a run timeline: steps that overlap in time (parallel branches) go on separate rows.

Greedy interval partitioning: steps sorted by start take the first row whose last step has ended,
which uses as few rows as the run ever had steps running at once. Pure Python, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Steps closer than this (seconds) are not overlapping: a step starting as the previous one ends.
EPSILON = 1e-6


def assign_rows(intervals: Sequence[tuple[float, float]]) -> list[int]:
    """Row index for each (start, end) interval, in input order; overlapping intervals never share a row."""
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], i))
    row_ends: list[float] = []
    rows = [0] * len(intervals)
    for i in order:
        start, end = intervals[i]
        for row, last_end in enumerate(row_ends):
            if last_end <= start + EPSILON:
                rows[i] = row
                row_ends[row] = max(end, start)
                break
        else:
            rows[i] = len(row_ends)
            row_ends.append(max(end, start))
    return rows
