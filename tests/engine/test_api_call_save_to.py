"""API_CALL's `save_to`: the whole body streamed to a file, through the WorkflowExecutor.

Graphs START -> API_CALL -> END run in memory against the local test server (test_api_call.py's
`execute`); the files go to tmp_path.
"""

from __future__ import annotations

import json

from tests.support.api_call_runs import FakeSleep, execute, output


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_save_to_writes_the_whole_body_and_the_step_records_path_and_size(http_server, tmp_path):
    size = 3 * 1024 * 1024  # three times the body limit: the file gets it all, the step none of it
    config = {
        "method": "GET",
        "url": f"{http_server.url}/large/{size}",
        "save_to": "{{input.folder}}/large-{{input.n}}.bin",
    }
    handle, step, _ = execute(config, {"folder": str(tmp_path), "n": 7})
    assert handle.status == "completed" and step["status"] == "success"
    target = tmp_path / "large-7.bin"
    response = output(handle)["response"]
    assert (response["saved_to"], response["size"], response["data"]) == (str(target), size, None)
    assert "truncated" not in response
    assert step["output_data"]["response"]["saved_to"] == str(target)
    assert target.read_bytes() == b"x" * size
    assert _leftovers(tmp_path) == ["large-7.bin"]


def test_a_save_to_folder_that_does_not_exist_is_one_step_error(http_server, tmp_path):
    missing = tmp_path / "nope"
    config = {"method": "GET", "url": f"{http_server.url}/json", "save_to": f"{missing}/out.json"}
    handle, step, _ = execute(config)
    assert handle.status == "failed" and step["status"] == "failed"
    assert step["error_type"] == "other"
    assert step["error_message"] == (
        f"GET {http_server.url}/json was not sent: save_to '{missing}/out.json': the folder '{missing}'"
        " does not exist"
    )


def test_save_to_must_render_to_a_path(http_server):
    handle, step, _ = execute(
        {"method": "GET", "url": f"{http_server.url}/json", "save_to": "{{input.n}}"}, {"n": 5}
    )
    assert step["status"] == "failed" and step["error_message"] == "save_to must be a file path, got 5"


def test_a_failed_call_leaves_no_file_and_keeps_the_previous_one(http_server, tmp_path):
    target = tmp_path / "user.json"
    target.write_text("previous")
    config = {"method": "GET", "url": f"{http_server.url}/users/999", "save_to": str(target)}
    handle, step, _ = execute(config)
    assert step["status"] == "failed" and step["error_type"] == "http_4xx"
    assert target.read_text() == "previous"
    assert _leftovers(tmp_path) == ["user.json"]


def test_a_retried_call_keeps_only_the_last_answers_body(http_server, tmp_path):
    target = tmp_path / "flaky.json"
    key = "save-to-retry"
    config = {
        "method": "GET",
        "url": f"{http_server.url}/flaky/{key}?fail=2&status=503",
        "save_to": str(target),
        "retry_count": 2,
    }
    handle, step, sleep = execute(config, sleep=FakeSleep())
    assert step["status"] == "success" and step["attempts"] == 3
    assert json.loads(target.read_bytes()) == {"key": key, "attempt": 3, "ok": True}
    assert target.stat().st_size == output(handle)["response"]["size"]
    assert _leftovers(tmp_path) == ["flaky.json"]


def test_save_to_through_flowdesk_run_json(tmp_path, http_server):
    from tests.support.cli_running import flowdesk_with_db

    size = 2 * 1024 * 1024
    workflow = {
        "flowdesk": 1,
        "workflow": {"name": "download", "config": {}},
        "nodes": [
            {"name": "start", "node_type": "START", "config": {}},
            {
                "name": "download",
                "node_type": "API_CALL",
                "config": {
                    "method": "GET",
                    "url": "{{input.url}}",
                    "save_to": "{{input.folder}}/download.bin",
                },
            },
            {"name": "end", "node_type": "END", "config": {"output": {"size": "{{download.response.size}}"}}},
        ],
        "connections": [
            {"from": "start", "to": "download", "connection_type": "SEQUENCE"},
            {"from": "download", "to": "end", "connection_type": "SEQUENCE"},
        ],
    }
    path = tmp_path / "download.json"
    path.write_text(json.dumps(workflow))
    folder = tmp_path / "out"
    folder.mkdir()
    data = json.dumps({"url": f"{http_server.url}/large/{size}", "folder": str(folder)})
    done = flowdesk_with_db("run", str(path), "--input", data, "--json", db=tmp_path / "cli.db")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "completed" and report["output_data"] == {"size": size}
    step = next(s for s in report["steps"] if s["step_name"] == "download")
    assert step["output_data"]["response"]["saved_to"] == str(folder / "download.bin")
    assert (folder / "download.bin").read_bytes() == b"x" * size
