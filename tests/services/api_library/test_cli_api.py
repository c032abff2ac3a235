"""`flowdesk api|env|secret`: import files and curl commands, list, export, environments, secrets."""

from __future__ import annotations

import io
import json

import pytest

from flowdesk import cli
from flowdesk.services.apis import ApiService
from flowdesk.services.secrets import SecretService
from flowdesk.store import Database

from .conftest import FIXTURES, raw_database_bytes


@pytest.fixture
def run(capsys, db_path):
    """Run `flowdesk ARGS --db <tmp db>`; (exit code, stdout, stderr)."""

    def go(*args: str):
        code = cli.main([*args, "--db", str(db_path)])
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_import_a_spec_then_again_prints_added_then_skipped(run, db_path):
    spec = str(FIXTURES / "petstore-3.0.yaml")
    code, out, err = run("api", "import", spec)
    assert code == 1  # the fixture has problems (a cookie parameter...): printed, the rest imported
    assert "petstore-3.0.yaml (openapi 3.0): added 8, updated 0, skipped 0." in out
    assert "Environment 'default': set base_url = https://eu.petstore.test/v2" in out
    assert "problem: GET /pets: " in err
    code, out, _ = run("api", "import", spec)
    assert "added 0, updated 0, skipped 8." in out
    assert "already in the library, unchanged" in out
    with Database(db_path) as db:
        assert len(ApiService(db).list_apis()) == 8


def test_dry_run_writes_nothing_and_only_selects(run, db_path):
    spec = str(FIXTURES / "bookshop-3.1.json")
    code, out, _ = run("api", "import", spec, "--dry-run")
    assert "nothing was written" in out and "would add" in out
    assert run("api", "list")[1].strip() == "No API definitions."
    first = out.splitlines()[1].split()[1]
    run("api", "import", spec, "--only", first)
    code, out, _ = run("api", "list", "--json")
    assert [a["name"] for a in json.loads(out)] == [first]


def test_import_a_curl_command(run):
    command = (FIXTURES / "curl" / "chrome-post-json.txt").read_text()
    code, out, _ = run("api", "import", "--curl", command)
    assert code == 0 and "(curl): added 1" in out
    code, out, _ = run("api", "import", "--curl", command)
    assert "skipped 1" in out and "identical to API 1" in out


def test_bad_input_is_one_sentence_and_exit_2(run, tmp_path):
    code, _, err = run("api", "import", str(tmp_path / "missing.yaml"))
    assert code == 2 and err.startswith("flowdesk: Cannot read") and "Traceback" not in err
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n0000")
    code, _, err = run("api", "import", str(tmp_path / "x.png"))
    assert code == 2 and "PNG image" in err
    code, _, err = run("api", "import")
    assert code == 2 and "either FILE or --curl" in err
    code, _, err = run("api", "import", "--curl", (FIXTURES / "curl" / "broken-windows-cmd.txt").read_text())
    assert code == 2 and "Windows" in err


def test_export_writes_openapi_without_secrets(run, tmp_path):
    run("api", "import", str(FIXTURES / "collection-v2.1.json"))
    out_file = tmp_path / "library.json"
    code, out, _ = run("api", "export", "-o", str(out_file))
    assert code == 0 and "Wrote" in out
    doc = json.loads(out_file.read_text())
    assert doc["openapi"].startswith("3.0") and doc["paths"]
    assert "tok-123" not in out_file.read_text()
    code, _, _ = run("api", "export", "-o", str(tmp_path / "library.yaml"))
    assert (tmp_path / "library.yaml").read_text().startswith("openapi:")


def test_env_set_use_list_show(run):
    assert run("env", "set", "dev", "base_url=http://dev", "n=1")[0] == 0
    run("env", "set", "prod", "base_url=https://prod")
    code, out, _ = run("env", "list")
    assert out.splitlines()[1:] == ["*  dev   2", "   prod  1"]
    run("env", "use", "prod")
    code, out, _ = run("env", "show")
    assert out.splitlines() == ["prod (active)", "  base_url = https://prod"]
    code, _, err = run("env", "set", "dev", "novalue")
    assert code == 2 and "not KEY=VALUE" in err
    code, _, err = run("env", "use", "nope")
    assert code == 2 and "no environment named 'nope'" in err


def test_secret_set_reads_stdin_and_never_prints_the_value(run, monkeypatch, db_path):
    value = "s3cr3t-From-Stdin"
    monkeypatch.setattr("sys.stdin", io.StringIO(value + "\n"))
    code, out, err = run("secret", "set", "api_token")
    assert code == 0 and value not in out + err and "stored (encrypted" in out
    code, out, _ = run("secret", "list")
    assert out.strip() == "api_token" and value not in out
    with Database(db_path) as db:
        assert SecretService(db).get_secret("api_token") == value
    assert value.encode() not in raw_database_bytes(db_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run("secret", "set", "empty")
    assert code == 2 and "No value was given" in err
    code, out, _ = run("secret", "delete", "api_token")
    assert run("secret", "list")[1].strip() == "No secrets."


def test_run_env_option_picks_the_environment(run, http_server, tmp_path):
    workflow = {
        "flowdesk": 1,
        "workflow": {"name": "env pick"},
        "nodes": [
            {"name": "start", "node_type": "START"},
            {
                "name": "call",
                "node_type": "API_CALL",
                "config": {"method": "GET", "url": "{{env.base}}/json"},
            },
            {"name": "end", "node_type": "END"},
        ],
        "connections": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}],
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    run("env", "set", "bad", "base=http://127.0.0.1:9")
    run("env", "set", "good", f"base={http_server.url}")
    assert run("run", str(path))[0] == 1  # the active one ("bad", made first)
    code, out, err = run("run", str(path), "--env", "good")
    assert code == 0, out + err
    code, _, err = run("run", str(path), "--env", "missing")
    assert code == 2 and "no environment named 'missing'" in err


def test_env_show_masks_a_literal_proxy_password(run):
    run("env", "set", "office", "http.proxy=http://me:literal-Proxy-9@proxy.test:3128")
    code, out, _ = run("env", "show", "office")
    assert code == 0 and "  http.proxy = http://***@proxy.test:3128" in out.splitlines()
    assert "literal-Proxy-9" not in out
