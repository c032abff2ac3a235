"""store.bulk: the SQLite fast paths and the portable Core paths store and read the same values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowdesk.domain import Connection, ExecutionLog, Node, Workflow, WorkflowGraph


def _graph() -> WorkflowGraph:
    return WorkflowGraph(
        workflow=Workflow(name="bulk", tags=["t"], config={"k": "v"}),
        nodes=[
            Node(name="s", node_type="START", config={}, position_x=1.25),
            Node(name="调用", node_type="API_CALL", config={"api_id": 3, "nested": {"a": [1, None, "x"]}}),
            Node(name="e", node_type="END", description="the end"),
        ],
        connections=[
            Connection(from_node="s", to_node="调用", config={}),
            Connection(from_node="调用", to_node="e", condition="调用.ok", config={"label": "ok"}),
        ],
    )


@pytest.fixture(params=["sqlite", "portable"])
def dialect_path(request, db, monkeypatch):
    """Run each test through the SQLite fast path and through the Core path other databases take."""
    if request.param == "portable":
        monkeypatch.setattr(db.engine.dialect, "name", "portable")
    return request.param


def test_graph_round_trip_on_both_paths(db, dialect_path):
    from flowdesk.services import WorkflowService

    service = WorkflowService(db)
    created = service.create_from_graph(_graph())
    assert service.load_graph(created.workflow.id) == created
    edited = created.model_copy(
        update={
            "nodes": [
                created.nodes[0].model_copy(update={"position_x": 7.0}),
                *created.nodes[1:],
                Node(name="new", node_type="DELAY"),
            ],
            "connections": [*created.connections, Connection(from_node="s", to_node="new")],
        }
    )
    saved = service.save_graph(edited)
    loaded = service.load_graph(created.workflow.id)
    assert loaded == saved
    assert loaded.nodes[0].position_x == 7.0 and loaded.nodes[1].config["nested"] == {"a": [1, None, "x"]}
    assert all(n.created_at.tzinfo is UTC for n in loaded.nodes)


def test_logs_round_trip_on_both_paths(db, dialect_path):
    from flowdesk.services import ExecutionService, WorkflowService

    wf = WorkflowService(db).create_workflow("w")
    executions = ExecutionService(db)
    run = executions.create_execution(wf.id)
    at = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    ids = executions.add_logs(
        [
            ExecutionLog(execution_id=run.id, step_name=f"s{i}", sequence=i, metrics={"n": i}, started_at=at)
            for i in range(5)
        ]
    )
    executions.update_logs([(ids[2], {"status": "success", "output_data": {"ok": True}, "completed_at": at})])
    logs = executions.get_logs(run.id)
    assert [log.id for log in logs] == ids
    assert logs[2].status == "success" and logs[2].output_data == {"ok": True} and logs[2].completed_at == at
    assert logs[4].metrics == {"n": 4} and logs[4].started_at == at


def test_ids_follow_existing_rows_after_deletes(db):
    """Fast-path ids continue after the highest id, like SQLite's own rowid choice."""
    from flowdesk.services import ExecutionService, WorkflowService

    wf = WorkflowService(db).create_workflow("w")
    executions = ExecutionService(db)
    run = executions.create_execution(wf.id)
    first = executions.add_logs([ExecutionLog(execution_id=run.id, step_name="a")] * 3)
    executions.add_logs([])
    second = executions.add_logs([ExecutionLog(execution_id=run.id, step_name="b")] * 2)
    assert second == [first[-1] + 1, first[-1] + 2]
