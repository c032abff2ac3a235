"""`flowdesk demo-server` runs from the installed program alone (no uvicorn, nothing from tests/),
and every example workflow (and template) completes against it with its declared defaults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowdesk.demo import DEFAULT_URL
from flowdesk.domain.workflow_inputs import declared_inputs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = sorted(
    [*(ROOT / "resources" / "examples").glob("*.json"), *(ROOT / "resources" / "templates").glob("*.json")]
)
EXPECTED_OUTPUT = {
    "loop.json": lambda out: out["count"] == 3 and [u["name"] for u in out["users"]] == ["User 1", "User 2", "User 3"],
    "conditional.json": lambda out: out == {"passed": True},
    "parallel.json": lambda out: isinstance(out["summary_id"], int),
    "login.json": lambda out: out == {"username": "demo"},
}

# uvicorn and the tests' package are made unimportable: the demo server must not need them.
SERVE = (
    "import sys; sys.modules['uvicorn'] = None; sys.modules['tests'] = None; "
    "from flowdesk.cli import main; raise SystemExit(main(['demo-server', '--port', '0']))"
)


@pytest.fixture(scope="module")
def demo_server():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(ROOT / "resources"),  # not the checkout's root: `tests` must not be found by accident
    )
    line = process.stdout.readline()  # waits for the server to listen (or to fail)
    if not line.startswith("Demo server listening on "):
        process.kill()
        raise AssertionError(f"the demo server did not start: {line!r} {process.communicate()[1]}")
    url = line.split(" on ", 1)[1].split(" ", 1)[0]
    yield url
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Demo server stopped." in err and "Traceback" not in err


def test_every_example_declares_inputs_defaulting_to_the_demo_server():
    assert WORKFLOW_FILES and {p.name for p in WORKFLOW_FILES} >= set(EXPECTED_OUTPUT)
    for path in WORKFLOW_FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        schema = declared_inputs(document["workflow"].get("config"))
        assert schema is not None, f"{path.name} declares no inputs"
        for name, prop in schema["properties"].items():
            assert "default" in prop, f"{path.name}: input '{name}' has no default"
        assert schema["properties"]["base_url"]["default"] == DEFAULT_URL


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_each_example_completes_against_the_demo_server(demo_server, path, tmp_path, capsys):
    from flowdesk.cli import main

    code = main(["run", str(path), "--input", json.dumps({"base_url": demo_server}), "--json", "--db", str(tmp_path / "d.db")])
    out = capsys.readouterr()
    assert code == 0, out.err + out.out
    report = json.loads(out.out)
    assert report["status"] == "completed"
    assert report["warnings"] == 0, [s["warnings"] for s in report["steps"]]
    check = EXPECTED_OUTPUT.get(path.name)
    assert check is None or check(report["output_data"]), report["output_data"]


def test_a_port_in_use_is_one_sentence(demo_server, capsys):
    from flowdesk.cli import main

    port = demo_server.rsplit(":", 1)[1]
    assert main(["demo-server", "--port", port]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowdesk: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1
