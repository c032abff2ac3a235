"""compile_plan: how PARALLEL branches and LOOP bodies are carved into regions."""

from __future__ import annotations

from flowdesk.engine.plan import compile_plan
from flowdesk.engine.registry import default_registry
from tests.support.graph_builder import graph


def _regions(g):
    plan = compile_plan(g, default_registry())
    return plan, [(r.nodes, r.entries) for r in plan.scopes["p"]]


def test_branches_meeting_at_different_depths_stop_where_they_meet():
    # a runs three nodes before meeting; b and c meet each other after one node; everything from a
    # meeting node on belongs to the level of the PARALLEL node, not to any branch.
    d = ("DELAY", {"seconds": 0})
    g = graph(
        [("s", "START"), ("p", "PARALLEL"), ("a1", *d), ("a2", *d), ("a3", *d), ("b1", *d), ("c1", *d)]
        + [("m1", *d), ("m2", *d), ("x", *d), ("e", "END")],
        [
            ("s", "p"),
            ("p", "a1", "PARALLEL"),
            ("p", "b1", "PARALLEL"),
            ("p", "c1", "PARALLEL"),
            ("a1", "a2"),
            ("a2", "a3"),
            ("a3", "m2"),
            ("b1", "m1"),
            ("c1", "m1"),
            ("m1", "m2"),
            ("m2", "x"),
            ("x", "e"),
        ],
    )
    plan, regions = _regions(g)
    assert regions == [({"a1", "a2", "a3"}, ["a1"]), ({"b1"}, ["b1"]), ({"c1"}, ["c1"])]
    for name in ("s", "p", "m1", "m2", "x", "e"):
        assert plan.region_of[name] is plan.top
    assert plan.gates["p"] == ["m2", "m1"]


def test_a_branch_node_also_fed_from_outside_the_branch_ends_the_branch_before_it():
    # b2 is reached only from branch b, but also from the top level (s -> t -> b2): it and what
    # follows it are not part of the branch.
    d = ("DELAY", {"seconds": 0})
    g = graph(
        [("s", "START"), ("t", *d), ("p", "PARALLEL"), ("a1", *d), ("b1", *d), ("b2", *d), ("b3", *d)]
        + [("e", "END")],
        [
            ("s", "p"),
            ("s", "t"),
            ("t", "b2"),
            ("p", "a1", "PARALLEL"),
            ("p", "b1", "PARALLEL"),
            ("b1", "b2"),
            ("b2", "b3"),
            ("b3", "e"),
            ("a1", "e"),
        ],
    )
    plan, regions = _regions(g)
    assert regions == [({"a1"}, ["a1"]), ({"b1"}, ["b1"])]
    for name in ("t", "b2", "b3", "e"):
        assert plan.region_of[name] is plan.top


def test_a_thousand_branches_compile_to_a_thousand_one_node_regions():
    nodes = [("s", "START"), ("p", "PARALLEL"), ("e", "END")]
    conns = [("s", "p"), ("p", "e")]
    for i in range(1000):
        nodes.append((f"b{i}", "DELAY", {"seconds": 0}))
        conns.append(("p", f"b{i}", "PARALLEL"))
    plan, regions = _regions(graph(nodes, conns))
    assert regions == [({f"b{i}"}, [f"b{i}"]) for i in range(1000)]
    assert plan.region_of["b999"].owner == "p"
