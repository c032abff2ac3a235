"""Issue 11's request side end to end: `flowdesk run FILE --json` in a subprocess, against the test
server and tinyproxy on 127.0.0.1 (proxy, cookies, multipart, credentials in the URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """`cli(*args, stdin=None, env=None) -> CompletedProcess` with a database and a secrets key of this test."""
    base = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWDESK_KEY_FILE": str(tmp_path / "secrets.key")}
    base["FLOWDESK_KEYRING"] = "0"
    base.pop("FLOWDESK_DB", None)
    db = tmp_path / "cli.db"

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flowdesk.cli", *args, "--db", str(db)],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            cwd=str(ROOT),
            timeout=120,
        )

    return run


def workflow_file(folder: Path, *calls: dict[str, Any], apis: list[dict[str, Any]] | None = None) -> Path:
    nodes = [{"name": "start", "node_type": "START", "config": {}}]
    for i, config in enumerate(calls, 1):
        nodes.append({"name": config.pop("name", f"call{i}"), "node_type": "API_CALL", "config": config})
    nodes.append({"name": "end", "node_type": "END", "config": {}})
    names = [n["name"] for n in nodes]
    document = {
        "flowdesk": 1,
        "workflow": {"name": "field"},
        "nodes": nodes,
        "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)],
        "apis": apis or [],
    }
    path = folder / "workflow.json"
    path.write_text(json.dumps(document))
    return path


def report_of(result: subprocess.CompletedProcess) -> dict[str, Any]:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def outputs(report: dict[str, Any]) -> dict[str, Any]:
    return {s["step_name"]: s for s in report["steps"]}


def test_run_through_the_environments_proxy_with_a_secret_password(
    cli, tmp_path, tinyproxy_auth, http_server
):
    password = tinyproxy_auth.auth[1]
    assert cli("secret", "set", "proxy_password", stdin=password).returncode == 0
    proxy = f"http://proxyuser:{{{{secrets.proxy_password}}}}@127.0.0.1:{tinyproxy_auth.port}"
    assert cli("env", "set", "office", f"http.proxy={proxy}").returncode == 0
    path = workflow_file(tmp_path, {"url": f"{http_server.url}/anything/cli-proxy"})
    result = cli("run", str(path), "--env", "office", "--json")
    report = report_of(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["status"] == "completed"
    assert f"GET {http_server.url}/anything/cli-proxy HTTP/1.1" in tinyproxy_auth.requests()
    assert password not in result.stdout + result.stderr


def test_run_with_http_proxy_in_the_environment(cli, tmp_path, tinyproxy, http_server):
    path = workflow_file(tmp_path, {"url": f"{http_server.url}/anything/cli-variable"})
    result = cli("run", str(path), "--json", env={"http_proxy": tinyproxy.url})
    assert report_of(result)["status"] == "completed", result.stdout
    assert f"GET {http_server.url}/anything/cli-variable HTTP/1.1" in tinyproxy.requests()


def test_run_keeps_a_logins_cookies_and_masks_them(cli, tmp_path, http_server):
    path = workflow_file(
        tmp_path,
        {"name": "login", "url": f"{http_server.url}/cookies/set?sid=cli-sess-8832"},
        {"name": "me", "url": f"{http_server.url}/cookies"},
    )
    result = cli("run", str(path), "--json")
    report = report_of(result)
    assert report["status"] == "completed", result.stdout
    steps = outputs(report)
    assert steps["me"]["input_data"]["cookies"] == {"sid": "***"}
    # the server saw the cookie (its echo is masked in the stored step, as every jar value is)
    assert steps["me"]["output_data"]["response"]["data"] == {"cookies": {"sid": "***"}}
    assert "cli-sess-8832" not in result.stdout


def test_run_uploads_a_file_as_multipart(cli, tmp_path, http_server):
    upload = tmp_path / "r.csv"
    upload.write_text("a,b\n1,2\n")
    path = workflow_file(
        tmp_path,
        {
            "method": "POST",
            "url": f"{http_server.url}/multipart",
            "body_type": "multipart",
            "body": {"kind": "csv", "report": {"path": "{{input.report}}", "content_type": "text/csv"}},
        },
    )
    result = cli("run", str(path), "--input", json.dumps({"report": str(upload)}), "--json")
    report = report_of(result)
    assert report["status"] == "completed", result.stdout
    data = outputs(report)["call1"]["output_data"]["response"]["data"]
    assert data["fields"] == {"kind": "csv"}
    assert data["files"]["report"]["filename"] == "r.csv" and data["files"]["report"]["size"] == 8
    assert outputs(report)["call1"]["input_data"]["body"]["report"] == {
        "filename": "r.csv",
        "size": 8,
        "content_type": "text/csv",
    }


def test_run_sends_url_credentials_as_basic_auth_and_masks_them(cli, tmp_path, http_server):
    url = http_server.url.replace("http://", "http://carol:cli-pw-3391@") + "/basic-auth/carol/cli-pw-3391"
    path = workflow_file(tmp_path, {"url": url})
    result = cli("run", str(path), "--json")
    report = report_of(result)
    assert report["status"] == "completed", result.stdout
    assert outputs(report)["call1"]["output_data"]["response"]["data"] == {
        "authenticated": True,
        "user": "carol",
    }
    assert "cli-pw-3391" not in result.stdout + result.stderr
