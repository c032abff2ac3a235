"""The app's own event loop end to end, in a process of its own: `flowdesk FILE` opens the file, a
run started from the Run action goes to its end on the sliced qasync loop, closing the window ends
the loop and the engine cleanly (exit code 0, nothing printed to stderr but Qt's offscreen notice)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from flowdesk.ui.app import application, build_window, run_event_loop

    app = application()
    window = build_window(["--db", sys.argv[1], sys.argv[2]])
    window.show()
    seen = {}

    def start():
        tab = window.current_tab()
        controller = window.run_ui.controller(tab)
        controller.run_finished.connect(lambda state: finish(state))
        window.findChild(type(window.run_ui.action_run), "actionRun").trigger()
        dialog = window.run_ui.input_dialog
        dialog.editor.setPlainText(json.dumps({"score": 75, "user_id": 7, "base_url": sys.argv[3] + "/anything"}))
        QTest.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    def finish(state):
        seen["status"] = state.status
        seen["nodes"] = sorted(n for n, r in state.nodes.items() if r.status == "success")
        QTimer.singleShot(0, window.close)

    QTimer.singleShot(0, start)
    QTimer.singleShot(30_000, window.close)  # never hang a test run
    code = run_event_loop(app, window)
    print(json.dumps({"code": code, **seen}))
    """
)


def test_the_app_runs_a_workflow_on_its_own_loop_and_closes_cleanly(tmp_path, http_server):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FLOWDESK_KEYRING": "0"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(tmp_path / "app.db"),
            str(ROOT / "resources/examples/conditional.json"),
            http_server.url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    assert result["status"] == "completed", result
    assert result["nodes"] == sorted(["开始", "成绩判断", "pass", "结束"])  # score 75: the pass branch
    assert "Traceback" not in done.stderr, done.stderr
