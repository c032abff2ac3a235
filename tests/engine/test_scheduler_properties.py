"""Random DAGs: the scheduler agrees with a plain topological-order reference of the rules."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.graph_builder import executor, graph


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


ANY = "any"


def _reference(names, edges, failing, flag):
    """Expected status per node (None: not logged) and whether the run completes."""
    status: dict[str, str | None] = {"start": "success"}
    for name in names[1:]:
        incoming = [e for e in edges if e[1] == name]
        if any(status[e[0]] is None for e in incoming):
            status[name] = None  # something before it stopped the run
            continue
        taken = []
        for source, _, kind, condition in incoming:
            ok = status[source] == "success"
            failed = status[source] == "failed"
            if kind == "SEQUENCE":
                taken.append(ok)
            elif kind == "CONDITIONAL":
                taken.append(ok and (condition == "true" or (condition == "input.flag" and flag)))
            else:
                taken.append(failed)
        status[name] = ("failed" if name in failing else "success") if any(taken) else "skipped"
        if status[name] == "failed" and not any(e[0] == name and e[2] == "ERROR" for e in edges):
            # An unhandled failure: nothing after it is run or logged. Nodes that do not depend on
            # it may have run at the same time (ANY: success, cancelled or not logged).
            after = {name}
            for later in names[names.index(name) + 1 :]:
                if any(e[1] == later and e[0] in after for e in edges):
                    after.add(later)
            for later in names[names.index(name) + 1 :]:
                status[later] = None if later in after else ANY
            for earlier in names[: names.index(name)]:
                if status[earlier] not in (None, "failed") and earlier != "start":
                    status[earlier] = ANY if status[earlier] == "success" else status[earlier]
            return status, False
    return status, True


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
    expected, completes = _reference(names, edges, failing, flag)
    logged = {}
    for row in handle.steps:
        assert row["step_name"] not in logged, f"{row['step_name']} logged twice"
        logged[row["step_name"]] = row["status"]
    for name in names:
        if expected[name] == ANY:
            assert logged.get(name) in (None, "success", "skipped", "cancelled", "failed"), (
                name,
                logged,
                expected,
            )
        else:
            assert logged.get(name) == expected[name], (name, logged, expected)
    assert (handle.status == "completed") == completes
