"""Stored workflows the SUBWORKFLOW tests share (tests/engine/test_subworkflow*.py and others)."""

from __future__ import annotations

from flowdesk.services.workflows import WorkflowService
from tests.support.graph_builder import graph


def store(db, g):
    return WorkflowService(db).create_from_graph(g)


def child_doubling(db, name="double"):
    """START -> END whose output is {"doubled": input.n * 2, "who": input.who}."""
    return store(
        db,
        graph(
            [
                ("start", "START"),
                ("end", "END", {"output": {"doubled": "{{input.n * 2}}", "who": "{{input.who}}"}}),
            ],
            [("start", "end")],
            name=name,
        ),
    )


def caller(db, name, call_config, *, config=None, after=None):
    """START -> call (SUBWORKFLOW) [-> after] -> END (output: the call's output)."""
    nodes = [("start", "START"), ("call", "SUBWORKFLOW", call_config)]
    connections = [("start", "call")]
    last = "call"
    if after is not None:
        nodes.append(after)
        connections.append(("call", after[0]))
        last = after[0]
    nodes.append(("end", "END", {"output": "{{call}}"}))
    connections.append((last, "end"))
    return store(db, graph(nodes, connections, name=name, config=config))


def slow_child(db):
    return store(db, graph([("start", "START"), ("wait", "DELAY", {"seconds": 600}), ("end", "END")],
                           [("start", "wait"), ("wait", "end")], name="slow"))  # fmt: skip
