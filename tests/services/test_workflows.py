"""WorkflowService: workflows, nodes, connections and whole graphs round-trip through SQLite."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import func, select

from flowdesk.domain import (
    ConflictError,
    Connection,
    ConnectionType,
    InvalidInputError,
    Node,
    NodeType,
    NotFoundError,
    WorkflowGraph,
)
from flowdesk.domain.models import Workflow
from flowdesk.store.tables import AuditRow, ConnectionRow, NodeRow, WorkflowRow


def _count(db, table) -> int:
    with db.session(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(table))


def test_workflow_round_trip(workflows):
    wf = workflows.create_workflow(
        "示例工作流",
        description="演示",
        version="1.0",
        config={"timeout": 300, "retry_count": 3},
        tags=["demo", "中文"],
    )
    assert wf.id and wf.status == "draft" and not wf.is_active
    got = workflows.get_workflow(wf.id)
    assert got == wf
    assert got.created_at.tzinfo is UTC and got.updated_at.tzinfo is UTC
    assert (got.name, got.description, got.config, got.tags) == (
        "示例工作流",
        "演示",
        {"timeout": 300, "retry_count": 3},
        ["demo", "中文"],
    )


def test_update_and_set_status(workflows):
    wf = workflows.create_workflow("w")
    updated = workflows.update_workflow(wf.id, description="new", tags=["a"], config={"k": [1, 2]})
    assert (updated.description, updated.tags, updated.config) == ("new", ["a"], {"k": [1, 2]})
    assert updated.updated_at >= wf.updated_at
    assert workflows.set_status(wf.id, "active").status == "active"
    assert workflows.get_workflow(wf.id).is_active
    assert workflows.set_status(wf.id, "draft").status == "draft"
    with pytest.raises(InvalidInputError, match="'archived' is not a workflow status"):
        workflows.set_status(wf.id, "archived")
    with pytest.raises(InvalidInputError, match="no field colour"):
        workflows.update_workflow(wf.id, colour="red")
    with pytest.raises(InvalidInputError, match="needs a name"):
        workflows.update_workflow(wf.id, name="  ")


def test_list_filters_by_tag_search_and_status(workflows):
    a = workflows.create_workflow("Sync Users", description="nightly", tags=["sync"])
    b = workflows.create_workflow("Report", description="Weekly ÉTAT report", tags=["report", "sync"])
    c = workflows.create_workflow("Other", is_active=True)
    assert [w.id for w in workflows.list_workflows()] == [a.id, b.id, c.id]
    assert [w.id for w in workflows.list_workflows(tag="sync")] == [a.id, b.id]
    assert [w.id for w in workflows.list_workflows(search="USERS")] == [a.id]
    assert [w.id for w in workflows.list_workflows(search="état")] == [b.id]  # non-ASCII case folding
    assert [w.id for w in workflows.list_workflows(status="active")] == [c.id]
    assert [w.id for w in workflows.list_workflows(status="draft", tag="sync", search="report")] == [b.id]


def test_find_workflow_by_id_or_name(workflows):
    a = workflows.create_workflow("alpha")
    numeric = workflows.create_workflow("12345")
    assert workflows.find_workflow(a.id) == a
    assert workflows.find_workflow(str(a.id)) == a
    assert workflows.find_workflow("alpha") == a
    assert workflows.find_workflow("12345") == numeric  # no workflow has id 12345, so it is a name
    with pytest.raises(NotFoundError, match="No workflow has the id or name 'beta'"):
        workflows.find_workflow("beta")
    twin = workflows.create_workflow("alpha")
    with pytest.raises(ConflictError, match=f"2 workflows are named 'alpha' \\(ids {a.id}, {twin.id}\\)"):
        workflows.find_workflow("alpha")


def test_missing_things_are_reported_in_sentences(workflows):
    with pytest.raises(NotFoundError, match="Workflow 99 does not exist."):
        workflows.get_workflow(99)
    with pytest.raises(NotFoundError, match="Node 5 does not exist."):
        workflows.get_node(5)
    with pytest.raises(NotFoundError, match="Connection 5 does not exist."):
        workflows.get_connection(5)
    with pytest.raises(NotFoundError):
        workflows.add_node(99, "n", NodeType.START)


def test_nodes_round_trip_and_names_are_unique(workflows, small_workflow):
    wf, (start, call, end), _ = small_workflow
    assert workflows.get_node(call.id) == call
    assert call.config == {"api_id": 1} and call.position_x == 200.0
    assert [n.name for n in workflows.list_nodes(wf.id)] == ["start", "call", "end"]
    with pytest.raises(ConflictError, match=f"Workflow {wf.id} already has a node named 'call'."):
        workflows.add_node(wf.id, "call", NodeType.DELAY)
    with pytest.raises(ConflictError, match="already has a node named 'end'"):
        workflows.update_node(call.id, name="end")
    other = workflows.create_workflow("other")
    assert workflows.add_node(other.id, "call", NodeType.API_CALL).name == "call"  # unique per workflow only
    moved = workflows.update_node(call.id, position_x=10.5, position_y=-3, config={"api_id": 2}, name="call2")
    assert (moved.position_x, moved.position_y, moved.config, moved.name) == (
        10.5,
        -3.0,
        {"api_id": 2},
        "call2",
    )
    assert workflows.get_node(call.id) == moved


def test_node_type_is_checked(workflows):
    wf = workflows.create_workflow("w")
    with pytest.raises(
        InvalidInputError, match="'API_CAL' is not a node type \\(did you mean API_CALL\\?\\)"
    ):
        workflows.add_node(wf.id, "x", "API_CAL")
    from flowdesk.services import NodeTypeService

    NodeTypeService(workflows.db).register_node_type(
        "SLACK", "post to slack", {"type": "object"}, "plugins:slack"
    )
    assert workflows.add_node(wf.id, "x", "SLACK").node_type == "SLACK"


def test_connections_round_trip_in_order(workflows, small_workflow):
    wf, (start, call, end), (c1, c2) = small_workflow
    assert (c1.from_node, c1.to_node, c1.from_node_id, c1.to_node_id) == ("start", "call", start.id, call.id)
    c3 = workflows.add_connection(
        wf.id, start.id, end.id, ConnectionType.CONDITIONAL, condition="x > 1", config={"w": 1}
    )
    assert workflows.get_connection(c3.id) == c3
    assert [c.id for c in workflows.list_connections(wf.id)] == [c1.id, c2.id, c3.id]
    changed = workflows.update_connection(c3.id, connection_type="ERROR", condition=None, to_node_id=call.id)
    assert (changed.connection_type, changed.condition, changed.to_node) == (
        ConnectionType.ERROR,
        None,
        "call",
    )
    workflows.delete_connection(c1.id)
    assert [c.id for c in workflows.list_connections(wf.id)] == [c2.id, c3.id]


def test_add_connection_checks_both_nodes(workflows, small_workflow):
    wf, (start, call, end), _ = small_workflow
    with pytest.raises(NotFoundError, match="Node 999 does not exist."):
        workflows.add_connection(wf.id, start.id, 999)
    other = workflows.create_workflow("other")
    stranger = workflows.add_node(other.id, "stranger", NodeType.END)
    with pytest.raises(
        ConflictError, match=f"Node {stranger.id} \\('stranger'\\) belongs to workflow {other.id}"
    ):
        workflows.add_connection(wf.id, start.id, stranger.id)
    with pytest.raises(InvalidInputError, match="'SIDEWAYS' is not a connection type"):
        workflows.add_connection(wf.id, start.id, end.id, "SIDEWAYS")


def test_deleting_a_node_deletes_its_connections(db, workflows, small_workflow):
    wf, (start, call, end), _ = small_workflow
    workflows.delete_node(call.id)
    assert workflows.list_connections(wf.id) == []
    assert [n.name for n in workflows.list_nodes(wf.id)] == ["start", "end"]


def test_delete_workflow_cascades(db, workflows, small_workflow):
    from flowdesk.domain import ExecutionLog
    from flowdesk.services import ExecutionService, VersionService
    from flowdesk.store.tables import ExecutionLogRow, ExecutionRow, VersionRow

    wf, (start, _, _), _ = small_workflow
    keep = workflows.create_workflow("keep")
    workflows.add_node(keep.id, "only", NodeType.START)
    run = ExecutionService(db).create_execution(wf.id)
    ExecutionService(db).add_logs([ExecutionLog(execution_id=run.id, step_name="start", node_id=start.id)])
    VersionService(db).save_version(wf.id)
    workflows.delete_workflow(wf.id)
    for table, left in (
        (NodeRow, 1),
        (ConnectionRow, 0),
        (ExecutionRow, 0),
        (ExecutionLogRow, 0),
        (VersionRow, 0),
    ):
        assert _count(db, table) == left, table.__tablename__
    with pytest.raises(NotFoundError):
        workflows.get_workflow(wf.id)


def test_duplicate_workflow(workflows, small_workflow):
    wf, nodes, conns = small_workflow
    workflows.set_status(wf.id, "active")
    copy = workflows.duplicate_workflow(wf.id)
    assert copy.name == "small (copy)" and copy.id != wf.id and copy.status == "draft"
    assert copy.tags == ["demo"] and copy.description == "three nodes"
    original, duplicate = workflows.load_graph(wf.id), workflows.load_graph(copy.id)
    assert [(n.name, n.node_type, n.config, n.position_x) for n in duplicate.nodes] == [
        (n.name, n.node_type, n.config, n.position_x) for n in original.nodes
    ]
    assert [(c.from_node, c.to_node, c.connection_type) for c in duplicate.connections] == [
        (c.from_node, c.to_node, c.connection_type) for c in original.connections
    ]
    assert not {n.id for n in duplicate.nodes} & {n.id for n in original.nodes}
    assert workflows.duplicate_workflow(wf.id, name="named").name == "named"


# -- whole graphs -------------------------------------------------------------------------------------


def _graph(name="g") -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name=name, config={"timeout": 5}, tags=["x"]),
        nodes=[
            Node(name="开始", node_type="START", position_x=1.5, position_y=2),
            Node(name="fan", node_type="PARALLEL", config={"max": 2}),
            Node(name="a", node_type="API_CALL", config={"api_id": 1, "parameters": {"q": "{{input.q}}"}}),
            Node(name="b", node_type="API_CALL", config={"api_id": 2}),
            Node(name="end", node_type="END"),
        ],
        connections=[
            Connection(from_node="开始", to_node="fan"),
            Connection(from_node="fan", to_node="b", connection_type="PARALLEL"),
            Connection(from_node="fan", to_node="a", connection_type="PARALLEL"),
            Connection(from_node="a", to_node="end"),
            Connection(from_node="b", to_node="end", condition=None, config={"label": "done"}),
        ],
    )


def test_create_from_graph_and_load_graph_round_trip(workflows):
    created = workflows.create_from_graph(_graph())
    assert created.workflow.id and all(n.id for n in created.nodes) and all(c.id for c in created.connections)
    loaded = workflows.load_graph(created.workflow.id)
    assert loaded == created
    # PARALLEL branch order is connection order, which must survive the database.
    assert [c.to_node for c in loaded.outgoing("fan")] == ["b", "a"]


def test_save_graph_upserts_nodes_and_replaces_connections(db, workflows):
    from flowdesk.domain import ExecutionLog
    from flowdesk.services import ExecutionService

    graph = workflows.create_from_graph(_graph())
    ids = {n.name: n.id for n in graph.nodes}
    run = ExecutionService(db).create_execution(graph.workflow.id)
    ExecutionService(db).add_logs([ExecutionLog(execution_id=run.id, step_name="a", node_id=ids["a"])])

    # The editor: rename a, move 开始, drop b, add c, swap-free rewire, change the workflow's tags.
    nodes = []
    for n in graph.nodes:
        if n.name == "b":
            continue
        if n.name == "a":
            n = n.model_copy(update={"name": "a2", "config": {"api_id": 3}})
        if n.name == "开始":
            n = n.model_copy(update={"position_x": 99.0})
        nodes.append(n)
    nodes.append(Node(name="c", node_type="DELAY", config={"seconds": 1}))
    edited = graph.model_copy(
        update={
            "workflow": graph.workflow.model_copy(update={"tags": ["y"], "description": "edited"}),
            "nodes": nodes,
            "connections": [
                Connection(from_node="开始", to_node="fan"),
                Connection(from_node="fan", to_node="c", connection_type="PARALLEL"),
                Connection(from_node="fan", to_node="a2", connection_type="PARALLEL"),
                Connection(from_node="a2", to_node="end"),
                Connection(from_node="c", to_node="end"),
            ],
        }
    )
    saved = workflows.save_graph(edited)
    loaded = workflows.load_graph(graph.workflow.id)
    assert loaded == saved
    by_name = {n.name: n for n in loaded.nodes}
    assert by_name["a2"].id == ids["a"]  # kept: same row, so run history still points at it
    assert by_name["开始"].position_x == 99.0
    assert "b" not in by_name and by_name["c"].id not in ids.values()
    assert [c.to_node for c in loaded.outgoing("fan")] == ["c", "a2"]
    assert (loaded.workflow.tags, loaded.workflow.description) == (["y"], "edited")
    assert ExecutionService(db).get_logs(run.id)[0].node_id == ids["a"]


def test_save_graph_handles_swapped_names(workflows):
    graph = workflows.create_from_graph(_graph())
    swap = {"a": "b", "b": "a"}
    nodes = [n.model_copy(update={"name": swap.get(n.name, n.name)}) for n in graph.nodes]
    conns = [
        c.model_copy(
            update={
                "from_node": swap.get(c.from_node, c.from_node),
                "to_node": swap.get(c.to_node, c.to_node),
            }
        )
        for c in graph.connections
    ]
    saved = workflows.save_graph(graph.model_copy(update={"nodes": nodes, "connections": conns}))
    before = {n.id: n.name for n in graph.nodes}
    after = {n.id: n.name for n in workflows.load_graph(saved.workflow.id).nodes}
    assert after == {i: swap.get(name, name) for i, name in before.items()}


def test_save_graph_deleting_a_node_keeps_its_history_with_null_node_id(db, workflows):
    from flowdesk.domain import ExecutionLog
    from flowdesk.services import ExecutionService

    graph = workflows.create_from_graph(_graph())
    b = graph.node("b")
    run = ExecutionService(db).create_execution(graph.workflow.id)
    ExecutionService(db).add_logs(
        [ExecutionLog(execution_id=run.id, step_name="b", node_name="b", node_id=b.id)]
    )
    workflows.save_graph(
        graph.model_copy(
            update={
                "nodes": [n for n in graph.nodes if n.name != "b"],
                "connections": [c for c in graph.connections if "b" not in (c.from_node, c.to_node)],
            }
        )
    )
    (log,) = ExecutionService(db).get_logs(run.id)
    assert log.node_id is None and log.step_name == "b" and log.node_name == "b"


def test_save_graph_when_a_new_node_takes_a_removed_nodes_id(workflows):
    """SQLite hands the highest id out again once its row is gone: a save that removes the last node
    and adds one wired the same way must still store the new node's connections."""
    graph = workflows.create_from_graph(_graph())
    last = graph.nodes[-1]
    replacement = Node(name="finish", node_type="END")
    edited = graph.model_copy(
        update={
            "nodes": [*graph.nodes[:-1], replacement],
            "connections": [
                c.model_copy(update={"to_node": "finish"}) if c.to_node == last.name else c
                for c in graph.connections
            ],
        }
    )
    saved = workflows.save_graph(edited)
    loaded = workflows.load_graph(graph.workflow.id)
    assert loaded == saved
    assert [(c.from_node, c.to_node) for c in loaded.connections] == [
        (c.from_node, c.to_node) for c in edited.connections
    ]


def test_save_graph_writes_only_what_changed(db, workflows):
    graph = workflows.create_from_graph(_graph())
    moved = graph.model_copy(
        update={
            "nodes": [n.model_copy(update={"position_x": 50.0}) if n.name == "a" else n for n in graph.nodes]
        }
    )
    saved = workflows.save_graph(moved)
    assert [c.id for c in saved.connections] == [c.id for c in graph.connections]  # not rewritten
    assert workflows.load_graph(graph.workflow.id) == saved
    from flowdesk.services import AuditService

    assert "1 changed" in AuditService(db).list_entries(entity="workflow")[0].summary


def test_save_graph_is_atomic(db, workflows):
    graph = workflows.create_from_graph(_graph())
    before = workflows.load_graph(graph.workflow.id)
    audit_rows = _count(db, AuditRow)
    broken = graph.model_copy(
        update={
            "workflow": graph.workflow.model_copy(update={"name": "renamed"}),
            "nodes": graph.nodes[1:] + [Node(name="new", node_type="DELAY")],
            "connections": graph.connections[1:] + [Connection(from_node="new", to_node="nowhere")],
        }
    )
    with pytest.raises(NotFoundError, match="refers to node 'nowhere', which is not in the workflow"):
        workflows.save_graph(broken)
    assert workflows.load_graph(graph.workflow.id) == before
    assert _count(db, AuditRow) == audit_rows


def test_failure_in_the_middle_of_a_write_rolls_everything_back(db, workflows, monkeypatch):
    """Provoke a failure after the workflow row, the node deletes and the node inserts have run."""
    from flowdesk.store import graphs as graphs_module

    graph = workflows.create_from_graph(_graph())
    before = workflows.load_graph(graph.workflow.id)
    counts = {t: _count(db, t) for t in (WorkflowRow, NodeRow, ConnectionRow, AuditRow)}

    reached = []

    def failing_on_connections(real):
        def insert(conn, table, *args):
            # Nodes go in; the connections' insert (the last write of the save) fails.
            reached.append(table.name)
            if table is graphs_module.CONNECTIONS:
                raise RuntimeError("disk on fire")
            return real(conn, table, *args)

        return insert

    monkeypatch.setattr(graphs_module, "insert_rows", failing_on_connections(graphs_module.insert_rows))
    edited = graph.model_copy(
        update={
            "workflow": graph.workflow.model_copy(update={"name": "changed"}),
            "nodes": graph.nodes[1:] + [Node(name="added", node_type="DELAY")],
            "connections": graph.connections[2:] + [Connection(from_node="added", to_node="end")],
        }
    )
    with pytest.raises(RuntimeError, match="disk on fire"):
        workflows.save_graph(edited)
    assert reached == ["workflow_nodes", "workflow_connections"]
    assert workflows.load_graph(graph.workflow.id) == before
    assert {t: _count(db, t) for t in counts} == counts


def test_save_graph_rejects_bad_graphs(workflows):
    graph = workflows.create_from_graph(_graph())
    dup = graph.model_copy(update={"nodes": graph.nodes + [Node(name="fan", node_type="DELAY")]})
    with pytest.raises(ConflictError, match="Two nodes are named 'fan'"):
        workflows.save_graph(dup)
    other = workflows.create_from_graph(_graph("other"))
    foreign = graph.model_copy(
        update={"nodes": graph.nodes + [other.nodes[0].model_copy(update={"name": "z"})]}
    )
    with pytest.raises(NotFoundError, match=f"is not part of workflow {graph.workflow.id}"):
        workflows.save_graph(foreign)
    with pytest.raises(InvalidInputError, match="has not been stored yet"):
        workflows.save_graph(_graph())


def test_every_write_adds_one_audit_row(audit, workflows):
    wf = workflows.create_workflow("audited")
    n1 = workflows.add_node(wf.id, "s", NodeType.START)
    n2 = workflows.add_node(wf.id, "e", NodeType.END)
    c = workflows.add_connection(wf.id, n1.id, n2.id)
    workflows.update_node(n1.id, position_x=5)
    workflows.update_connection(c.id, condition="true")
    workflows.update_workflow(wf.id, description="d")
    workflows.save_graph(workflows.load_graph(wf.id))
    workflows.delete_connection(c.id)
    workflows.delete_node(n2.id)
    workflows.duplicate_workflow(wf.id)
    workflows.delete_workflow(wf.id)
    entries = list(reversed(audit.list_entries()))
    assert [(e.entity, e.action) for e in entries] == [
        ("workflow", "create"),
        ("node", "create"),
        ("node", "create"),
        ("connection", "create"),
        ("node", "update"),
        ("connection", "update"),
        ("workflow", "update"),
        ("workflow", "update"),
        ("connection", "delete"),
        ("node", "delete"),
        ("workflow", "create"),
        ("workflow", "delete"),
    ]
    assert entries[0].entity_id == wf.id and entries[0].summary == "Created workflow 'audited'."
    assert entries[4].summary == "Updated node 's': position_x."
    assert all(e.occurred_at.tzinfo is UTC for e in entries)
    # Reads add nothing.
    workflows.list_workflows()
    workflows.load_graph(entries[-2].entity_id)
    assert len(audit.list_entries()) == len(entries)


def test_save_graph_connection_order_survives_random_edits(workflows):
    """Random editor sessions: whatever is saved loads back identical, in the same order."""
    import random

    rng = random.Random(20261128)
    graph = workflows.create_from_graph(_graph())
    counter = 0
    for _ in range(40):
        nodes = list(graph.nodes)
        connections = list(graph.connections)
        action = rng.choice(
            ["reorder", "insert", "delete", "modify", "duplicate", "node", "drop_node", "none"]
        )
        if action == "reorder" and len(connections) > 1:
            rng.shuffle(connections)
        elif action == "insert" or (action == "delete" and not connections):
            a, b = rng.sample([n.name for n in nodes], 2)
            connections.insert(rng.randrange(len(connections) + 1), Connection(from_node=a, to_node=b))
        elif action == "delete":
            connections.pop(rng.randrange(len(connections)))
        elif action == "modify" and connections:
            i = rng.randrange(len(connections))
            connections[i] = connections[i].model_copy(update={"condition": f"x > {rng.randint(0, 9)}"})
        elif action == "duplicate" and connections:
            i = rng.randrange(len(connections))
            connections.insert(i, connections[i].model_copy(update={"id": None}))
        elif action == "node":
            counter += 1
            nodes.append(Node(name=f"n{counter}", node_type="DELAY"))
            connections.append(Connection(from_node=nodes[0].name, to_node=f"n{counter}"))
        elif action == "drop_node" and len(nodes) > 3:
            gone = nodes.pop(rng.randrange(1, len(nodes))).name
            connections = [c for c in connections if gone not in (c.from_node, c.to_node)]
        edited = graph.model_copy(update={"nodes": nodes, "connections": connections})
        graph = workflows.save_graph(edited)
        loaded = workflows.load_graph(graph.workflow.id)
        assert loaded == graph, action
        assert [(c.from_node, c.to_node, c.condition) for c in loaded.connections] == [
            (c.from_node, c.to_node, c.condition) for c in connections
        ], action


def test_save_graph_keeps_rows_of_unchanged_connections(workflows):
    graph = workflows.create_from_graph(_graph())
    ids = [c.id for c in graph.connections]
    # Drop the second connection and append one: the others keep their rows.
    connections = [graph.connections[0], *graph.connections[2:], Connection(from_node="a", to_node="b")]
    saved = workflows.save_graph(graph.model_copy(update={"connections": connections}))
    assert [c.id for c in saved.connections[:-1]] == [ids[0], *ids[2:]]
    # Reverse the order: rows are kept, only their order numbers change.
    reversed_graph = saved.model_copy(update={"connections": list(reversed(saved.connections))})
    again = workflows.save_graph(reversed_graph)
    assert [c.id for c in again.connections] == [c.id for c in reversed(saved.connections)]
    assert workflows.load_graph(graph.workflow.id) == again
