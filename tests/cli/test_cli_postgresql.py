"""The `flowdesk` command with `--db postgresql+psycopg://...`: import, list, export, run, resume, and
one plain sentence (exit 2) for a server that cannot be reached or a driver that is missing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.support.cli_running import FAILING_FILE, flowdesk_process
from tests.support.examples import EXAMPLES, ROOT


def test_import_list_export_on_postgresql(postgres_database, tmp_path, state_home):
    url = postgres_database()
    imported = flowdesk_process("import", str(EXAMPLES / "conditional.json"), "--db", url, env=state_home)
    assert imported.returncode == 0, imported.stderr
    listed = flowdesk_process("list", "--db", url, env=state_home)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "VERSION", "STATUS", "TAGS"]
    workflow_id = row.split()[0]
    name = json.loads((EXAMPLES / "conditional.json").read_text(encoding="utf-8"))["workflow"]["name"]
    assert name in row
    exported = flowdesk_process(
        "export", workflow_id, "-o", str(tmp_path / "out.json"), "--db", url, env=state_home
    )
    assert exported.returncode == 0, exported.stderr
    original = json.loads((EXAMPLES / "conditional.json").read_text(encoding="utf-8"))
    again = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert again["nodes"] == original["nodes"] and again["connections"] == original["connections"]


def test_run_and_resume_on_postgresql(postgres_database, tmp_path, http_server, state_home):
    url = postgres_database()
    data = json.dumps({"base_url": f"{http_server.url}/anything", "user_id": 7, "score": 75})
    first = flowdesk_process(
        "run", str(EXAMPLES / "conditional.json"), "--input", data, "--json", "--db", url, env=state_home
    )
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "completed" and report["output_data"] == {"passed": True}
    assert [s["status"] for s in report["steps"]] == ["success", "success", "skipped", "success", "success"]

    path = tmp_path / "flaky.json"
    path.write_text(json.dumps(FAILING_FILE), encoding="utf-8")
    key = json.dumps({"base": http_server.url, "key": f"pg-cli-{os.getpid()}-{tmp_path.name}"})
    failed = flowdesk_process("run", str(path), "--input", key, "--json", "--db", url, env=state_home)
    assert failed.returncode == 1, failed.stderr
    failed_report = json.loads(failed.stdout)
    assert failed_report["steps"][-1]["error_type"] == "http_5xx"
    resumed = flowdesk_process(
        "resume", str(failed_report["execution_id"]), "--json", "--db", url, env=state_home
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "completed"


def test_an_unreachable_server_is_one_sentence_and_exit_2(state_home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://flowdesk:hunter2@127.0.0.1:{port}/flowdesk"
    result = flowdesk_process("list", "--db", url, env=state_home)
    assert result.returncode == 2
    assert result.stderr == (
        f"flowdesk: Cannot connect to the database postgresql+psycopg://flowdesk:***@127.0.0.1:{port}/flowdesk:"
        " connection refused.\n"
    )
    assert "hunter2" not in result.stderr + result.stdout


def test_a_missing_driver_is_one_sentence_and_exit_2(state_home):
    """The command as it runs where psycopg is not installed (the child cannot import it)."""
    hide_psycopg = (
        "import sys; sys.modules['psycopg'] = None; from flowdesk.cli import main; sys.exit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide_psycopg, "list", "--db", "postgresql://flowdesk:hunter2@127.0.0.1/flowdesk"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, **state_home},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "flowdesk: Cannot open the database postgresql://flowdesk:***@127.0.0.1/flowdesk: its driver"
        " (psycopg) is not installed (for PostgreSQL: pip install 'flowdesk[postgres]').\n"
    )
