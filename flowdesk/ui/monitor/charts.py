"""The monitor's charts, drawn with QtCharts (PySide6-Addons: ships with PySide6, no extra dependency).

Each chart is a QChartView that rebuilds its series from the monitor's figures; the series stay
reachable (`series`, `bar_sets`, `lines`) so tests can count bars and points.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from PySide6.QtCharts import (
    QAbstractAxis,
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QDateTimeAxis,
    QHorizontalBarSeries,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QDateTime, QMargins, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from .status_colors import STATUS_LABELS, STATUS_ORDER, status_color


def bucket_label(start: datetime, bucket: str) -> str:
    """Axis text of a bucket: '14:00' for hours, 'Nov 07' for days (local time)."""
    local = start.astimezone()
    return local.strftime("%H:%M") if bucket == "hour" else local.strftime("%b %d")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= factor * magnitude + 1e-9:
            return factor * magnitude
    return 10 * magnitude


class _ChartView(QChartView):
    def __init__(self, title: str) -> None:
        chart = QChart()
        chart.setTitle(title)
        font = QFont(chart.titleFont())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 1)
        chart.setTitleFont(font)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(4)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        super().__init__(chart)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setMinimumHeight(240)

    def _clear(self) -> QChart:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in list(chart.axes()):
            chart.removeAxis(axis)
        return chart

    def _small(self, axis: QAbstractAxis) -> None:
        font = QFont(axis.labelsFont())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7.0))
        axis.setLabelsFont(font)
        axis.setGridLineColor(QColor("#eceef2"))


class ExecutionsChart(_ChartView):
    """Runs per hour or day, stacked by status."""

    def __init__(self) -> None:
        super().__init__("Executions over time")
        self.series: QStackedBarSeries | None = None
        self.bar_sets: dict[str, QBarSet] = {}
        self.categories: list[str] = []

    def set_trend(self, trend: list[dict[str, Any]], bucket: str) -> None:
        """Show `trend` (MonitorQueries.execution_trend)."""
        chart = self._clear()
        series = QStackedBarSeries()
        series.setBarWidth(0.8)
        self.bar_sets = {}
        present = [s for s in STATUS_ORDER if any(t["counts"].get(s) for t in trend)]
        for status in present:
            bar_set = QBarSet(STATUS_LABELS.get(status, status))
            color = status_color(status)
            bar_set.setColor(color)
            bar_set.setBorderColor(color)
            bar_set.append([float(t["counts"].get(status, 0)) for t in trend])
            series.append(bar_set)
            self.bar_sets[status] = bar_set
        chart.addSeries(series)
        self.series = series
        self.categories = [bucket_label(t["start"], bucket) for t in trend]
        axis_x = QBarCategoryAxis()
        axis_x.append(self.categories)
        axis_x.setLabelsAngle(-90)
        self._small(axis_x)
        axis_x.setGridLineVisible(False)
        axis_y = QValueAxis()
        top = max((sum(t["counts"].values()) for t in trend), default=0)
        axis_y.setRange(0, _nice_max(top))
        axis_y.applyNiceNumbers()
        axis_y.setLabelFormat("%d")
        self._small(axis_y)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(axis_x)
        series.attachAxis(axis_y)
        chart.legend().setVisible(bool(present))

    @property
    def bar_count(self) -> int:
        """How many stacked bars have a height (buckets with at least one run)."""
        if not self.bar_sets:
            return 0
        sets = list(self.bar_sets.values())
        return sum(1 for i in range(len(self.categories)) if any(s.at(i) > 0 for s in sets))


class DurationChart(_ChartView):
    """p50 and p95 duration of completed runs per hour or day."""

    def __init__(self) -> None:
        super().__init__("Duration of completed runs")
        self.lines: dict[str, QLineSeries] = {}

    def set_trend(self, trend: list[dict[str, Any]], bucket: str) -> None:
        chart = self._clear()
        self.lines = {}
        styles = {
            "p50": (QColor("#2f6fed"), Qt.PenStyle.SolidLine),
            "p95": (QColor("#e8710a"), Qt.PenStyle.DashLine),
        }
        top = 0.0
        for key, (color, style) in styles.items():
            line = QLineSeries()
            line.setName(f"{key} (s)")
            pen = QPen(color, 2.2)
            pen.setStyle(style)
            line.setPen(pen)
            line.setPointsVisible(True)
            for t in trend:
                value = t.get(key)
                if value is None:
                    continue
                top = max(top, value)
                line.append(float(t["start"].timestamp() * 1000.0), float(value))
            chart.addSeries(line)
            self.lines[key] = line
        axis_x = QDateTimeAxis()
        axis_x.setFormat("HH:mm" if bucket == "hour" else "MMM dd")
        if trend:
            axis_x.setRange(
                QDateTime.fromMSecsSinceEpoch(int(trend[0]["start"].timestamp() * 1000)),
                QDateTime.fromMSecsSinceEpoch(int(trend[-1]["start"].timestamp() * 1000)),
            )
        axis_x.setTickCount(7)
        self._small(axis_x)
        axis_y = QValueAxis()
        axis_y.setRange(0, _nice_max(top * 1.05))
        axis_y.applyNiceNumbers()
        axis_y.setLabelFormat("%.1f")
        axis_y.setTitleText("seconds")
        self._small(axis_y)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        for line in self.lines.values():
            line.attachAxis(axis_x)
            line.attachAxis(axis_y)

    def point_count(self, key: str) -> int:
        """Points on the p50 or p95 line (buckets with completed runs)."""
        line = self.lines.get(key)
        return line.count() if line is not None else 0


class SlowestNodesChart(_ChartView):
    """The slowest nodes by average step duration (with their p95), slowest at the top."""

    MAX_NODES = 8

    def __init__(self) -> None:
        super().__init__("Slowest nodes")
        self.series: QHorizontalBarSeries | None = None
        self.nodes: list[str] = []

    def set_performance(self, performance: dict[str, Any]) -> None:
        chart = self._clear()
        nodes = sorted(performance.get("bottlenecks", []), key=lambda n: (-n["avg_duration"], n["node"]))
        nodes = nodes[: self.MAX_NODES][::-1]  # horizontal bars are drawn bottom-up
        self.nodes = [n["node"] for n in nodes]
        series = QHorizontalBarSeries()
        series.setBarWidth(0.75)
        avg = QBarSet("average (s)")
        avg.setColor(QColor("#2f6fed"))
        p95 = QBarSet("p95 (s)")
        p95.setColor(QColor("#f2a65a"))
        for n in nodes:
            avg.append(float(n["avg_duration"]))
            p95.append(float(n["p95_duration"] or 0.0))
        series.append(p95)
        series.append(avg)
        chart.addSeries(series)
        self.series = series
        axis_y = QBarCategoryAxis()
        axis_y.append(self.nodes)
        self._small(axis_y)
        axis_y.setGridLineVisible(False)
        axis_x = QValueAxis()
        top = max((float(n["p95_duration"] or n["avg_duration"]) for n in nodes), default=0.0)
        axis_x.setRange(0, _nice_max(top * 1.05))
        axis_x.applyNiceNumbers()
        axis_x.setLabelFormat("%.1f")
        self._small(axis_x)
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis_y)
        series.attachAxis(axis_x)

    @property
    def bar_count(self) -> int:
        """Nodes shown (each has an average and a p95 bar)."""
        return len(self.nodes)
