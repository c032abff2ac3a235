"""A cached API call in the app: the second run of a workflow is answered from the response cache
(the log line says so, the server counts one request), and Run > Clear response cache forgets the
answers in the app's engine and in the database, so the next run asks the server again."""

from __future__ import annotations

from flowdesk.services.response_cache import ResponseCacheService
from tests.support.app_driving import action, api, chain_graph, open_graph, run_and_wait


def test_a_cached_call_and_the_clear_cache_action(window, qtbot, http_server):
    url = f"{http_server.url}/hit/app1"
    tab = open_graph(window, chain_graph("cached", [api("users", url, cache={"ttl": 600, "persist": True})]))
    assert run_and_wait(qtbot, window, tab).status == "completed"
    state = run_and_wait(qtbot, window, tab)
    assert state.status == "completed" and http_server.count("app1") == 1
    assert any("served from cache (age" in line for line in window.run_ui.log_view.lines())
    service = ResponseCacheService(window.backend.db)
    assert service.count(tab.workflow_id) == 1

    action(window, "actionClearResponseCache").trigger()
    assert window.statusBar().currentMessage() == (
        "Cleared the response cache of 'cached': 1 answer(s) in memory, 1 in the database."
    )
    assert service.count(tab.workflow_id) == 0
    assert run_and_wait(qtbot, window, tab).status == "completed"
    assert http_server.count("app1") == 2
