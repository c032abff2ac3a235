"""The app refuses a run whose input is over the engine's bound, saying why (engine/input_limit.py)."""

from __future__ import annotations

from flowdesk.engine.input_limit import max_input_bytes
from flowdesk.services.executions import ExecutionService
from tests.support.app_driving import chain_graph, delay, open_graph


def test_the_app_says_why_it_did_not_start_a_run(window, qtbot, monkeypatch):
    monkeypatch.setenv("FLOWDESK_MAX_INPUT_MB", "0.001")
    tab = open_graph(window, chain_graph("big input", [delay("d")]))
    controller = window.run_ui.controller(tab)
    controller.host.executor.max_input_bytes = max_input_bytes()
    messages: list[str] = []
    controller.message.connect(messages.append)
    controller.start({"blob": "x" * 5_000})
    qtbot.waitUntil(lambda: any(m.startswith("Not started") for m in messages), timeout=10_000)
    assert "a run takes at most 0.0 MB of input" in messages[-1]
    assert ExecutionService(window.backend.db).list_executions() == []
