"""Start-up stays light: each command imports only what it uses (the times are benchmarks/
bench_startup.py's; here, which modules get loaded, which does not depend on the machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.start_end import start_end_file

ROOT = Path(__file__).resolve().parents[1]

REPORT = """
import contextlib, io, json, sys
{body}
print("MODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_after(body: str, tmp_path: Path) -> set[str]:
    """The top-level packages loaded once `body` has run in a fresh interpreter."""
    return {name.split(".")[0] for name in modules_after(body, tmp_path)}


def modules_after(body: str, tmp_path: Path) -> set[str]:
    """Every module loaded once `body` has run in a fresh interpreter."""
    env = dict(os.environ)
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen", FLOWDESK_KEYRING="0")
    done = subprocess.run(
        [sys.executable, "-c", REPORT.format(body=body)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def test_help_loads_no_database_models_qt_or_http(tmp_path):
    body = (
        "from flowdesk.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    )
    loaded = loaded_after(body, tmp_path)
    assert not loaded & {"PySide6", "sqlalchemy", "alembic", "pydantic", "httpx", "aiohttp", "keyring"}


def run_of_start_end(tmp_path: Path, *options: str) -> str:
    """Code that runs a START→END file with `flowdesk run` (its output in `out`)."""
    workflow = start_end_file(tmp_path)
    db = tmp_path / "run.db"
    return (
        "from flowdesk.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    assert main(['run', {str(workflow)!r}, '--db', {str(db)!r}, *{list(options)!r}]) == 0\n"
    )


def test_run_of_start_end_loads_no_qt_http_or_keyring(tmp_path):
    body = run_of_start_end(tmp_path)
    loaded_after(body, tmp_path)  # the first run makes the database (Alembic) and stores the file
    modules = modules_after(body, tmp_path)
    loaded = {name.split(".")[0] for name in modules}
    assert "sqlalchemy" in loaded  # it did run against the database
    assert not loaded & {"PySide6", "aiohttp", "httpx", "keyring", "secretstorage", "alembic", "qtawesome"}
    # Imported only when needed: psutil to judge a run left running, cryptography to decrypt a
    # secret, the services this command does not use.
    assert not loaded & {"psutil", "cryptography"}
    assert not modules & {
        "flowdesk.services.versions",
        "flowdesk.services.audit",
        "flowdesk.services.monitor",
        "flowdesk.services.users",
        "flowdesk.services.api_library",
    }


def test_a_stored_start_end_run_configures_no_mapper_and_loads_no_key_folder_or_xml(tmp_path):
    """The second run of a file finds it stored and runs it with Core reads only (store/plain_reads.py):
    the ORM's mappers are never configured. With no secret stored, the key file's folder is never
    looked up (platformdirs); without --junit no XML is built (xml.etree)."""
    body = run_of_start_end(tmp_path, "--json")
    loaded_after(body, tmp_path)  # the first run makes the database and stores the file
    body += (
        "report = json.loads(out.getvalue())\n"
        "assert report['status'] == 'completed' and report['workflow_id'] == 1, report\n"
        "assert [s['node_name'] for s in report['steps']] == ['start', 'end'], report\n"
        "from flowdesk.store.tables import WorkflowRow\n"
        "assert not WorkflowRow.__mapper__.configured\n"
    )
    modules = modules_after(body, tmp_path)
    assert "flowdesk.store.plain_reads" in modules
    assert not {name.split(".")[0] for name in modules} & {"platformdirs", "xml"}


def test_a_run_with_a_secret_and_a_run_left_running_load_what_they_need(tmp_path):
    """The lazy imports above come when there is work for them: the stored secrets are decrypted for
    the run (its {{secrets.*}}), and a run left running by a dead process is marked interrupted."""
    db = tmp_path / "run.db"
    setup = (
        "import subprocess\n"
        "from flowdesk.store import Database\n"
        "from flowdesk.store.database import this_host\n"
        "from flowdesk.services.secrets import SecretService\n"
        "from flowdesk.services.workflows import WorkflowService\n"
        f"db = Database({str(db)!r})\n"
        "SecretService(db).set_secret('token', 's3cret')\n"
        "wf = WorkflowService(db).create_workflow('left running')\n"
        "dead = subprocess.Popen([sys.executable, '-c', 'pass']); dead.wait()\n"
        "with db.engine.begin() as conn:\n"
        "    conn.exec_driver_sql(\n"
        '        "INSERT INTO workflow_executions (workflow_id, status, progress, runner_pid, runner_host, "\n'
        "        \"created_at) VALUES (?, 'running', 0, ?, ?, '2026-01-01 00:00:00.000000')\",\n"
        "        (wf.id, dead.pid, this_host()),\n"
        "    )\n"
        "db.close()\n"
    )
    loaded_after(setup, tmp_path)
    body = run_of_start_end(tmp_path, "--json") + (
        "report = json.loads(out.getvalue())\n"
        "assert report['status'] == 'completed', report\n"
        "from flowdesk.store import Database\n"
        "from flowdesk.services.executions import ExecutionService\n"
        f"db = Database({str(db)!r})\n"
        "first = ExecutionService(db).get_execution(1)\n"
        "assert first.status == 'interrupted', first.status\n"
        "db.close()\n"
    )
    loaded = loaded_after(body, tmp_path)
    assert {"psutil", "cryptography"} <= loaded


def test_the_window_does_not_load_qtawesome_or_the_http_stack(tmp_path):
    body = (
        "from flowdesk.ui.app import build_window\n"
        f"w = build_window(['--db', {str(tmp_path / 'app.db')!r}, {str(ROOT / 'resources/examples/loop.json')!r}])\n"
        "w.show()\n"
        "assert not w.action_run.icon().isNull() and not w.action_undo.icon().isNull()\n"
        "assert not w.dock_widget_built('api_library')  # a tab behind the inspector: made when shown\n"
        "w.backend.close()"
    )
    modules = modules_after(body, tmp_path)
    loaded = {name.split(".")[0] for name in modules}
    assert "PySide6" in loaded
    assert not loaded & {"qtawesome", "qtpy", "aiohttp", "httpx", "keyring", "yaml"}
    # The API readers (OpenAPI, Swagger, Postman, curl) come when an API is imported.
    assert "flowdesk.interchange.api_import" not in modules


def test_builtin_handlers_are_imported_when_first_asked_for():
    from flowdesk.engine.registry import BUILTIN_HANDLER_MODULES, HandlerRegistry

    registry = HandlerRegistry()
    for node_type, module in BUILTIN_HANDLER_MODULES.items():
        registry.register_module(node_type, module)
    registry.register_module("BROKEN", "flowdesk.engine.handlers.no_such_module")
    assert set(BUILTIN_HANDLER_MODULES) | {"BROKEN"} == registry.types()
    kind = registry.kind("DELAY")
    assert kind is not None and kind.node_type == "DELAY" and kind.handle.__module__.endswith(".delay")
    assert registry.kind("LOOP").reusable is False  # REUSABLE = False read from the module
    assert registry.kind("BROKEN") is None and "BROKEN" not in registry.types()

    async def mine(ctx):
        return {}

    registry.register("DELAY", mine)  # replacing a lazy or loaded type
    registry.register("CONDITION", mine)
    assert registry.kind("DELAY").handle is mine and registry.kind("CONDITION").handle is mine


def test_load_all_imports_what_was_left_for_later():
    from flowdesk.engine.registry import BUILTIN_HANDLER_MODULES, HandlerRegistry

    registry = HandlerRegistry()
    for node_type, module in BUILTIN_HANDLER_MODULES.items():
        registry.register_module(node_type, module)
    registry.load_all()
    assert registry._lazy == {}
    assert {registry.kind(t).handle.__module__ for t in BUILTIN_HANDLER_MODULES} == set(
        BUILTIN_HANDLER_MODULES.values()
    )


def test_the_app_loads_the_node_handlers_on_a_worker_thread_once_its_loop_runs(tmp_path):
    body = (
        "import threading\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from flowdesk.ui.app import build_window\n"
        f"w = build_window(['--db', {str(tmp_path / 'app.db')!r}])\n"
        "assert 'flowdesk.engine.handlers.api_call' not in sys.modules\n"
        "worker = None\n"
        "for _ in range(1000):\n"
        "    QApplication.processEvents()\n"
        "    worker = next((t for t in threading.enumerate() if t.name == 'flowdesk-load-handlers'), None)\n"
        "    if worker is not None or 'flowdesk.engine.handlers.api_call' in sys.modules:\n"
        "        break\n"
        "if worker is not None:\n"
        "    worker.join()\n"
        "assert 'flowdesk.engine.handlers.api_call' in sys.modules\n"
        "w.backend.close()"
    )
    loaded = loaded_after(body, tmp_path)
    assert "httpx" in loaded  # API_CALL's HTTP stack came with it
