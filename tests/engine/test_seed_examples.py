"""The seed's parallel and loop examples, written with the Python API (orchestrator + executor),
run against the local HTTP server."""

from __future__ import annotations

import asyncio

from flowdesk.api import WorkflowExecutor, WorkflowOrchestrator
from flowdesk.domain.enums import ConnectionType, NodeType


async def _build(orchestrator, name, config, nodes, connections):
    workflow = await orchestrator.create_workflow(
        name=name, description="seed example", config=config, tags=["demo"]
    )
    ids = {}
    for node_name, node_type, node_config in nodes:
        node = await orchestrator.add_node(
            workflow.id, name=node_name, node_type=node_type, config=node_config
        )
        ids[node_name] = node.id
    for a, b, kind in connections:
        await orchestrator.add_connection(workflow.id, ids[a], ids[b], kind)
    return workflow


def test_parallel_example(db, http_server):
    async def main():
        orchestrator = WorkflowOrchestrator(db=db)
        workflow = await _build(
            orchestrator,
            "并行获取用户数据",
            {"timeout": 60},
            [
                ("start", NodeType.START, {}),
                ("fan_out", NodeType.PARALLEL, {"max_concurrent": 2, "wait_for_all": True}),
                (
                    "获取用户",
                    NodeType.API_CALL,
                    {"method": "GET", "url": "{{input.base_url}}/users/{{input.user_id}}"},
                ),
                (
                    "获取订单",
                    NodeType.API_CALL,
                    {"method": "GET", "url": "{{input.base_url}}/anything/orders", "query": {"limit": 10}},
                ),
                (
                    "获取积分",
                    NodeType.API_CALL,
                    {"method": "GET", "url": "{{input.base_url}}/anything/points", "retry_count": 2},
                ),
                (
                    "summary",
                    NodeType.API_CALL,
                    {
                        "method": "POST",
                        "url": "{{input.base_url}}/anything/summaries",
                        "body": {
                            "user": "{{获取用户.response.data.name}}",
                            "orders": "{{获取订单.response.data.args.limit}}",
                        },
                        "output_mapping": {"user": "response.data.json.user"},
                    },
                ),
                (
                    "end",
                    NodeType.END,
                    {"output": {"user": "{{summary.user}}", "branches": "{{fan_out.branches}}"}},
                ),
            ],
            [
                ("start", "fan_out", ConnectionType.SEQUENCE),
                ("fan_out", "获取用户", ConnectionType.PARALLEL),
                ("fan_out", "获取订单", ConnectionType.PARALLEL),
                ("fan_out", "获取积分", ConnectionType.PARALLEL),
                ("获取用户", "summary", ConnectionType.SEQUENCE),
                ("获取订单", "summary", ConnectionType.SEQUENCE),
                ("获取积分", "summary", ConnectionType.SEQUENCE),
                ("summary", "end", ConnectionType.SEQUENCE),
            ],
        )
        executor = WorkflowExecutor(debug=False, db=db)
        try:
            execution = await executor.execute_workflow(
                workflow.id, {"base_url": http_server.url, "user_id": 3}
            )
            logs = await execution.logs()
        finally:
            await executor.aclose()
            await orchestrator.close()
        return execution, logs

    execution, logs = asyncio.run(main())
    assert execution.status == "completed", execution.error_message
    assert execution.output_data["user"]
    assert len(execution.output_data["branches"]) == 3
    assert [b["response"]["status"] for b in execution.output_data["branches"]] == [200, 200, 200]
    names = [log.step_name for log in logs]
    assert names[:2] == ["start", "fan_out"] and names[-2:] == ["summary", "end"]
    assert sorted(names[2:5]) == sorted(["获取用户", "获取订单", "获取积分"])


def test_loop_example(db, http_server):
    async def main():
        orchestrator = WorkflowOrchestrator(db=db)
        workflow = await _build(
            orchestrator,
            "Loop over users 循环",
            {"timeout": 60},
            [
                ("start", NodeType.START, {}),
                (
                    "each_user",
                    NodeType.LOOP,
                    {"items": "{{input.user_ids}}", "break_on_error": False, "max_iterations": 100},
                ),
                (
                    "fetch_user",
                    NodeType.API_CALL,
                    {
                        "method": "GET",
                        "url": "{{input.base_url}}/users/{{loop.item}}",
                        "headers": {"X-Iteration": "{{loop.index}}"},
                        "output_mapping": {"name": "response.data.name"},
                    },
                ),
                (
                    "done 完成",
                    NodeType.END,
                    {"output": {"count": "{{each_user.iterations}}", "users": "{{each_user.results}}"}},
                ),
            ],
            [
                ("start", "each_user", ConnectionType.SEQUENCE),
                ("each_user", "fetch_user", ConnectionType.LOOP),
                ("fetch_user", "each_user", ConnectionType.SEQUENCE),
                ("each_user", "done 完成", ConnectionType.SEQUENCE),
            ],
        )
        executor = WorkflowExecutor(db=db)
        try:
            execution = await executor.execute_workflow(
                workflow.id, {"base_url": http_server.url, "user_ids": [1, 2, 999]}
            )
            logs = await execution.logs()
        finally:
            await executor.aclose()
            await orchestrator.close()
        return execution, logs

    execution, logs = asyncio.run(main())
    assert execution.status == "completed", execution.error_message
    assert execution.output_data["count"] == 3
    users = execution.output_data["users"]
    assert users[0]["name"] and users[1]["name"]
    assert "404" in users[2]["error"]
    statuses = {log.step_name: str(log.status) for log in logs}
    assert statuses == {
        "start": "success",
        "each_user": "success",
        "fetch_user[0]": "success",
        "fetch_user[1]": "success",
        "fetch_user[2]": "failed",
        "done 完成": "success",
    }
