"""The seed's curl commands, run with the real curl binary against `flowdesk serve`, answer with the
shapes the seed shows (port aside: each test server has a free port instead of 8001)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")


def curl(server, method: str, path: str, body: dict | None = None) -> tuple[int, dict | list]:
    """What `curl -X METHOD URL -H 'Content-Type: application/json' -d BODY` prints, parsed."""
    command = ["curl", "-s", "-w", "\n%{http_code}", "-X", method, server.url + path]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "-d", json.dumps(body, ensure_ascii=False)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    text, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(text)


def test_the_seed_commands_work_verbatim(server, http_server):
    # Setting up: an API definition for the seed's node to call (the seed's library has one as id 1).
    status, api = curl(
        server,
        "POST",
        "/apis",
        {"name": "获取用户", "method": "GET", "url": http_server.url + "/users/{{params.user_id}}"},
    )
    assert status == 201, api

    status, workflow = curl(
        server,
        "POST",
        "/workflows",
        {
            "name": f"用户数据处理工作流 {server.port}",
            "description": "处理用户数据的完整流程",
            "version": "1.0",
            "config": {"timeout": 300, "retry_count": 3},
            "tags": ["用户管理", "数据处理"],
        },
    )
    assert status == 201
    assert {"id", "name", "description", "version", "status", "created_at"} <= set(workflow)
    assert workflow["status"] == "draft"
    wid = workflow["id"]

    status, start = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "开始", "node_type": "START"})
    assert status == 201
    status, node = curl(
        server,
        "POST",
        f"/workflows/{wid}/nodes",
        {
            "name": "获取用户信息",
            "node_type": "API_CALL",
            "config": {"api_id": api["id"], "parameters": {"user_id": "{{input.user_id}}"}, "timeout": 30},
            "position_x": 100,
            "position_y": 100,
            "description": "调用用户API获取用户基本信息",
        },
    )
    assert status == 201, node
    assert node["node_type"] == "API_CALL" and node["config"]["parameters"] == {
        "user_id": "{{input.user_id}}"
    }
    status, end = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "结束", "node_type": "END"})

    status, connection = curl(
        server,
        "POST",
        f"/workflows/{wid}/connections",
        {
            "from_node_id": start["id"],
            "to_node_id": node["id"],
            "connection_type": "SEQUENCE",
            "condition": None,
            "config": {"delay": 0},
        },
    )
    assert status == 201, connection
    assert connection["from_node_id"] == start["id"] and connection["config"] == {"delay": 0}
    status, _ = curl(
        server,
        "POST",
        f"/workflows/{wid}/connections",
        {
            "from_node_id": node["id"],
            "to_node_id": end["id"],
            "connection_type": "CONDITIONAL",
            "condition": "status_code == 200",
        },
    )
    assert status == 201

    status, started = curl(
        server,
        "POST",
        f"/workflows/{wid}/execute",
        {
            "execution_name": "用户数据处理-测试",
            "input_data": {"user_id": 12},
            "config": {"async": True, "timeout": 600},
        },
    )
    assert status == 202
    assert set(started) == {"execution_id", "status"}

    execution = _until_ended(server, started["execution_id"])
    assert {"id", "workflow_id", "execution_name", "status", "progress", "started_at", "current_step"} <= set(
        execution
    )
    assert execution["status"] == "completed", execution
    assert execution["progress"] == 100
    assert execution["output_data"] is not None, execution
    assert execution["output_data"]["获取用户信息"]["response"]["data"]["id"] == 12

    status, node_type = curl(
        server,
        "POST",
        "/admin/node-types",
        {
            "type_name": f"DATA_PROCESSOR_{server.port}",
            "description": "数据处理节点",
            "config_schema": {"processor_type": "string", "parameters": "object"},
            "execution_handler": "custom_handlers.data_processor",
        },
    )
    assert status == 201 and node_type["config_schema"] == {
        "processor_type": "string",
        "parameters": "object",
    }

    status, metrics = curl(server, "GET", f"/workflows/{wid}/metrics?type=custom")
    assert status == 200 and isinstance(metrics["custom_metrics"], dict)


def test_execute_without_async_answers_with_the_ended_execution(server):
    status, workflow = curl(server, "POST", "/workflows", {"name": f"sync {time.time_ns()}"})
    wid = workflow["id"]
    _, a = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "start", "node_type": "START"})
    _, b = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "end", "node_type": "END"})
    curl(server, "POST", f"/workflows/{wid}/connections", {"from_node_id": a["id"], "to_node_id": b["id"]})
    status, execution = curl(server, "POST", f"/workflows/{wid}/execute", {"input_data": {"x": 1}})
    assert status == 200
    assert execution["status"] == "completed" and execution["progress"] == 100
    assert execution["completed_at"] is not None


def _until_ended(server, execution_id: int) -> dict:
    import httpx

    while True:  # the test's own timeout bounds this
        execution = httpx.get(f"{server.url}/executions/{execution_id}", timeout=60).json()
        if execution["status"] not in ("running", "pending", "paused"):
            return execution
        time.sleep(0.02)


def test_a_node_type_registered_over_rest_runs_as_an_api_call_without_code(server, http_server):
    """The seed's registration body with an API definition as its handler: nodes of the type call
    that definition with their config fields as its parameters, run from REST like any node."""
    api_name = f"用户 {time.time_ns()}"
    status, api = curl(
        server,
        "POST",
        "/apis",
        {"name": api_name, "method": "GET", "url": http_server.url + "/users/{{params.user_id}}"},
    )
    assert status == 201, api
    type_name = f"GET_USER_{server.port}_{time.time_ns()}"
    status, registered = curl(
        server,
        "POST",
        "/admin/node-types",
        {
            "type_name": type_name,
            "description": "获取用户, 无代码",
            "config_schema": {"user_id": "string"},
            "execution_handler": f"api:{api_name}",
        },
    )
    assert status == 201 and registered["execution_handler"] == f"api:{api_name}", registered
    status, workflow = curl(server, "POST", "/workflows", {"name": f"no code {type_name}"})
    wid = workflow["id"]
    _, start = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "start", "node_type": "START"})
    status, user = curl(
        server,
        "POST",
        f"/workflows/{wid}/nodes",
        {"name": "user", "node_type": type_name, "config": {"user_id": "{{input.user_id}}"}},
    )
    assert status == 201, user
    _, end = curl(server, "POST", f"/workflows/{wid}/nodes", {"name": "end", "node_type": "END"})
    for a, b in ((start, user), (user, end)):
        curl(
            server, "POST", f"/workflows/{wid}/connections", {"from_node_id": a["id"], "to_node_id": b["id"]}
        )

    status, started = curl(
        server,
        "POST",
        f"/workflows/{wid}/execute",
        {"input_data": {"user_id": "7"}, "config": {"async": True}},
    )
    assert status == 202, started
    execution = _until_ended(server, started["execution_id"])
    assert execution["status"] == "completed", execution
    assert execution["output_data"]["user"]["response"]["data"]["id"] == 7
