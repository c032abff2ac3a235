"""Property: any graph of valid names and JSON configs survives create -> load -> save -> load exactly.

On PostgreSQL text never holds NUL (its text type cannot store it; the store refuses such a value
with a plain sentence, tests/services/test_postgresql_values.py), so the graphs drawn there have none."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.domain import Connection, Node, Workflow, WorkflowGraph


def graphs(nul: bool = True):
    """Random graphs; `nul=False` draws text without the NUL character."""
    text = (
        st.text
        if nul
        else (lambda **kw: st.text(st.characters(codec="utf-8", exclude_characters="\x00"), **kw))
    )
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
    configs = st.dictionaries(text(max_size=10), json_values, max_size=4)
    names = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and "\x00" not in s)
    types = st.sampled_from(["START", "END", "API_CALL", "CONDITION", "DELAY", "PARALLEL", "LOOP"])

    @st.composite
    def draw_graph(draw):
        node_names = draw(st.lists(names, min_size=1, max_size=8, unique=True))
        nodes = [
            Node(
                name=n,
                node_type=draw(types),
                config=draw(configs),
                description=draw(text(max_size=30)),
                position_x=draw(st.floats(-1e6, 1e6)),
                position_y=draw(st.floats(-1e6, 1e6)),
            )
            for n in node_names
        ]
        edges = draw(
            st.lists(st.tuples(st.sampled_from(node_names), st.sampled_from(node_names)), max_size=10)
        )
        connections = [
            Connection(
                from_node=a,
                to_node=b,
                condition=draw(st.none() | text(max_size=20)),
                config=draw(configs),
                connection_type=draw(st.sampled_from(["SEQUENCE", "PARALLEL", "ERROR", "CONDITIONAL"])),
            )
            for a, b in edges
        ]
        workflow = Workflow(
            name=draw(names), config=draw(configs), tags=draw(st.lists(text(max_size=8), max_size=3))
        )
        return WorkflowGraph(workflow=workflow, nodes=nodes, connections=connections)

    return draw_graph()


# 25 examples of two whole graphs saved and loaded: past the default 120 s at a load of 12 on 2 cores.
@pytest.mark.timeout(600)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_graphs_round_trip_exactly(workflows, backend, data):
    drawn = graphs(nul=backend == "sqlite")
    first, second = data.draw(drawn, label="first"), data.draw(drawn, label="second")
    created = workflows.create_from_graph(first)
    loaded = workflows.load_graph(created.workflow.id)
    assert loaded == created
    assert [n.config for n in loaded.nodes] == [n.config for n in first.nodes]
    assert [(c.from_node, c.to_node, c.config, c.condition) for c in loaded.connections] == [
        (c.from_node, c.to_node, c.config, c.condition) for c in first.connections
    ]
    # Replace it with another random graph, keeping the ids of nodes whose names survive.
    ids = {n.name: n.id for n in loaded.nodes}
    replacement = second.model_copy(
        update={
            "workflow": second.workflow.model_copy(update={"id": created.workflow.id}),
            "nodes": [n.model_copy(update={"id": ids.get(n.name)}) for n in second.nodes],
        }
    )
    saved = workflows.save_graph(replacement)
    assert workflows.load_graph(created.workflow.id) == saved
    # A saved graph comes back in id order (WorkflowService.save_graph's contract: a kept node keeps
    # its older id, so it comes before nodes new in this save); each node's content is exact.
    assert {n.name: n.config for n in saved.nodes} == {n.name: n.config for n in second.nodes}
    assert [n.id for n in saved.nodes] == sorted(n.id for n in saved.nodes)
