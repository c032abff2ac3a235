"""The seed's debugging snippet reads step logs as objects; existing callers read them as dicts.
`WorkflowMonitor.get_execution_logs`, `orchestrator.get_execution_logs` and `handle.logs()` all
return the same `ExecutionLog`s, and they serve both."""

from __future__ import annotations

import asyncio

from flowdesk.api import WorkflowExecutor, WorkflowOrchestrator
from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import ExecutionLog
from flowdesk.services.monitor import WorkflowMonitor
from tests.support.stored_chain import store_chain


def test_the_seed_debugging_snippet_works_on_every_door(db_path):
    async def scenario():
        async with WorkflowOrchestrator(db=db_path) as orchestrator:
            workflow_id = await store_chain(
                orchestrator,
                "logs",
                ("wait", NodeType.DELAY, {"seconds": 0}),
                {"output": {"n": "{{input.n}}"}},
            )
            executor = WorkflowExecutor(db=db_path, load_plugins=False)
            try:
                handle = await executor.execute_workflow(workflow_id, {"n": 3})
                from_handle = await handle.logs()
            finally:
                await executor.aclose()
            from_orchestrator = await orchestrator.get_execution_logs(handle.id)
            async with WorkflowMonitor(db_path) as monitor:
                from_monitor = await monitor.get_execution_logs(handle.id)
            return handle.id, from_handle, from_orchestrator, from_monitor

    execution_id, *doors = asyncio.run(scenario())
    for logs in doors:
        assert all(type(log) is ExecutionLog for log in logs)
        # the seed's snippet
        seen = [
            (log.step_name, log.status, log.input_data, log.output_data, log.error_message) for log in logs
        ]
        assert [s[:2] for s in seen] == [("start", "success"), ("wait", "success"), ("end", "success")]
        assert seen[2][3] == {"n": 3} and seen[0][3] == {"n": 3} and seen[1][4] is None
        # existing callers
        assert [(log["step_name"], log["status"]) for log in logs] == [s[:2] for s in seen]
        assert logs[2].get("output_data") == {"n": 3} and logs[2].get("no such field", 1) == 1
        assert logs[0].execution_id == execution_id
    monitor_logs, orchestrator_logs = doors[2], doors[1]
    for a, b in zip(monitor_logs, orchestrator_logs, strict=True):
        assert (a.step_name, a.status, a.input_data, a.output_data, a.sequence, a.attempts) == (
            b.step_name,
            b.status,
            b.input_data,
            b.output_data,
            b.sequence,
            b.attempts,
        )


def test_an_unstored_run_gives_the_same_type():
    from tests.support.graph_builder import executor, graph

    async def scenario():
        ex = executor()
        try:
            h = await ex.execute_graph(graph([("s", "START"), ("e", "END")], [("s", "e")]))
            return await h.logs()
        finally:
            await ex.aclose()

    logs = asyncio.run(scenario())
    assert [type(log) for log in logs] == [ExecutionLog, ExecutionLog]
    assert [log.step_name for log in logs] == ["s", "e"] and logs[0].execution_id is None
