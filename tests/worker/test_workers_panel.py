"""The monitor's live workers panel on a real worker process and a real redis-server: who is alive,
what each worker runs, how many messages wait in each queue, asked periodically off the GUI thread."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import api_call, flowdesk, wait_until, workflow_file

PATIENCE_MS = 120_000  # a worker process on a busy machine: a bound, not a speed target


@pytest.fixture
def panel_for(qtbot):
    from flowdesk.ui.monitor.workers_panel import WorkersPanel

    made = []

    def make(broker: str | None) -> WorkersPanel:
        panel = WorkersPanel(broker, interval_ms=200)
        qtbot.addWidget(panel)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown()
    from flowdesk.ui.monitor.query_runner import wait_for_queries

    wait_for_queries(10_000)


def _submit(worker_db: str, broker: str, workflow_id: int, queue: str) -> int:
    from flowdesk.engine.executor import WorkflowExecutor

    async def submit() -> int:
        async with WorkflowExecutor(db=worker_db, broker=broker) as executor:
            return (await executor.execute_workflow(workflow_id, config={"queue": queue})).id

    return asyncio.run(submit())


def test_the_panel_shows_which_worker_runs_what_and_what_waits_in_its_queue(
    start_worker, worker_db, redis_server, http_server, store, qtbot, panel_for
):
    worker = start_worker("--queues", "panel", "--concurrency", "1")
    wid = store(workflow_file("panel held", [api_call("hold", f"{http_server.url}/hold/panel-held?times=5")]))
    running = _submit(worker_db, redis_server.url, wid, "panel")
    wait_until(lambda: http_server.count("panel-held") == 1, "the first run's call in flight")
    waiting = _submit(worker_db, redis_server.url, wid, "panel")  # the worker's one slot is taken

    panel = panel_for(redis_server.url)
    panel.timer.start()  # refreshed by its timer, as in the app, not by the test

    def mine() -> dict | None:
        return next((w for w in panel.workers if w["pid"] == worker.pid), None)

    qtbot.waitUntil(
        lambda: (m := mine()) is not None and m["running"] == [running] and panel.queues.get("panel") == 1,
        timeout=PATIENCE_MS,
    )
    entry = mine()
    assert entry["alive"] and entry["queues"] == ["panel"] and entry["concurrency"] == 1
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == entry["name"])
    assert entry["name"] == f"flowdesk-{worker.pid}@{entry['host']}"
    assert [panel.table.item(row, c).text() for c in (1, 2, 3, 4)] == ["yes", "panel", "1/1", str(running)]
    assert "panel: 1" in panel.queue_label.text()
    assert panel.summary.text().startswith(f"{sum(w['alive'] for w in panel.workers)} alive of ")

    for execution_id in (waiting, running):  # the queued one first, so it never starts
        assert (
            flowdesk("cancel", str(execution_id), "--db", worker_db, "--broker", redis_server.url).returncode
            == 0
        )
    qtbot.waitUntil(
        lambda: (m := mine()) is not None and m["running"] == [] and panel.queues.get("panel") == 0,
        timeout=PATIENCE_MS,
    )
    assert panel.table.item(row, 4).text() == "—"
    assert http_server.count("panel-held") == 1  # the run cancelled while queued never ran


def test_without_a_broker_or_with_one_away_the_panel_says_so_in_a_sentence(qtbot, panel_for):
    from flowdesk.ui.monitor.workers_panel import NO_BROKER

    idle = panel_for(None)
    idle.refresh()
    assert idle.summary.text() == NO_BROKER and idle.table.rowCount() == 0
    away = panel_for("redis://127.0.0.1:1/0")
    with qtbot.waitSignal(away.updated, timeout=PATIENCE_MS):
        away.refresh()
    text = away.summary.text()
    assert text.startswith("The workers cannot be asked through the broker redis://127.0.0.1:1/0: ")
    assert text.endswith("refused.") and "Traceback" not in text
    hidden = panel_for("redis://:sesame@127.0.0.1:1/0")
    with qtbot.waitSignal(hidden.updated, timeout=PATIENCE_MS):
        hidden.refresh()
    assert "redis://:***@127.0.0.1:1/0" in hidden.summary.text() and "sesame" not in hidden.summary.text()
