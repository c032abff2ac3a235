"""START: the entry of a workflow; its output is the execution's input data."""

from __future__ import annotations

from typing import Any

from ..context import NodeContext


async def handle(ctx: NodeContext) -> Any:
    """Output the input data (an empty object when there is none)."""
    data = ctx.input
    return {} if data is None else data
