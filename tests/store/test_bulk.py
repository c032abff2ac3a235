"""store.bulk: graphs and step logs written and read through the bulk paths come back as stored (SQLite's
fast paths and PostgreSQL's sequence/COPY paths: each test runs on both backends)."""

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


def test_graph_round_trip(db):
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


def test_logs_round_trip(db):
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
    """New ids continue after the highest id (SQLite's fast path as its own rowid choice; PostgreSQL's
    sequence)."""
    from flowdesk.services import ExecutionService, WorkflowService

    wf = WorkflowService(db).create_workflow("w")
    executions = ExecutionService(db)
    run = executions.create_execution(wf.id)
    first = executions.add_logs([ExecutionLog(execution_id=run.id, step_name="a")] * 3)
    executions.add_logs([])
    second = executions.add_logs([ExecutionLog(execution_id=run.id, step_name="b")] * 2)
    assert second == [first[-1] + 1, first[-1] + 2]


def test_append_rows_fills_what_a_row_lacks_with_defaults_or_null(db):
    """The engine's step batches go in through append_rows (PostgreSQL: COPY): a row may omit columns."""
    from flowdesk.services import ExecutionService, WorkflowService
    from flowdesk.services.executions import LOGS
    from flowdesk.store.bulk import append_rows

    wf = WorkflowService(db).create_workflow("w")
    executions = ExecutionService(db)
    run = executions.create_execution(wf.id)
    with db.session() as session:
        append_rows(
            session.connection(),
            LOGS,
            [
                {"execution_id": run.id, "step_name": "bare"},
                {"execution_id": run.id, "step_name": "full", "status": "success", "attempts": 2, "sequence": 1,
                 "metrics": {"n": 1.5}, "output_data": {"中文": [None]}, "started_at": datetime(2026, 1, 1, tzinfo=UTC)},
            ],
        )  # fmt: skip
        append_rows(session.connection(), LOGS, [])
    bare, full = executions.get_logs(run.id)
    # NULL metrics and output read back as the model's empty values
    assert (bare.status, bare.attempts, bare.sequence, bare.metrics, bare.output_data) == (
        "pending",
        0,
        0,
        {},
        None,
    )
    assert bare.created_at is not None and bare.created_at.tzinfo is UTC
    assert (full.status, full.attempts, full.metrics, full.output_data) == (
        "success",
        2,
        {"n": 1.5},
        {"中文": [None]},
    )
    assert full.started_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "count", [1, 5, 40]
)  # PostgreSQL: one INSERT ... RETURNING, one multi-row INSERT, COPY
def test_batches_of_every_size_keep_order_ids_and_values(db, count):
    from flowdesk.services import ExecutionService, WorkflowService
    from flowdesk.services.executions import LOGS
    from flowdesk.store.bulk import append_rows

    wf = WorkflowService(db).create_workflow("w")
    executions = ExecutionService(db)
    run = executions.create_execution(wf.id)
    text = 'tab\tnewline\nback\\slash "quoted" 中文'
    ids = executions.add_logs(
        [
            ExecutionLog(execution_id=run.id, step_name=f"a{i}", sequence=i, output_data={"t": text})
            for i in range(count)
        ]
    )
    assert ids == sorted(ids) and len(set(ids)) == count
    with db.session() as session:
        append_rows(
            session.connection(),
            LOGS,
            [
                {"execution_id": run.id, "step_name": f"b{i}", "sequence": count + i, "error_message": text}
                for i in range(count)
            ],
        )
    logs = executions.get_logs(run.id)
    assert [log.step_name for log in logs] == [f"a{i}" for i in range(count)] + [
        f"b{i}" for i in range(count)
    ]
    assert [log.id for log in logs[:count]] == ids and logs[-1].id > ids[-1]
    assert all(log.output_data == {"t": text} for log in logs[:count])
    assert all(log.error_message == text for log in logs[count:])
