"""Random DAGs: the scheduler agrees with a plain topological-order reference of the rules."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.graph_builder import executor, graph


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=2, max_value=9))
    names = ["start"] + [f"n{i}" for i in range(1, n)]
    edges = []
    for j in range(1, n):
        # every node has at least one way in, so each is reachable from START
        sources = draw(st.sets(st.integers(min_value=0, max_value=j - 1), min_size=1, max_size=min(3, j)))
        for i in sorted(sources):
            kind = draw(st.sampled_from(["SEQUENCE", "SEQUENCE", "CONDITIONAL", "ERROR"]))
            condition = (
                draw(st.sampled_from(["true", "false", "input.flag"])) if kind == "CONDITIONAL" else None
            )
            edges.append((names[i], names[j], kind, condition))
    failing = draw(st.sets(st.sampled_from(names[1:]), max_size=2))
    flag = draw(st.booleans())
    return names, edges, failing, flag


def _reference(names, edges, failing, flag):
    """Status of every node when the rules run to the end in topological order, and the nodes that
    fail without an ERROR connection (each of which stops the run)."""
    status: dict[str, str] = {"start": "success"}
    for name in names[1:]:
        taken = []
        for source, _, kind, condition in (e for e in edges if e[1] == name):
            ok = status[source] == "success"
            if kind == "SEQUENCE":
                taken.append(ok)
            elif kind == "CONDITIONAL":
                taken.append(ok and (condition == "true" or (condition == "input.flag" and flag)))
            else:
                taken.append(status[source] == "failed")
        status[name] = ("failed" if name in failing else "success") if any(taken) else "skipped"
    unhandled = {
        n for n in names if status[n] == "failed" and not any(e[0] == n and e[2] == "ERROR" for e in edges)
    }
    return status, unhandled


def _after(names, edges, roots):
    found = set()
    for name in names:
        if any(e[1] == name and (e[0] in roots or e[0] in found) for e in edges):
            found.add(name)
    return found


@settings(max_examples=60, deadline=None)
@given(dags())
def test_random_graphs_follow_the_rules(case):
    names, edges, failing, flag = case
    nodes = [("start", "START")] + [(n, "FAIL" if n in failing else "ECHO", {"value": n}) for n in names[1:]]
    nodes.append(("end", "END"))
    sinks = [n for n in names if not any(e[0] == n for e in edges)]
    conns = [(a, b, kind, cond) for a, b, kind, cond in edges] + [(s, "end") for s in sinks]
    g = graph(nodes, conns)

    async def main():
        ex = executor()
        # validation would warn about nodes without a way out; none here
        return await ex.execute_graph(g, {"flag": flag})

    handle = asyncio.run(main())
    expected, unhandled = _reference(names, edges, failing, flag)
    logged = {}
    for row in handle.steps:
        assert row["step_name"] not in logged, f"{row['step_name']} logged twice"
        logged[row["step_name"]] = row["status"]
    if not unhandled:
        assert handle.status == "completed"
        assert {n: logged.get(n) for n in names} == expected
        return
    # Some node failed without an ERROR connection: the run fails; nothing that follows such a
    # node is run or logged; the others ran as the rules say, or were cancelled, or never started.
    assert handle.status == "failed"
    assert any(logged.get(n) == "failed" for n in unhandled)
    stopped_after = _after(names, edges, {n for n in unhandled if logged.get(n) == "failed"})
    for name in names:
        if name in stopped_after:
            assert name not in logged, (name, logged, expected)
        else:
            assert logged.get(name) in (expected[name], None, "cancelled"), (name, logged, expected)
