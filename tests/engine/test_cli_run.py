"""`flowdesk run` and `flowdesk resume` through a real subprocess, against the local HTTP server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli_running import FAILING_FILE, cli_in_process, flowdesk_with_db
from tests.support.examples import EXAMPLES


def test_run_a_file_as_json_then_reuse_the_stored_workflow(tmp_path, http_server):
    db = tmp_path / "cli.db"
    data = json.dumps({"base_url": f"{http_server.url}/anything", "user_id": 7, "score": 75})
    first = flowdesk_with_db("run", str(EXAMPLES / "conditional.json"), "--input", data, "--json", db=db)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "completed"
    assert report["output_data"] == {"passed": True}
    assert report["error_message"] is None and report["started_at"] and report["completed_at"]
    steps = [(s["step_name"], s["node_type"], s["status"]) for s in report["steps"]]
    assert steps == [
        ("开始", "START", "success"),
        ("成绩判断", "CONDITION", "success"),
        ("fail", "API_CALL", "skipped"),
        ("pass", "API_CALL", "success"),
        ("结束", "END", "success"),
    ]
    passed = report["steps"][3]
    assert passed["output_data"]["response"]["status"] == 200
    assert passed["output_data"]["response"]["data"]["json"] == {"result": "pass", "score": 75}
    assert passed["attempts"] == 1 and passed["execution_time"] > 0
    second = flowdesk_with_db("run", str(EXAMPLES / "conditional.json"), "--input", data, "--json", db=db)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["workflow_id"] == report["workflow_id"]  # identical file: stored once
    assert again["execution_id"] != report["execution_id"]
    by_name = flowdesk_with_db("run", str(report["workflow_id"]), "--input", data, db=db)
    assert by_name.returncode == 0, by_name.stderr
    assert "success" in by_name.stdout and "结束" in by_name.stdout and "completed" in by_name.stdout


def test_a_failed_run_exits_1_and_resume_finishes_it(tmp_path, http_server):
    db = tmp_path / "cli.db"
    path = tmp_path / "flaky.json"
    path.write_text(json.dumps(FAILING_FILE), encoding="utf-8")
    data = json.dumps({"base": http_server.url, "key": f"cli-{os.getpid()}-{tmp_path.name}"})
    failed = flowdesk_with_db("run", str(path), "--input", data, "--json", db=db)
    assert failed.returncode == 1, failed.stderr
    report = json.loads(failed.stdout)
    assert report["status"] == "failed"
    assert report["steps"][-1]["step_name"] == "call" and report["steps"][-1]["error_type"] == "http_5xx"
    resumed = flowdesk_with_db("resume", str(report["execution_id"]), "--json", db=db)
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads(resumed.stdout)
    assert after["status"] == "completed" and after["output_data"] == {"status": 200}
    assert [s["status"] for s in after["steps"]] == ["success"] * 4


def test_invalid_file_or_input_exits_2_and_runs_nothing(tmp_path, capsys):
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = tmp_path / "cli.db"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**FAILING_FILE, "nodes": FAILING_FILE["nodes"][:2]}), encoding="utf-8")
    code, _, err = cli_in_process("run", str(broken), db=db, capsys=capsys)
    assert code == 2
    assert "call" in err  # the connection to a missing node is named
    code, _, err = cli_in_process(
        "run", str(EXAMPLES / "loop.json"), "--input", "{not json", db=db, capsys=capsys
    )
    assert code == 2
    assert "not valid JSON" in err
    with Database(db) as opened:
        assert ExecutionService(opened).list_executions() == []


def test_timeout_ends_timed_out_with_exit_1(tmp_path, capsys):
    db = tmp_path / "cli.db"
    slow = {
        **FAILING_FILE,
        "nodes": [
            {"name": "start", "node_type": "START", "config": {}},
            {"name": "wait", "node_type": "DELAY", "config": {"seconds": 30}},
            {"name": "end", "node_type": "END", "config": {}},
        ],
        "connections": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}],
    }
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(slow), encoding="utf-8")
    code, out, _ = cli_in_process("run", str(path), "--timeout", "0.3", db=db, capsys=capsys)
    assert code == 1
    assert "timed_out" in out
    assert "cancelled" in out  # the step line of the DELAY that was stopped


WARNED_FILE = {
    "flowdesk": 1,
    "workflow": {"name": "warned", "config": {}},
    "nodes": [
        {"name": "start", "node_type": "START", "config": {}},
        {"name": "end", "node_type": "END", "config": {"output": {"url": "{{input.base_url}}"}}},
    ],
    "connections": [{"from": "start", "to": "end"}],
}


def test_warnings_show_in_text_and_json(tmp_path, capsys):
    db = tmp_path / "cli.db"
    path = tmp_path / "warned.json"
    path.write_text(json.dumps(WARNED_FILE), encoding="utf-8")
    code, out, _ = cli_in_process("run", str(path), db=db, capsys=capsys)
    assert code == 0
    assert "warning" in out and "end: unresolved reference 'input.base_url'" in out
    assert "completed with 1 warning." in out
    code, out, _ = cli_in_process("run", str(path), "--json", db=db, capsys=capsys)
    report = json.loads(out)
    assert report["warnings"] == 1
    assert [s["warnings"] for s in report["steps"]] == [[], ["unresolved reference 'input.base_url'"]]
    code, out, _ = cli_in_process(
        "run", str(path), "--input", '{"base_url": "x"}', "--json", db=db, capsys=capsys
    )
    report = json.loads(out)
    assert report["warnings"] == 0 and all(s["warnings"] == [] for s in report["steps"])


def test_a_failed_run_prints_no_stray_null(tmp_path, capsys):
    db = tmp_path / "cli.db"
    refused = {
        **FAILING_FILE,
        "nodes": [
            {"name": "start", "node_type": "START", "config": {}},
            {
                "name": "call",
                "node_type": "API_CALL",
                "config": {"url": "http://127.0.0.1:9/x", "retry_count": 0},
            },
            {"name": "end", "node_type": "END", "config": {}},
        ],
        "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
    }
    path = tmp_path / "refused.json"
    path.write_text(json.dumps(refused), encoding="utf-8")
    code, out, _ = cli_in_process("run", str(path), db=db, capsys=capsys)
    assert code == 1
    lines = out.strip().splitlines()
    assert "failed" in lines[-2] and lines[-1].startswith("Error: ")
    assert "null" not in out


def test_run_of_a_folder_says_it_is_a_folder(tmp_path, capsys):
    code, _, err = cli_in_process("run", str(EXAMPLES), db=tmp_path / "cli.db", capsys=capsys)
    assert code == 2
    assert err.strip() == f"flowdesk: Cannot read {EXAMPLES}: it is a folder, not a file."


def test_run_prints_a_file_problem_once(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{\n", encoding="utf-8")
    code, _, err = cli_in_process("run", str(path), db=tmp_path / "cli.db", capsys=capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines == [
        "bad.json, line 2, column 1: expected a key in double quotes or '}'",
        "flowdesk: bad.json cannot run: it has 1 error.",
    ]


DECLARED_FILE = {
    "flowdesk": 1,
    "workflow": {
        "name": "Loop over users",
        "config": {
            "inputs": {
                "type": "object",
                "properties": {"base_url": {"type": "string"}, "n": {"type": "integer", "default": 3}},
                "required": ["base_url"],
            }
        },
    },
    "nodes": [
        {"name": "start", "node_type": "START", "config": {}},
        {
            "name": "end",
            "node_type": "END",
            "config": {"output": {"u": "{{input.base_url}}", "n": "{{input.n}}"}},
        },
    ],
    "connections": [{"from": "start", "to": "end"}],
}


def test_run_refuses_a_missing_required_input_and_input_that_is_not_an_object(tmp_path, capsys):
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database

    db = tmp_path / "cli.db"
    path = tmp_path / "declared.json"
    path.write_text(json.dumps(DECLARED_FILE), encoding="utf-8")
    code, out, err = cli_in_process("run", str(path), db=db, capsys=capsys)
    assert code == 2 and out == ""
    assert err == "flowdesk: input 'base_url' is required (declared in workflow 'Loop over users')\n"
    code, out, err = cli_in_process("run", str(path), "--input", "[1,2]", db=db, capsys=capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "must be a JSON object" in err and "not a list" in err
    with Database(db) as opened:
        assert ExecutionService(opened).list_executions() == []
    code, out, _ = cli_in_process(
        "run", str(path), "--input", '{"base_url": "b"}', "--json", db=db, capsys=capsys
    )
    assert code == 0
    assert json.loads(out)["output_data"] == {"u": "b", "n": 3}


def _changed_loop(tmp_path) -> Path:
    doc = json.loads((EXAMPLES / "loop.json").read_text("utf-8"))
    next(n for n in doc["nodes"] if n["node_type"] == "LOOP")["config"]["max_iterations"] = 50
    path = tmp_path / "loop-changed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_import_and_run_never_pile_up_copies(tmp_path, capsys):
    from flowdesk.services.workflows import WorkflowService
    from flowdesk.store import Database

    db = tmp_path / "cli.db"
    code, out, _ = cli_in_process("import", str(EXAMPLES / "loop.json"), db=db, capsys=capsys)
    assert code == 0 and out.startswith("loop.json imported as workflow 1 ")
    code, out, _ = cli_in_process("import", str(EXAMPLES / "loop.json"), db=db, capsys=capsys)
    assert code == 0 and out.startswith("loop.json is already stored as workflow 1 ")
    empty = json.dumps({"base_url": "http://127.0.0.1:9", "user_ids": []})
    code, out, _ = cli_in_process("run", str(EXAMPLES / "loop.json"), "--input", empty, db=db, capsys=capsys)
    assert code == 0 and "of workflow 1: completed" in out

    changed = _changed_loop(tmp_path)
    for command in (["import", str(changed)], ["run", str(changed), "--input", empty]):
        code, out, err = cli_in_process(*command, db=db, capsys=capsys)
        assert code == 2 and out == ""
        assert err == (
            "flowdesk: loop-changed.json differs from the stored workflow 1 'Loop over users 循环' of the "
            "same name: add --replace to store the file as its new version, or --as-new to import it as a copy.\n"
        )
    code, out, _ = cli_in_process("import", str(changed), "--as-new", db=db, capsys=capsys)
    assert code == 0 and "as a copy, workflow 2 'Loop over users 循环 (copy)'" in out
    code, out, _ = cli_in_process("run", str(changed), "--replace", "--input", empty, db=db, capsys=capsys)
    assert code == 0 and "of workflow 2: completed" in out  # the copy has this content already
    code, out, _ = cli_in_process("import", str(changed), "--replace", db=db, capsys=capsys)
    assert out.startswith("loop-changed.json is already stored as workflow 2 ")
    with Database(db) as opened:
        assert len(WorkflowService(opened).list_workflows()) == 2
    code, out, _ = cli_in_process("run", "Loop over users 循环", "--input", empty, db=db, capsys=capsys)
    assert code == 0 and "of workflow 1: completed" in out  # the name is not ambiguous


def test_replace_stores_the_file_as_a_new_version(tmp_path, capsys):
    from flowdesk.services.versions import VersionService
    from flowdesk.store import Database

    db = tmp_path / "cli.db"
    cli_in_process("import", str(EXAMPLES / "loop.json"), db=db, capsys=capsys)
    changed = _changed_loop(tmp_path)
    code, out, _ = cli_in_process("import", str(changed), "--replace", db=db, capsys=capsys)
    assert code == 0
    assert out.startswith("loop-changed.json replaced the content of workflow 1 'Loop over users 循环' ")
    with Database(db) as opened:
        labels = [v.label for v in VersionService(opened).list_versions(1)]
    assert labels == ["before importing loop-changed.json", "imported from loop-changed.json"]
    code, _, err = cli_in_process("import", str(changed), "--replace", "--as-new", db=db, capsys=capsys)
    assert code == 2 and "not allowed with argument" in err
