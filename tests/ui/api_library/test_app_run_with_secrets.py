"""A run started from the app gets the active environment and the secrets; the log dock, the data
inspector and the database never show a secret's value."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from flowdesk.services.environments import EnvironmentService
from flowdesk.services.secrets import SecretService
from tests.support.app_driving import api, chain_graph, open_graph
from tests.support.qt_loop import run_window
from tests.support.store_rows import raw_database_bytes
from tests.support.waiting import EVENTUALLY_MS

SECRET = "tok-App-Run-3b9f1d"


@pytest.fixture
def window(qtbot, qloop, backend, settings, tmp_path):
    """An editor window with the run UI (as tests/ui/run/conftest.py's)."""
    yield from run_window(qtbot, backend, settings, tmp_path)


def test_app_run_uses_env_and_secrets_and_masks_them(qtbot, window, http_server, tmp_path):
    db = window.backend.db
    EnvironmentService(db).create_environment("local", {"base_url": http_server.url})
    SecretService(db).set_secret("tok", SECRET)
    graph = chain_graph(
        "secret run",
        [
            api(
                "call",
                "{{env.base_url}}/bearer/{{secrets.tok}}",
                auth={"type": "bearer", "token": "{{secrets.tok}}"},
            )
        ],
    )
    tab = open_graph(window, graph)
    controller = window.run_ui.controller(tab)
    window.findChild(QAction, "actionRun").trigger()
    with qtbot.waitSignal(controller.run_finished, timeout=EVENTUALLY_MS) as blocker:
        dialog = window.run_ui.input_dialog
        dialog.editor.setPlainText("{}")
        qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    state = blocker.args[0]
    assert state.status == "completed"
    lines = "\n".join(window.run_ui.log_view.lines())
    assert "call" in lines and SECRET not in lines
    tab.doc.set_selection([tab.doc.node_by_name("call").uid], [])
    inspector = window.run_ui.data_inspector
    assert inspector.item_at_path("response", ("status",)).text(1) == "200"
    window.backend.db.close()
    assert SECRET.encode() not in raw_database_bytes(db.path)
