"""Running a stored workflow to its end on a real database, and finding the child runs its
SUBWORKFLOW steps (or nodes of a `workflow:NAME` custom type) started."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.services.executions import ExecutionService


def run_stored(db: Any, workflow: Any, input_data: Any = None, **options: Any) -> Any:
    """Run stored `workflow` (a WorkflowGraph with its id) with a fresh test executor, flushed; its handle."""
    from tests.support.graph_builder import executor

    async def main() -> Any:
        ex = executor(db=db)
        try:
            handle = await ex.execute_workflow(workflow.workflow.id, input_data, **options)
            await ex.flush()
            return handle
        finally:
            await ex.aclose()

    return asyncio.run(main())


def children_of(db: Any, execution_id: int) -> list[Any]:
    """The recorded runs whose parent is run `execution_id`."""
    return [e for e in ExecutionService(db).list_executions() if e.parent_execution_id == execution_id]
