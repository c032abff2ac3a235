"""Benchmark: graph validation of this tree against a baseline checkout, alternated in one process.

Run by hand (not a test):  python benchmarks/bench_validate_ab.py --baseline /path/to/other/checkout [--rounds 8]

`locate_graph_problems` on bench_interchange's 2,000-node / 3,000-connection workflow (every
condition and template parsed, the parse caches warm, as the editor re-validates), 5 timed calls per
round and side; between sides every flowdesk module is dropped and imported again from the other
tree, so both run in the same process on the same machine state. Prints the median of each side,
their ratio and the load average (the machine is shared: read the ratio, not the milliseconds).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _load(tree: Path):
    for name in [
        m for m in sys.modules if m == "flowdesk" or m.startswith("flowdesk.") or m == "bench_interchange"
    ]:
        del sys.modules[name]
    sys.path[:0] = [str(tree), str(tree / "benchmarks")]
    try:
        generate = importlib.import_module("bench_interchange").generate
        read = importlib.import_module("flowdesk.interchange.workflow_file").read_workflow_file
        locate = importlib.import_module("flowdesk.domain.validation").locate_graph_problems
        assert Path(importlib.import_module("flowdesk").__file__).is_relative_to(tree)
    finally:
        del sys.path[:2]
    return read(generate()).graph, locate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout of flowdesk")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    trees = {"baseline": args.baseline.resolve(), "this tree": HERE}
    times: dict[str, list[float]] = {label: [] for label in trees}
    for _ in range(args.rounds):
        for label, tree in trees.items():
            graph, locate = _load(tree)
            locate(graph)
            for _ in range(5):
                start = time.perf_counter()
                locate(graph)
                times[label].append((time.perf_counter() - start) * 1000)
    medians = {label: round(statistics.median(values), 1) for label, values in times.items()}
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    ratio = round(medians["this tree"] / medians["baseline"], 2)
    print(json.dumps({"median_ms": medians, "this tree / baseline": ratio, "load average": load}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
