"""Validation of SUBWORKFLOW calls: a missing workflow and a cycle of calls, each in one located sentence."""

from __future__ import annotations

from flowdesk.domain.subworkflow_calls import call_problems, reference_of
from tests.support.graph_builder import graph


def caller(name, *targets, wid=None):
    nodes = [("start", "START")] + [(f"call {t}", "SUBWORKFLOW", {"workflow": t}) for t in targets]
    g = graph([*nodes, ("end", "END")], [], name=name)
    g.workflow.id = wid
    return g


def library(*graphs):
    by = {}
    for g in graphs:
        by[g.workflow.name] = g
        if g.workflow.id is not None:
            by[g.workflow.id] = g
    return lambda reference: by.get(reference if not str(reference).isdigit() else int(reference))


def test_a_missing_workflow_is_named_at_its_node():
    (problem,) = call_problems(caller("A", "nowhere"), library())
    assert (problem.message, problem.node, problem.key) == (
        "no workflow has the id or name 'nowhere'",
        "call nowhere",
        "workflow",
    )
    assert problem.where() == "node 'call nowhere' (nodes[1]), config.workflow"


def test_a_cycle_through_another_workflow_is_one_sentence_with_the_chain():
    a, b = caller("A", "B", wid=1), caller("B", "A", wid=2)
    (problem,) = call_problems(a, library(a, b))
    assert problem.message == "the sub-workflow calls go round in a cycle: A → B → A"
    assert problem.node == "call B"


def test_a_cycle_by_id_and_a_longer_one_further_down():
    a, b, c = caller("A", 2, wid=1), caller("B", "C", wid=2), caller("C", "B", wid=3)
    (problem,) = call_problems(a, library(a, b, c))
    assert problem.message == "the sub-workflow calls go round in a cycle: A → B → C → B"


def test_a_workflow_calling_itself():
    a = caller("A", "A", wid=1)
    assert [p.message for p in call_problems(a, library(a))] == [
        "the sub-workflow calls go round in a cycle: A → A"
    ]


def test_calls_without_a_cycle_and_templated_references_pass():
    a, b, c = caller("A", "B", "C", wid=1), caller("B", "C", wid=2), caller("C", wid=3)
    assert call_problems(a, library(a, b, c)) == []
    assert call_problems(caller("D", "{{input.which}}"), library()) == []
    assert reference_of({"workflow": " B "}) == "B" and reference_of({"workflow": True}) is None
