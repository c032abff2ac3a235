"""The document model's rules and signals, and the undo commands over it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.domain.enums import ConnectionType, NodeType
from flowdesk.ui.commands import (
    AddConnectionCommand,
    AddNodeCommand,
    EditNodeCommand,
    MoveNodesCommand,
    RemoveItemsCommand,
    RenameNodeCommand,
    SetConnectionTypeCommand,
)
from flowdesk.ui.document import (
    ConnectionRefusedError,
    ConnectionState,
    NodeNameError,
    NodeState,
    WorkflowDocument,
)
from tests.support.canvas_driving import sample_graph

from .conftest import snapshot


def make_doc(qapp) -> WorkflowDocument:
    doc = WorkflowDocument()
    doc.load_graph(sample_graph())
    return doc


def uid(doc, name):
    return doc.node_by_name(name).uid


def test_signals_only_on_real_change(qapp):
    doc = make_doc(qapp)
    seen = []
    doc.node_moved.connect(lambda u: seen.append(("moved", u)))
    doc.node_renamed.connect(lambda u: seen.append(("renamed", u)))
    doc.node_changed.connect(lambda u: seen.append(("changed", u)))
    n = doc.node_by_name("yes")
    doc.move_node(n.uid, n.x, n.y)
    doc.rename_node(n.uid, "yes")
    doc.set_node_config(n.uid, {"seconds": 0})
    assert seen == []
    doc.move_node(n.uid, 10, 20)
    doc.rename_node(n.uid, "yes!")
    doc.set_node_config(n.uid, {"seconds": 2})
    assert seen == [("moved", n.uid), ("renamed", n.uid), ("changed", n.uid)]


@pytest.mark.parametrize(
    ("source", "target", "ctype", "reason"),
    [
        ("yes", "yes", ConnectionType.SEQUENCE, "itself"),
        ("end", "yes", ConnectionType.SEQUENCE, "END node"),
        ("yes", "start", ConnectionType.SEQUENCE, "START node"),
        ("yes", "no", ConnectionType.CONDITIONAL_TRUE, "must leave a CONDITION node"),
        ("yes", "no", ConnectionType.PARALLEL, "must leave a PARALLEL node"),
        ("yes", "no", ConnectionType.LOOP, "must leave a LOOP node"),
        ("start", "check", ConnectionType.SEQUENCE, "already connected"),
        ("end", "start", ConnectionType.SEQUENCE, "END node"),
        ("yes", "check", ConnectionType.SEQUENCE, "cycle that does not pass through a LOOP"),
    ],
)
def test_connection_rules_raise_typed_errors(qapp, source, target, ctype, reason):
    doc = make_doc(qapp)
    with pytest.raises(ConnectionRefusedError, match=reason):
        doc.check_connect(uid(doc, source), uid(doc, target), ctype)


def test_cycle_through_a_loop_is_allowed(qapp):
    doc = make_doc(qapp)
    loop = NodeState(doc.new_uid(), "loop", NodeType.LOOP)
    body = NodeState(doc.new_uid(), "body", NodeType.DELAY)
    doc.add_node(loop)
    doc.add_node(body)
    doc.add_connection(ConnectionState(doc.new_uid(), loop.uid, body.uid, ConnectionType.LOOP))
    doc.check_connect(body.uid, loop.uid, ConnectionType.SEQUENCE)  # back into the loop: fine


def test_names_are_unique_and_not_blank(qapp):
    doc = make_doc(qapp)
    with pytest.raises(NodeNameError):
        doc.rename_node(uid(doc, "yes"), "no")
    with pytest.raises(NodeNameError):
        doc.rename_node(uid(doc, "yes"), "  ")
    assert doc.default_name(NodeType.DELAY) == "Delay"
    doc.add_node(NodeState(doc.new_uid(), "Delay", NodeType.DELAY))
    assert doc.default_name(NodeType.DELAY) == "Delay 2"


def test_delete_nodes_restores_connections_in_original_order(qapp):
    doc = make_doc(qapp)
    before = snapshot(doc)
    doc.undo_stack.push(RemoveItemsCommand(doc, [uid(doc, "check"), uid(doc, "end")]))
    assert [n.name for n in doc.nodes()] == ["start", "yes", "no"]
    assert doc.connections() == []
    doc.undo_stack.undo()
    assert snapshot(doc) == before
    doc.undo_stack.redo()
    doc.undo_stack.undo()
    assert snapshot(doc) == before


def test_rename_updates_references_when_asked(qapp):
    doc = make_doc(qapp)
    end = uid(doc, "end")
    doc.set_node_config(end, {"output": {"ok": "{{check.result}}"}})
    doc.undo_stack.clear()
    doc.undo_stack.push(RenameNodeCommand(doc, uid(doc, "check"), "gate", update_references=True))
    assert doc.node(end).config == {"output": {"ok": "{{gate.result}}"}}
    doc.undo_stack.undo()
    assert doc.node(end).config == {"output": {"ok": "{{check.result}}"}}
    assert doc.node_by_name("check") is not None
    doc.undo_stack.push(RenameNodeCommand(doc, uid(doc, "check"), "gate", update_references=False))
    assert doc.node(end).config == {"output": {"ok": "{{check.result}}"}}


def test_set_connection_type_checks_rules(qapp):
    doc = make_doc(qapp)
    first = doc.connections()[0]  # start -> check
    with pytest.raises(ConnectionRefusedError):
        doc.set_connection_type(first.uid, ConnectionType.CONDITIONAL_TRUE)
    doc.undo_stack.push(SetConnectionTypeCommand(doc, first.uid, ConnectionType.ERROR))
    assert doc.connection(first.uid).connection_type == ConnectionType.ERROR
    doc.undo_stack.undo()
    assert doc.connection(first.uid).connection_type == ConnectionType.SEQUENCE


def test_to_graph_round_trips_through_load(qapp):
    doc = make_doc(qapp)
    graph = doc.to_graph()
    other = WorkflowDocument()
    other.load_graph(graph)
    assert other.to_graph().model_dump() == graph.model_dump()


# ---------------------------------------------------------------- property-based: undo/redo everything

EDIT_KINDS = ["add", "remove", "move", "connect", "disconnect", "retype", "config", "rename"]


def apply_random_edit(doc: WorkflowDocument, kind: str, data) -> None:
    nodes = doc.nodes()
    conns = doc.connections()
    stack = doc.undo_stack
    if kind == "add" or not nodes:
        node_type = data.draw(
            st.sampled_from([NodeType.DELAY, NodeType.CONDITION, NodeType.LOOP, NodeType.API_CALL])
        )
        x, y = data.draw(st.integers(-500, 500)), data.draw(st.integers(-500, 500))
        stack.push(
            AddNodeCommand(doc, NodeState(doc.new_uid(), doc.default_name(node_type), node_type, {}, x, y))
        )
    elif kind == "remove":
        picked = data.draw(
            st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique_by=lambda n: n.uid)
        )
        stack.push(RemoveItemsCommand(doc, [n.uid for n in picked]))
    elif kind == "move":
        picked = data.draw(
            st.lists(st.sampled_from(nodes), min_size=1, max_size=3, unique_by=lambda n: n.uid)
        )
        dx = data.draw(st.integers(-300, 300))
        stack.push(MoveNodesCommand(doc, {n.uid: ((n.x, n.y), (n.x + dx, n.y - dx)) for n in picked}))
    elif kind == "connect" and len(nodes) >= 2:
        a, b = data.draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2, unique_by=lambda n: n.uid))
        ctype = {NodeType.CONDITION: ConnectionType.CONDITIONAL_TRUE, NodeType.LOOP: ConnectionType.LOOP}.get(
            a.node_type, ConnectionType.SEQUENCE
        )
        try:
            doc.check_connect(a.uid, b.uid, ctype)
        except ConnectionRefusedError:
            return
        stack.push(AddConnectionCommand(doc, ConnectionState(doc.new_uid(), a.uid, b.uid, ctype)))
    elif kind == "disconnect" and conns:
        c = data.draw(st.sampled_from(conns))
        stack.push(RemoveItemsCommand(doc, [], [c.uid]))
    elif kind == "retype" and conns:
        c = data.draw(st.sampled_from(conns))
        ctype = data.draw(
            st.sampled_from([ConnectionType.ERROR, ConnectionType.SEQUENCE, ConnectionType.CONDITIONAL])
        )
        try:
            doc.check_connect(c.source, c.target, ctype, ignore=c.uid)
        except ConnectionRefusedError:
            return
        stack.push(
            SetConnectionTypeCommand(doc, c.uid, ctype, "input.x > 1" if ctype == "CONDITIONAL" else None)
        )
    elif kind == "config":
        n = data.draw(st.sampled_from(nodes))
        stack.push(EditNodeCommand(doc, n.uid, config={"v": data.draw(st.integers())}, description="d"))
    elif kind == "rename":
        n = data.draw(st.sampled_from(nodes))
        name = doc.unique_name(data.draw(st.sampled_from(["a", "b", "名前"])))
        stack.push(RenameNodeCommand(doc, n.uid, name, update_references=True))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_edits_undo_to_first_and_redo_to_last(qapp, data):
    doc = make_doc(qapp)
    first = snapshot(doc)
    kinds = data.draw(st.lists(st.sampled_from(EDIT_KINDS), min_size=1, max_size=14))
    for kind in kinds:
        apply_random_edit(doc, kind, data)
    last = snapshot(doc)
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert snapshot(doc) == first
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert snapshot(doc) == last
