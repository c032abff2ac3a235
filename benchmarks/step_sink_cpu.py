"""CPU time of an executor's step sink process (engine/step_sink.py), for the benchmarks' figures."""

from __future__ import annotations

from typing import Any


def sink_cpu_seconds(executor: Any) -> float:
    """CPU seconds the executor's step sink process has used so far (0 when none runs)."""
    import psutil

    sink = getattr(getattr(executor, "_writer", None), "_sink", None)
    if sink is None:
        return 0.0
    try:
        times = psutil.Process(sink.proc.pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system
