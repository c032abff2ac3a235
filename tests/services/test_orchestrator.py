"""WorkflowOrchestrator, driven the way the seed's examples use it (plain asyncio.run)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from flowdesk import ConnectionType, NodeType, WorkflowOrchestrator
from flowdesk.domain import ConflictError, NotFoundError


def test_seed_example_conditional_workflow(db_path):
    async def scenario():
        orchestrator = WorkflowOrchestrator(db=str(db_path))
        workflow = await orchestrator.create_workflow(
            name="示例工作流",
            description="一个示例",
            version="1.0",
            config={"timeout": 300, "retry_count": 3},
            tags=["demo"],
        )
        assert workflow.id and workflow.name == "示例工作流" and workflow.status == "draft"
        start = await orchestrator.add_node(
            workflow.id, name="开始", node_type=NodeType.START, position_x=0, position_y=0
        )
        api = await orchestrator.create_api(name="get score", method="GET", url="http://127.0.0.1:9/score")
        call = await orchestrator.add_node(
            workflow.id,
            name="获取分数",
            node_type=NodeType.API_CALL,
            config={"api_id": api.id},
            position_x=200,
            position_y=0,
            description="calls the API",
        )
        check = await orchestrator.add_node(
            workflow.id,
            name="判断",
            node_type=NodeType.CONDITION,
            config={"condition": "获取分数.score >= 60"},
        )
        passed = await orchestrator.add_node(workflow.id, name="通过", node_type=NodeType.END)
        failed = await orchestrator.add_node(workflow.id, name="未通过", node_type=NodeType.END)
        await orchestrator.add_connection(workflow.id, start.id, call.id, ConnectionType.SEQUENCE)
        await orchestrator.add_connection(workflow.id, call.id, check.id, ConnectionType.SEQUENCE)
        yes = await orchestrator.add_connection(
            workflow.id, check.id, passed.id, ConnectionType.CONDITIONAL_TRUE
        )
        await orchestrator.add_connection(
            workflow.id, check.id, failed.id, ConnectionType.CONDITIONAL_FALSE, condition=None, config=None
        )
        graph = await orchestrator.load_graph(workflow.id)
        problems = await orchestrator.validate_workflow(workflow.id)
        active = await orchestrator.set_status(workflow.id, "active")
        listed = await orchestrator.list_workflows(tag="demo")
        await orchestrator.close()
        return workflow, yes, graph, problems, active, listed

    workflow, yes, graph, problems, active, listed = asyncio.run(scenario())
    assert [n.name for n in graph.nodes] == ["开始", "获取分数", "判断", "通过", "未通过"]
    assert yes.connection_type == ConnectionType.CONDITIONAL_TRUE and yes.to_node == "通过"
    assert [p for p in problems if p.severity == "error"] == []
    assert active.status == "active"
    assert [w.id for w in listed] == [workflow.id]


def test_parallel_connection_positional_type_and_crud(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            wf = await orchestrator.create_workflow(name="fan out")
            fan = await orchestrator.add_node(wf.id, name="fan", node_type=NodeType.PARALLEL)
            a = await orchestrator.add_node(wf.id, name="a", node_type="API_CALL")
            edge = await orchestrator.add_connection(wf.id, fan.id, a.id, ConnectionType.PARALLEL)
            assert (await orchestrator.get_connection(edge.id)).connection_type == ConnectionType.PARALLEL
            renamed = await orchestrator.update_node(a.id, name="a1", position_x=5)
            assert (renamed.name, renamed.position_x) == ("a1", 5.0)
            assert [n.name for n in await orchestrator.list_nodes(wf.id)] == ["fan", "a1"]
            await orchestrator.update_connection(edge.id, config={"weight": 2})
            assert (await orchestrator.list_connections(wf.id))[0].config == {"weight": 2}
            with pytest.raises(ConflictError):
                await orchestrator.add_node(wf.id, name="fan", node_type=NodeType.DELAY)
            copy = await orchestrator.duplicate_workflow(wf.id)
            updated = await orchestrator.update_workflow(wf.id, description="changed")
            assert updated.description == "changed"
            await orchestrator.delete_connection(edge.id)
            await orchestrator.delete_node(a.id)
            await orchestrator.delete_workflow(wf.id)
            with pytest.raises(NotFoundError):
                await orchestrator.get_workflow(wf.id)
            assert (await orchestrator.find_workflow("fan out (copy)")).id == copy.id
            entries = await orchestrator.audit_log(entity="workflow")
            assert entries[0].action == "delete"

    asyncio.run(scenario())


def test_versions_through_the_orchestrator(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            wf = await orchestrator.create_workflow(name="v", version="1.0")
            await orchestrator.add_node(wf.id, name="s", node_type=NodeType.START)
            v1 = await orchestrator.save_version(wf.id, note="first")
            await orchestrator.add_node(wf.id, name="e", node_type=NodeType.END)
            v2 = await orchestrator.save_version(wf.id, label="with end")
            diff = await orchestrator.diff_versions(v1.id, v2.id)
            restored = await orchestrator.restore_version(v1.id)
            versions = await orchestrator.list_versions(wf.id)
            return v1, diff, restored, versions

    v1, diff, restored, versions = asyncio.run(scenario())
    assert v1.label == "1.0" and v1.note == "first"
    assert diff.nodes_added == ["e"]
    assert [n.name for n in restored.nodes] == ["s"]
    assert [v.label for v in versions] == ["1.0", "with end", "restored from 1.0"]


def test_database_work_runs_off_the_event_loop_thread(db_path, monkeypatch):
    from flowdesk.services import workflows as workflows_module

    threads = []
    original = workflows_module.WorkflowService.create_workflow

    def spy(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(workflows_module.WorkflowService, "create_workflow", spy)

    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            # Many calls at once: the loop stays free and each call gets its own pooled connection.
            made = await asyncio.gather(*(orchestrator.create_workflow(name=f"w{i}") for i in range(12)))
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            task = asyncio.create_task(ticker())
            await orchestrator.list_workflows()
            task.cancel()
            return made, ticks, threading.current_thread()

    made, ticks, loop_thread = asyncio.run(scenario())
    assert len({w.id for w in made}) == 12
    assert threads and all(t is not loop_thread for t in threads)
    assert ticks > 0  # the loop ran other work while the query was in its thread


def test_apis_through_the_orchestrator(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            api = await orchestrator.create_api(name="users", url="http://127.0.0.1:1/users", tags=["crm"])
            wf = await orchestrator.create_workflow(name="uses api")
            await orchestrator.add_node(
                wf.id, name="call", node_type=NodeType.API_CALL, config={"api_id": api.id}
            )
            with pytest.raises(ConflictError, match="'uses api'"):
                await orchestrator.delete_api(api.id)
            changed = await orchestrator.update_api(api.id, timeout=5)
            assert changed.timeout == 5.0
            assert [a.id for a in await orchestrator.list_apis(tag="crm")] == [api.id]
            await orchestrator.delete_workflow(wf.id)
            await orchestrator.delete_api(api.id)
            assert await orchestrator.list_apis() == []

    asyncio.run(scenario())


def test_import_and_export_delegate_to_the_transfer_service(db_path, tmp_path):
    pytest.importorskip("flowdesk.services.transfer")
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "resources" / "examples" / "conditional.json"

    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            graph = await orchestrator.import_workflow(example)
            out = tmp_path / "out.json"
            text = await orchestrator.export_workflow(graph.workflow.id, path=out)
            return graph, text, out.read_text(encoding="utf-8")

    graph, text, written = asyncio.run(scenario())
    assert graph.workflow.id and graph.nodes
    assert json.loads(text)["workflow"]["name"] == graph.workflow.name
    assert json.loads(written) == json.loads(text)


def test_default_database_and_close(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDESK_DB", str(tmp_path / "default.db"))

    async def scenario():
        orchestrator = WorkflowOrchestrator()
        wf = await orchestrator.create_workflow(name="default db")
        path = orchestrator.database.path
        await orchestrator.close()
        from flowdesk.domain import FlowdeskError

        with pytest.raises(FlowdeskError, match="closed"):
            await orchestrator.get_workflow(wf.id)
        return path

    assert asyncio.run(scenario()) == (tmp_path / "default.db").resolve()


def test_a_shared_database_is_not_closed_by_the_orchestrator(db):
    async def scenario():
        async with WorkflowOrchestrator(db=db) as orchestrator:
            return await orchestrator.create_workflow(name="shared")

    made = asyncio.run(scenario())
    from flowdesk.services import WorkflowService

    assert WorkflowService(db).get_workflow(made.id).name == "shared"
