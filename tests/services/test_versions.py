"""VersionService: snapshots in the file-format shape, diffs, restore that loses nothing."""

from __future__ import annotations

from datetime import UTC

import pytest

from flowdesk.domain import Connection, ConnectionType, Node, NodeType, NotFoundError, Workflow, WorkflowGraph
from flowdesk.services import VersionService
from flowdesk.services.versions import diff_documents, document_to_graph, graph_to_document


@pytest.fixture
def versions(db):
    return VersionService(db)


def test_snapshot_is_the_file_format_document(versions, small_workflow):
    wf, _, _ = small_workflow
    v = versions.save_version(wf.id, note="first")
    assert (v.number, v.label, v.note) == (1, "1.0", "first")  # label defaults to the workflow's version
    assert v.created_at.tzinfo is UTC
    doc = versions.get_version(v.id).snapshot
    assert doc == {
        "flowdesk": 1,
        "workflow": {
            "name": "small",
            "description": "three nodes",
            "version": "1.0",
            "config": {},
            "tags": ["demo"],
            "is_active": False,
        },
        "nodes": [
            {
                "name": "start",
                "node_type": "START",
                "config": {},
                "position_x": 0.0,
                "position_y": 0.0,
                "description": "",
            },
            {
                "name": "call",
                "node_type": "API_CALL",
                "config": {"api_id": 1},
                "position_x": 200.0,
                "position_y": 0.0,
                "description": "",
            },
            {
                "name": "end",
                "node_type": "END",
                "config": {},
                "position_x": 400.0,
                "position_y": 0.0,
                "description": "",
            },
        ],
        "connections": [
            {"from": "start", "to": "call", "connection_type": "SEQUENCE", "condition": None, "config": {}},
            {"from": "call", "to": "end", "connection_type": "SEQUENCE", "condition": None, "config": {}},
        ],
    }
    # The document turns back into the same graph (minus ids), so restore works from either writer.
    graph = document_to_graph(doc)
    assert graph_to_document(graph) == doc


def test_labels_default_to_version_then_number(versions, workflows, small_workflow):
    wf, _, _ = small_workflow
    assert versions.save_version(wf.id).label == "1.0"
    assert versions.save_version(wf.id).label == "v2"  # "1.0" is taken
    assert versions.save_version(wf.id, label="release").label == "release"
    workflows.update_workflow(wf.id, version="2.0")
    assert versions.save_version(wf.id).label == "2.0"
    assert [(v.number, v.label, v.snapshot) for v in versions.list_versions(wf.id)] == [
        (1, "1.0", None),
        (2, "v2", None),
        (3, "release", None),
        (4, "2.0", None),
    ]


def test_diff_reports_field_level_changes(versions, workflows, small_workflow):
    wf, (start, call, end), (c1, c2) = small_workflow
    v1 = versions.save_version(wf.id)
    workflows.update_node(call.id, config={"api_id": 2, "retries": 3}, position_x=250)
    workflows.update_workflow(wf.id, description="edited")
    delay = workflows.add_node(wf.id, "wait", NodeType.DELAY)
    workflows.delete_node(end.id)
    workflows.add_connection(wf.id, call.id, delay.id, ConnectionType.SEQUENCE)
    workflows.update_connection(c1.id, condition="input.go", config={"label": "go"})
    v2 = versions.save_version(wf.id)
    diff = versions.diff_versions(v1.id, v2.id)
    assert (diff.from_version_id, diff.to_version_id, diff.from_label, diff.to_label) == (
        v1.id,
        v2.id,
        "1.0",
        "v2",
    )
    assert [(c.field, c.before, c.after) for c in diff.workflow_changes] == [
        ("description", "three nodes", "edited")
    ]
    assert diff.nodes_added == ["wait"] and diff.nodes_removed == ["end"]
    (changed,) = diff.nodes_changed
    assert changed.name == "call"
    assert [(c.field, c.before, c.after) for c in changed.changes] == [
        ("config.api_id", 1, 2),
        ("config.retries", None, 3),
        ("position_x", 200.0, 250.0),
    ]
    assert [str(c) for c in diff.connections_added] == ["call -> wait (SEQUENCE)"]
    assert [str(c) for c in diff.connections_removed] == ["call -> end (SEQUENCE)"]
    (conn,) = diff.connections_changed
    assert (conn.from_node, conn.to_node) == ("start", "call")
    assert [(c.field, c.before, c.after) for c in conn.changes] == [
        ("condition", None, "input.go"),
        ("config.label", None, "go"),
    ]
    assert not diff.is_empty
    assert diff.summary() == (
        "workflow description changed; nodes: 1 added, 1 removed, 1 changed; connections: 1 added, 1 removed, 1 changed."
    )
    assert versions.diff_versions(v1.id, v1.id).is_empty
    assert versions.diff_versions(v1.id, v1.id).summary() == "No differences."


def test_connection_type_is_part_of_the_identity():
    before = {"nodes": [], "connections": [{"from": "a", "to": "b", "connection_type": "SEQUENCE"}]}
    after = {"nodes": [], "connections": [{"from": "a", "to": "b", "connection_type": "ERROR"}]}
    diff = diff_documents(before, after)
    assert [c.connection_type for c in diff.connections_added] == ["ERROR"]
    assert [c.connection_type for c in diff.connections_removed] == ["SEQUENCE"]


def test_restore_replaces_the_graph_and_loses_nothing(db, versions, workflows, executions, small_workflow):
    from flowdesk.domain import ExecutionLog

    wf, (start, call, end), _ = small_workflow
    v1 = versions.save_version(wf.id)
    run = executions.create_execution(wf.id)
    executions.add_logs([ExecutionLog(execution_id=run.id, step_name="call", node_id=call.id)])
    # Unsaved edits after v1: remove `end`, add `extra`, move `call`.
    workflows.delete_node(end.id)
    extra = workflows.add_node(wf.id, "extra", NodeType.DELAY)
    workflows.add_connection(wf.id, call.id, extra.id)
    workflows.update_node(call.id, position_x=999)

    restored = versions.restore_version(v1.id)
    assert [n.name for n in restored.nodes] == ["start", "call", "end"]
    loaded = workflows.load_graph(wf.id)
    assert loaded == restored
    assert graph_to_document(loaded) == versions.get_version(v1.id).snapshot
    assert loaded.node("call").id == call.id  # same row: run history still points at it
    assert executions.get_logs(run.id)[0].node_id == call.id
    labels = [v.label for v in versions.list_versions(wf.id)]
    assert labels == ["1.0", "before restoring 1.0", "restored from 1.0"]
    before = versions.list_versions(wf.id)[1]
    assert "extra" in [n["name"] for n in versions.get_version(before.id).snapshot["nodes"]]
    # Restoring again when nothing changed since does not add another "before" snapshot.
    versions.restore_version(v1.id)
    assert [v.label for v in versions.list_versions(wf.id)][-1] == "restored from 1.0"
    assert len(versions.list_versions(wf.id)) == 4


def test_restore_handles_renamed_and_swapped_nodes(versions, workflows):
    graph = workflows.create_from_graph(
        WorkflowGraph(
            workflow=Workflow(name="swap"),
            nodes=[Node(name="a", node_type="START"), Node(name="b", node_type="END")],
            connections=[Connection(from_node="a", to_node="b")],
        )
    )
    v1 = versions.save_version(graph.workflow.id)
    a, b = graph.nodes
    workflows.update_node(a.id, name="tmp")
    workflows.update_node(b.id, name="a")
    workflows.update_node(a.id, name="b")
    restored = versions.restore_version(v1.id)
    # Matched by name: "a" is the START again, "b" the END (nodes come back in id order).
    assert sorted((n.name, n.node_type) for n in restored.nodes) == [("a", "START"), ("b", "END")]
    assert {n.name: n.id for n in restored.nodes} == {"a": b.id, "b": a.id}


def test_versions_errors_and_audit(versions, audit, small_workflow):
    wf, _, _ = small_workflow
    with pytest.raises(NotFoundError, match="Version 42 does not exist."):
        versions.get_version(42)
    with pytest.raises(NotFoundError, match="Workflow 99 does not exist."):
        versions.save_version(99)
    with pytest.raises(NotFoundError):
        versions.list_versions(99)
    v = versions.save_version(wf.id, label="L")
    entry = audit.list_entries(entity="version")[0]
    assert (entry.entity_id, entry.action) == (v.id, "create")
    assert entry.summary == f"Saved version 'L' (#1) of workflow {wf.id}."
