"""Live status of a run: the node running is recorded when it starts (a monitor asking during a long
DELAY sees it), under the seed's names too (`current_step`, `progress` 0-100), the same in the
handle, the monitor and the database reads."""

from __future__ import annotations

import asyncio

from flowdesk.api import WorkflowExecutor, WorkflowOrchestrator
from flowdesk.domain.enums import NodeType
from flowdesk.services.executions import ExecutionService
from flowdesk.services.monitor import WorkflowMonitor
from flowdesk.store import Database
from tests.support.stored_chain import store_chain

HANG_GUARD = 60.0  # seconds: fails the test instead of hanging it; the condition is awaited, not timed


async def _until(condition, what: str):
    """Ask `condition()` (a coroutine function) again at each loop turn until it gives a truthy value."""
    async with asyncio.timeout(HANG_GUARD):
        while not (answer := await condition()):
            await asyncio.sleep(0.01)
    assert answer, what
    return answer


def test_a_long_delay_is_shown_as_the_current_step_with_its_progress(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            workflow_id = await store_chain(orchestrator, "slow", ("wait", NodeType.DELAY, {"seconds": 600}))
        executor = WorkflowExecutor(db=db_path, load_plugins=False)
        try:
            handle = await executor.execute_workflow(workflow_id, {}, config={"async": True})
            async with WorkflowMonitor(db_path) as monitor:

                async def shown():
                    active = await monitor.get_active_executions()
                    return active if active and active[0]["current_node"] == "wait" else None

                (entry,) = await _until(shown, "the monitor never showed the DELAY running")
            with Database(db_path) as db:
                stored = ExecutionService(db).get_execution(handle.id)
            in_handle = (handle.current_step, handle.current_node, handle.progress)
            handle.cancel()
            await handle.wait()
            return entry, stored, in_handle
        finally:
            await executor.aclose()

    entry, stored, (step, node, progress) = asyncio.run(scenario())
    assert (entry["current_node"], entry["current_step"], entry["progress"]) == ("wait", "wait", 33.3)
    assert (stored.current_node, stored.current_step, stored.progress) == ("wait", "wait", 33.3)
    assert stored.model_dump()["current_step"] == "wait"
    assert (step, node, progress) == ("wait", "wait", 33.3)
