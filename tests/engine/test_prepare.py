"""WorkflowExecutor.prepare: a stored workflow's plan is made ahead of its run, off the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from flowdesk.domain.errors import NotFoundError
from flowdesk.engine.errors import WorkflowInvalidError
from flowdesk.engine.executor import WorkflowExecutor
from tests.support.graph_builder import graph
from tests.support.stored_graph import store_graph


def test_a_prepared_workflow_runs_without_compiling_again(db, monkeypatch):
    stored = store_graph(
        db, graph([("s", "START"), ("d", "DELAY", {"seconds": 0}), ("e", "END")], [("s", "d"), ("d", "e")])
    )
    compiled: list[str] = []

    async def scenario():
        loop_thread = threading.current_thread()
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            original = executor._compile

            def counting(g):
                compiled.append(
                    "worker thread" if threading.current_thread() is not loop_thread else "event loop"
                )
                return original(g)

            monkeypatch.setattr(executor, "_compile", counting)
            await executor.prepare(stored.workflow.id)
            after_prepare = list(compiled)
            execution = await executor.execute_workflow(stored.workflow.id, {})
            return after_prepare, execution

    after_prepare, execution = asyncio.run(scenario())
    assert after_prepare == ["worker thread"]  # compiled once, not on the loop
    assert compiled == ["worker thread"]  # the run reused that plan
    assert str(execution.status) == "completed"


def test_preparing_an_invalid_workflow_raises_what_a_run_would(db):
    stored = store_graph(db, graph([("s", "START"), ("d", "DELAY", {"seconds": 0})], [("s", "d")]))  # no END

    async def scenario():
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            with pytest.raises(WorkflowInvalidError) as prepared:
                await executor.prepare(stored.workflow.id)
            with pytest.raises(WorkflowInvalidError) as ran:
                await executor.execute_workflow(stored.workflow.id, {})
            with pytest.raises(NotFoundError):
                await executor.prepare(999_999)
            return str(prepared.value), str(ran.value)

    prepared, ran = asyncio.run(scenario())
    assert prepared == ran
    assert "END" in prepared
