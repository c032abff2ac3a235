"""`cli.entry()`, the `flowdesk` program's own process: it ends at once after the command (os._exit),
with the command's exit code and its whole output, after the atexit callbacks; it ends the usual way
when a thread Python would wait for is still running. Its start-up imports are frozen out of the
collector's reach; `cli.main()` inside another program (here, pytest) never freezes anything."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from flowdesk import cli
from tests.support.start_end import START_END, start_end_file

ROOT = Path(__file__).resolve().parents[2]

# Runs `flowdesk ARGS` through cli.entry() after `{setup}`; an atexit callback records whether it
# ran and how many objects were frozen at that moment.
PROGRAM = """
import atexit, gc, json, sys
from pathlib import Path
marker = Path({marker!r})
atexit.register(lambda: marker.write_text(json.dumps({{"frozen": gc.get_freeze_count()}})))
{setup}
sys.argv = ["flowdesk", *{args!r}]
from flowdesk.cli import entry
entry()
"""


def program(tmp_path: Path, args: list[str], setup: str = "") -> tuple[subprocess.CompletedProcess, Path]:
    marker = tmp_path / "atexit.json"
    env = {k: v for k, v in os.environ.items() if k != "FLOWDESK_DB"}
    env.update(
        PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state")
    )
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(marker=str(marker), setup=setup, args=args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done, marker


def test_a_run_ends_with_its_code_its_whole_output_and_the_atexit_callbacks(tmp_path):
    args = ["run", str(start_end_file(tmp_path)), "--db", str(tmp_path / "run.db"), "--json"]
    done, marker = program(tmp_path, args)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole object, flushed before the process ended
    assert report["status"] == "completed" and [s["step_name"] for s in report["steps"]] == ["start", "end"]
    # The callbacks ran, after the run's imports were frozen out of the collector's reach.
    assert json.loads(marker.read_text(encoding="utf-8"))["frozen"] > 10_000


def test_the_exit_codes_of_a_failed_run_and_of_bad_usage_come_through(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    done, marker = program(tmp_path, ["run", str(broken), "--db", str(tmp_path / "run.db")])
    assert done.returncode == cli.EXIT_USAGE
    assert "broken.json" in done.stderr and done.stderr.strip().count("\n") < 5
    assert marker.exists()
    failing = dict(START_END)
    failing["nodes"] = [
        *START_END["nodes"][:1],
        {"name": "fail", "node_type": "ASSERT", "config": {"assertions": ["1 == 2"]}},
        START_END["nodes"][1],
    ]
    failing["connections"] = [{"from": "start", "to": "fail"}, {"from": "fail", "to": "end"}]
    path = tmp_path / "failing.json"
    path.write_text(json.dumps(failing), encoding="utf-8")
    done, _marker = program(tmp_path, ["run", str(path), "--db", str(tmp_path / "run.db")])
    assert done.returncode == cli.EXIT_PROBLEMS, done.stdout + done.stderr
    assert ": failed" in done.stdout


def test_a_thread_python_would_wait_for_keeps_the_usual_exit(tmp_path):
    """A non-daemon thread still running when the command is done: Python's own exit waits for it
    (it waits for the main thread to end, then writes its file), so the process ends the usual way."""
    written = tmp_path / "thread.txt"
    setup = (
        "import threading\n"
        "def late():\n"
        "    threading.main_thread().join()\n"
        f"    Path({str(written)!r}).write_text('done')\n"
        "threading.Thread(target=late).start()\n"
    )
    done, marker = program(tmp_path, ["--help"], setup)
    assert done.returncode == 0 and "usage" in done.stdout.lower()
    assert written.read_text() == "done"
    assert marker.exists()


def test_main_in_another_program_freezes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    frozen = gc.get_freeze_count()
    assert cli.main(["run", str(start_end_file(tmp_path)), "--db", str(tmp_path / "run.db")]) == 0
    assert "completed" in capsys.readouterr().out
    assert gc.get_freeze_count() == frozen
