"""Benchmark: `flowdesk validate` of a file with very many problems (unreachable nodes).

Run by hand (not a test):  python benchmarks/bench_validate_problems.py [--nodes 10000 20000 100000] [--runs 3]
                           python benchmarks/bench_validate_problems.py --dangling 3000 [--runs 3]

Each file is START -> END plus N DELAY nodes that nothing connects to: every one of them is
a problem ("not reachable from START"). Times are the median of --runs runs of read_workflow_file
(parse, check, validate, locate every problem's line), and of the CLI's report of the problems
(the first 1,000 lines, then "and N more"); and, side by side in the same process, finding every
node's line with the index of line starts against the rescan per look-up the code did before. The
issue measured 2.2 s at 10,000 nodes, 6.8 s at 20,000
and 223 s at 100,000 before line positions were looked up in an index of line starts.

`--dangling N`: a chain of N DELAY nodes whose N connections each name two nodes that do not exist
(distinct near-misses of real names, as a file renamed by hand gives), so every connection end gets
a "did you mean" search. Timed as above, side by side in the same process with the search as it was
before validation.NameHints (case-folded names made again and difflib over every name, for every end).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.domain import validation  # noqa: E402
from flowdesk.domain.errors import FileFormatError  # noqa: E402
from flowdesk.domain.problem_report import report_lines  # noqa: E402
from flowdesk.interchange.json_locate import LineIndex, line_column  # noqa: E402
from flowdesk.interchange.workflow_file import describe_problem, read_workflow_file  # noqa: E402
from tests.support.problem_files import unreachable_nodes_file  # noqa: E402


def measure(text: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    found = read_workflow_file(text, source="many.json")
    problems = found.problems
    t1 = time.perf_counter()
    lines = report_lines(problems, lambda p: describe_problem(p, "many.json"))
    t2 = time.perf_counter()
    assert len(lines) <= 1001
    return t1 - t0, t2 - t1, len(problems)


def line_lookups(text: str, baseline: bool) -> float:
    """Seconds to find the line and column of every node in `text`: with one LineIndex, or (the
    baseline, the code before) `line_column` rescanning the text from its start for each one."""
    offsets = [m.start() for m in re.finditer(r'\{\n\s*"name"', text)]
    t0 = time.perf_counter()
    if baseline:
        for offset in offsets:
            line_column(text, offset)
    else:
        index = LineIndex(text)
        for offset in offsets:
            index.line_column(offset)
    return time.perf_counter() - t0


def dangling_file(n: int) -> str:
    """START -> N DELAYs -> END, plus N connections whose two ends name no node (near-misses)."""
    names = ["start"] + [f"step {i:05d}" for i in range(n)] + ["end"]
    nodes = [{"name": "start", "node_type": "START"}, {"name": "end", "node_type": "END"}]
    nodes += [{"name": name, "node_type": "DELAY", "config": {"seconds": 0}} for name in names[1:-1]]
    connections = [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)]
    connections += [{"from": f"stepp {i:05d}", "to": f"stpe {i:05d}"} for i in range(n)]
    return json.dumps(
        {"flowdesk": 1, "workflow": {"name": "dangling"}, "nodes": nodes, "connections": connections}
    )


class UnboundedHints(validation.NameHints):
    """The search as it was before NameHints: folded names made again and difflib over every name,
    for every value asked (the baseline of --dangling)."""

    def __call__(self, value: str) -> str | None:
        by_fold = {c.casefold(): c for c in self.by_fold.values()}
        if not value:
            return None
        if value.casefold() in by_fold:
            return by_fold[value.casefold()]
        close = validation.difflib.get_close_matches(value.casefold(), list(by_fold), n=1, cutoff=0.6)
        return by_fold[close[0]] if close else None


def dangling(n: int, runs: int) -> None:
    text = dangling_file(n)
    figures: dict[str, list[float]] = {"now": [], "before": []}
    for _ in range(runs):
        for name in figures:
            validation.NameHints = UnboundedHints if name == "before" else HINTS  # type: ignore[misc]
            t0 = time.perf_counter()
            try:
                read_workflow_file(text, source="dangling.json")
            except FileFormatError as err:  # the expected end: every dangling end is an error
                assert len(err.problems) == 2 * n, len(err.problems)
            figures[name].append(time.perf_counter() - t0)
    validation.NameHints = HINTS  # type: ignore[misc]
    now, before = (statistics.median(figures[k]) for k in ("now", "before"))
    print(
        f"{n:,} nodes, {2 * n:,} connection ends naming no node: validate {now:.2f} s, "
        f"before {before:.2f} s ({before / now:.1f}x), median of {runs}; load average {os.getloadavg()[0]:.1f}"
    )


HINTS = validation.NameHints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 20_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dangling", type=int, metavar="N", help="the 'did you mean' case (see above)")
    args = parser.parse_args()
    if args.dangling:
        dangling(args.dangling, args.runs)
        return
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'unreachable nodes':>18} {'problems':>9} {'validate s (median)':>20} {'report s':>9}"
        f" {'lines: index s':>15} {'lines: rescan s (before)':>25}"
    )
    for n in args.nodes:
        text = unreachable_nodes_file(n)
        runs = [measure(text) for _ in range(args.runs)]
        indexed = statistics.median(line_lookups(text, False) for _ in range(args.runs))
        # The rescan is quadratic (100,000 nodes: about 15 minutes): measured up to 20,000 nodes.
        rescan = (
            statistics.median(line_lookups(text, True) for _ in range(args.runs)) if n <= 20_000 else None
        )
        print(
            f"{n:>18,} {runs[0][2]:>9,} {statistics.median(r[0] for r in runs):>20.2f}"
            f" {statistics.median(r[1] for r in runs):>9.3f} {indexed:>15.3f}"
            f" {'-' if rescan is None else format(rescan, '.2f'):>25}"
        )


if __name__ == "__main__":
    main()
