"""GET /executions/{id} through the server's runtime, in process: a run that ends while its row is read."""

from __future__ import annotations

import asyncio

from flowdesk.server.runtime import ServerRuntime, ServerSettings
from flowdesk.services.executions import ExecutionService
from tests.support.graph_builder import graph
from tests.support.stored_graph import store_graph


def test_a_run_that_ends_while_its_row_is_read_is_shown_as_ended(tmp_path, monkeypatch):
    """The row is read in a worker thread (as on PostgreSQL). When the run ends meanwhile, the row
    read can be older than its end (a resume's status is written with the next batch) and the
    handle no longer speaks for the run: the answer is its final row, not `paused`."""

    async def main() -> tuple[str, str]:
        runtime = await ServerRuntime.start(ServerSettings(db=str(tmp_path / "flowdesk.db")))
        try:
            stored = store_graph(
                runtime.db,
                graph(
                    [("start", "START"), ("wait", "DELAY", {"seconds": 0}), ("end", "END")],
                    [("start", "wait"), ("wait", "end")],
                ),
            )
            handle = await runtime.execute(
                stored.workflow.id,
                input_data={},
                execution_name=None,
                config={},
                step_by_step=True,
                breakpoints=[],
                environment=None,
            )
            await handle.step()
            assert handle.status.value == "paused"
            loop = asyncio.get_running_loop()
            monkeypatch.setattr(runtime.reader, "execution", lambda execution_id: None)  # the thread path
            read = ExecutionService.get_execution
            calls: list[str] = []

            async def end_the_run() -> None:
                await handle.resume()
                await handle.wait()

            def read_then_end(self, execution_id):  # in the worker thread
                row = read(self, execution_id)
                if not calls:
                    asyncio.run_coroutine_threadsafe(end_the_run(), loop).result(timeout=60)
                calls.append(row.status.value)
                return row

            monkeypatch.setattr(ExecutionService, "get_execution", read_then_end)
            view = await runtime.get_execution(handle.id)
            return calls[0], view["status"]
        finally:
            await runtime.close()

    first_read, shown = asyncio.run(main())
    assert first_read in ("paused", "running")  # the row as it was before the end
    assert shown == "completed"
