"""The machine's load average and this process's CPU and memory use (psutil)."""

from __future__ import annotations

import os
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]


class SystemLoad:
    """Samples load; CPU percent is measured between two calls, so keep one instance per monitor."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # first call starts the measuring interval

    def sample(self) -> dict[str, Any]:
        """Load averages (1, 5, 15 min), CPU count, process CPU % since the last sample, memory."""
        load: list[float | None]
        try:
            load = list(os.getloadavg())
        except (AttributeError, OSError):  # Windows has no load average
            load = [None, None, None]
        with self._process.oneshot():
            cpu = self._process.cpu_percent(None)
            rss = self._process.memory_info().rss
        vm = psutil.virtual_memory()
        return {
            "load_average": load,
            "cpu_count": psutil.cpu_count() or 1,
            "process_cpu_percent": cpu,
            "process_memory_mb": round(rss / (1024 * 1024), 1),
            "system_memory_percent": vm.percent,
        }
