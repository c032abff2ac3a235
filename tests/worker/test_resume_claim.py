"""The atomic resume claim (records.claim_resume): one resume per stopped execution, even racing."""

from __future__ import annotations

import asyncio

import pytest

from flowdesk.domain.enums import ExecutionStatus
from flowdesk.engine.errors import ExecutionNotResumableError
from flowdesk.engine.executor import WorkflowExecutor
from flowdesk.services.executions import ExecutionService
from flowdesk.services.transfer import TransferService

from .conftest import workflow_file


def _interrupted_run(db) -> int:
    graph = (
        TransferService(db)
        .open_file(
            workflow_file("claimed", [{"name": "wait", "node_type": "DELAY", "config": {"seconds": 0}}])
        )
        .graph
    )
    run = ExecutionService(db).create_execution(graph.workflow.id, status=ExecutionStatus.INTERRUPTED)
    assert run.id is not None
    return run.id


def test_a_second_resume_of_the_same_execution_is_refused(db):
    old = _interrupted_run(db)

    async def twice() -> int:
        async with WorkflowExecutor(db=db, load_plugins=False) as executor:
            first = await executor.resume(old)
            assert first.status == ExecutionStatus.COMPLETED
            with pytest.raises(
                ExecutionNotResumableError, match=f"was already resumed as execution {first.id}"
            ):
                await executor.resume(old)
            return first.id

    new = asyncio.run(twice())
    assert ExecutionService(db).latest_attempt(old).id == new


def test_two_executors_racing_to_resume_get_one_new_execution(db_path):
    from flowdesk.store import Database

    setup = Database(db_path)
    old = _interrupted_run(setup)

    async def race() -> list[object]:
        executors = [WorkflowExecutor(db=db_path, load_plugins=False) for _ in range(2)]
        try:
            for executor in executors:
                await executor.database()
            return await asyncio.gather(*(e.resume(old) for e in executors), return_exceptions=True)
        finally:
            for executor in executors:
                await executor.aclose()

    results = asyncio.run(race())
    refused = [r for r in results if isinstance(r, ExecutionNotResumableError)]
    resumed = [r for r in results if not isinstance(r, BaseException)]
    assert len(resumed) == 1 and len(refused) == 1, results
    children = [e for e in ExecutionService(setup).list_executions() if e.resumed_from_id == old]
    assert [c.id for c in children] == [resumed[0].id]
    setup.close()
