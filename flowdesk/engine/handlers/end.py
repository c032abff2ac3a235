"""END: sets the execution's output_data."""

from __future__ import annotations

from typing import Any

from ..context import NodeContext


async def handle(ctx: NodeContext) -> Any:
    """Render `output` (alias `outputs`), or map every executed node's name to its output."""
    config = ctx.config
    spec = config.get("output", config.get("outputs"))
    if spec is None:
        result: Any = dict(ctx.runtime.executed)
    else:
        result = ctx.render(spec)
    ctx.runtime.set_result(result)
    return result
