"""Micro benchmark of the expression language: parse (cached vs uncached), evaluate, render.

Run by hand: `python benchmarks/bench_expressions.py`. Prints the median time per operation over
several rounds, and ratios against a baseline measured in the same process (a dict lookup chain
written in plain Python, the floor for reading `input.user.name`).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.domain.expressions import Scope, evaluate, evaluate_condition, parse, render  # noqa: E402
from flowdesk.domain.expressions.parser import parse as cached_parse  # noqa: E402
from flowdesk.domain.expressions.templates import split_template  # noqa: E402

ROUNDS = 7


def median_ns(fn: Callable[[], object], number: int) -> float:
    """Median over ROUNDS of the mean time of `number` calls, in nanoseconds."""
    results = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(number):
            fn()
        results.append((time.perf_counter_ns() - start) / number)
    return statistics.median(results)


def main() -> None:
    data = {
        "input": {"score": 75, "age": 20, "verified": True, "user": {"name": "Ann"}, "data": [1, 2, 3]},
        "response": {"status": 200, "data": {"message": "login success", "id": 7}},
        "loop": {"index": 1},
        "env": {"base": "https://api.example.com"},
        "params": {"user_id": 42},
    }
    nodes = {"登录": {"token": "T0K"}}
    scope = Scope(data, nodes)
    condition = "{{input.age}} >= 18 and {{input.verified}} == true"
    uncached = cached_parse.__wrapped__  # type: ignore[attr-defined]
    tree = parse(condition)
    body = {
        "url": "{{env.base}}/users/{{params.user_id}}",
        "headers": {"Authorization": "Bearer {{登录.token}}", "Accept": "application/json"},
        "data": "{{input.user}}",
        "note": "plain text, no template",
        "list": [1, 2, "{{loop.index}}"],
    }

    rows: list[tuple[str, float]] = []
    baseline = median_ns(lambda: data["input"]["user"]["name"], 200_000)
    rows.append(("baseline: plain Python dict lookups input.user.name", baseline))
    rows.append(("parse, uncached (seed condition)", median_ns(lambda: uncached(condition), 2_000)))
    rows.append(("parse, cached (seed condition)", median_ns(lambda: parse(condition), 200_000)))
    rows.append(
        (
            "evaluate path input.user.name (text, cached parse)",
            median_ns(lambda: evaluate("input.user.name", scope), 100_000),
        )
    )
    rows.append(
        (
            "evaluate_condition seed condition (text)",
            median_ns(lambda: evaluate_condition(condition, scope), 100_000),
        )
    )
    rows.append(
        (
            "evaluate_condition seed condition (parsed tree)",
            median_ns(lambda: evaluate_condition(tree, scope), 100_000),
        )
    )
    rows.append(
        (
            "render fast path (string without {{)",
            median_ns(lambda: render("plain text, no template", scope), 500_000),
        )
    )
    rows.append(
        (
            "render lone {{input.user}} (raw value)",
            median_ns(lambda: render("{{input.user}}", scope), 100_000),
        )
    )
    rows.append(
        (
            "render mixed url template",
            median_ns(lambda: render("{{env.base}}/users/{{params.user_id}}", scope), 100_000),
        )
    )
    rows.append(
        ("render API body (dict of 5 keys, 4 templates)", median_ns(lambda: render(body, scope), 50_000))
    )
    split_uncached = split_template.__wrapped__  # type: ignore[attr-defined]
    rows.append(
        (
            "split template, uncached (url template)",
            median_ns(lambda: split_uncached("{{env.base}}/users/{{params.user_id}}"), 5_000),
        )
    )
    rows.append(("Scope(...) creation", median_ns(lambda: Scope(data, nodes), 200_000)))
    rows.append(
        ("scope.child(response=..., loop=...)", median_ns(lambda: scope.child(response={}, loop={}), 200_000))
    )

    print(f"expression benchmark, median of {ROUNDS} rounds (python {sys.version.split()[0]})")
    width = max(len(name) for name, _ in rows)
    for name, ns in rows:
        print(f"  {name:<{width}}  {ns / 1000:9.3f} us   x{ns / baseline:8.1f} baseline")


if __name__ == "__main__":
    main()
