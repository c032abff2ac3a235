"""Running the `flowdesk` command in the tests.

- `flowdesk_process(*args, env=, cwd=)`: `python -m flowdesk ARGS` in a subprocess (no traceback allowed);
- `flowdesk_with_db(*args, db=)`: `python -m flowdesk.cli ARGS --db DB` in a subprocess;
- `cli_in_process(*args, db=, capsys=)`: `cli.main([*ARGS, "--db", DB])` in this process.

`FAILING_FILE` is a workflow file whose API call fails once (the test server's /flaky route), for
runs that are resumed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.examples import ROOT


def flowdesk_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "FLOWDESK_DB"}
    environment.update({"PYTHONIOENCODING": "utf-8", **(env or {})})
    result = subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        cwd=cwd or ROOT,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def flowdesk_with_db(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLOWDESK_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "flowdesk.cli", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=120,
    )


def cli_in_process(*args: str, db: Path, capsys) -> tuple[int, str, str]:
    """The command in this process (faster than a subprocess): exit code, stdout, stderr."""
    from flowdesk.cli import main

    code = main([*args, "--db", str(db)])
    out = capsys.readouterr()
    return code, out.out, out.err


FAILING_FILE = {
    "flowdesk": 1,
    "workflow": {"name": "flaky once", "config": {}},
    "nodes": [
        {"name": "start", "node_type": "START", "config": {}},
        {"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}},
        {
            "name": "call",
            "node_type": "API_CALL",
            "config": {
                "method": "GET",
                "url": "{{input.base}}/flaky/{{input.key}}?fail=1&status=503",
                "retry_count": 0,
            },
        },
        {"name": "end", "node_type": "END", "config": {"output": {"status": "{{call.response.status}}"}}},
    ],
    "connections": [
        {"from": "start", "to": "wait", "connection_type": "SEQUENCE"},
        {"from": "wait", "to": "call", "connection_type": "SEQUENCE"},
        {"from": "call", "to": "end", "connection_type": "SEQUENCE"},
    ],
}
