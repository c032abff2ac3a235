"""A secret never leaks in an encoded form: JSON-escaped (once or twice), percent-encoded (%20 and +),
form-encoded, base64 (Basic auth), or upper/lower-cased by an expression. The raw bytes of the
database (SQLite file and WAL, or a pg_dump), `run --json`, stderr, the export and the log files are
searched for every form of two secrets holding `" \\ space & = + / é`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService

from .conftest import raw_database_bytes

ROOT = Path(__file__).resolve().parents[3]
SECRETS = {"pw": 'K3y"with\\back slash', "other": 'p&ss=w+rd/é" \\x9'}


def forms(secret: str) -> set[str]:
    """Every form the secret could take on the way out."""
    out: set[str] = set()
    for v in (secret, secret.upper(), secret.lower()):
        escaped = json.dumps(v)[1:-1]
        out |= {
            v,
            escaped,
            json.dumps(v, ensure_ascii=False)[1:-1],
            json.dumps(escaped)[1:-1],
            quote(v, safe=""),
            quote(v),
            quote_plus(v),
            quote(v, safe="").lower(),
        }
    out.add(base64.b64encode(f"alice:{secret}".encode()).decode())
    return out


def needles() -> list[bytes]:
    found: set[bytes] = set()
    for secret in SECRETS.values():
        for form in forms(secret):
            found.add(form.encode())
            found.add(json.dumps(form)[1:-1].encode())  # as a JSON column stores it
            found.add(json.dumps(form, ensure_ascii=False)[1:-1].encode())
    return sorted(found)


def _call(name: str, config: dict) -> tuple[str, dict]:
    return name, {"method": "POST", "retry_count": 0, **config}


def _workflow(db) -> int:
    calls = [
        _call(
            "json_and_query",
            {
                "url": "{{env.base_url}}/anything?password={{secrets.pw}}&again={{secrets.other}}",
                "body": {"password": "{{secrets.pw}}", "other": "{{secrets.other}}"},
                "headers": {"X-Shout": "{{secrets.pw.upper()}}", "X-Quiet": "{{secrets.other.lower()}}"},
            },
        ),
        _call(
            "form",
            {
                "url": "{{env.base_url}}/anything",
                "body": {"password": "{{secrets.pw}}", "other": "{{secrets.other}}"},
                "content_type": "application/x-www-form-urlencoded",
            },
        ),
        _call(
            "basic",
            {
                "url": "{{env.base_url}}/anything",
                "auth": {"type": "basic", "username": "alice", "password": "{{secrets.other}}"},
                "body": {"note": "{{secrets.pw.lower()}} {{secrets.other.upper()}}"},
            },
        ),
        _call("refused", {"url": "{{env.base_url}}/status/400?token={{secrets.pw}}"}),
    ]
    workflows = WorkflowService(db)
    wf = workflows.create_workflow("secret forms")
    previous = workflows.add_node(wf.id, "start", "START")
    for i, (name, config) in enumerate(calls):
        node = workflows.add_node(wf.id, name, "API_CALL", config=config, position_x=200 * (i + 1))
        workflows.add_connection(wf.id, previous.id, node.id)
        previous = node
    end = workflows.add_node(wf.id, "end", "END", position_x=1200)
    workflows.add_connection(wf.id, previous.id, end.id)
    return wf.id


def test_no_form_of_a_secret_reaches_the_database_the_report_the_export_or_the_logs(
    db, db_path, http_server, tmp_path
):
    EnvironmentService(db).create_environment("local", {"base_url": http_server.url}, activate=True)
    for name, value in SECRETS.items():
        SecretService(db).set_secret(name, value)
    wid = _workflow(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("FLOWDESK_DB", None)
    ran = subprocess.run(
        [sys.executable, "-m", "flowdesk.cli", "run", str(wid), "--env", "local", "--json", "--db", str(db_path)],
        capture_output=True, env=env, cwd=str(ROOT), timeout=120,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr  # the last call is refused with 400
    report = json.loads(ran.stdout)
    steps = {s["step_name"]: s for s in report["steps"]}
    assert [steps[n]["status"] for n in ("json_and_query", "form", "basic")] == ["success"] * 3
    assert steps["refused"]["status"] == "failed" and steps["refused"]["error_message"]
    echoed = steps["json_and_query"]["output_data"]["response"]["data"]
    assert "***" in json.dumps(echoed)  # the server saw the secrets; the record shows them masked
    export = TransferService(db).export_workflow(wid)
    db.close()
    places = {
        "database": raw_database_bytes(db_path),
        "run --json": ran.stdout,
        "stderr": ran.stderr,
        "export": export.encode(),
        "logs": b"".join(p.read_bytes() for p in tmp_path.rglob("*.log")),
        "error": (report["error_message"] or "").encode(),
    }
    leaks = [(where, needle) for needle in needles() for where, data in places.items() if needle in data]
    assert leaks == []


def test_the_masker_covers_each_form_and_mixed_text():
    from flowdesk.engine.masking import SecretMasker

    masker = SecretMasker(SECRETS.values())
    for secret in SECRETS.values():
        for form in forms(secret):
            masked = masker.text(f"<{form}>")
            assert masked == "<***>" or (masked.startswith("<") and "***" in masked and form not in masked), (
                form
            )
    assert masker.text("nothing secret here") == "nothing secret here"


def test_the_log_file_keeps_the_command_and_option_names_never_their_values(tmp_path, monkeypatch, capsys):
    import flowdesk.cli as cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def broken(args):  # an unexpected error while the command runs
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(cli, "cmd_run", broken)
    secret_input = json.dumps({"password": SECRETS["pw"]})
    argv = ["run", "7", "--input", secret_input, "--json", "--db", str(tmp_path / "x.db")]
    monkeypatch.setattr(sys, "argv", ["flowdesk", *argv])  # as the console script sees it
    code = cli.main()
    assert code != 0
    err = capsys.readouterr().err
    assert "the engine broke" in err and "details are in" in err
    logs = list((tmp_path / "state").rglob("flowdesk.log"))
    assert len(logs) == 1
    text = logs[0].read_text(encoding="utf-8")
    assert "unexpected error in flowdesk run --input --json --db" in text
    for needle in needles():
        assert needle.decode() not in text
    assert "x.db" not in text and " 7 " not in text
