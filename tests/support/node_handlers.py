"""Handlers that stored custom node types name as `tests.support.node_handlers:FUNCTION`."""

from __future__ import annotations

from typing import Any


def shout(ctx: Any) -> dict[str, Any]:
    """A plain function: the rendered `text` in capitals."""
    return {"shouted": str(ctx.render(ctx.config.get("text", ""))).upper()}


async def count_words(ctx: Any) -> dict[str, Any]:
    """An async function: how many words `text` has."""
    return {"words": len(str(ctx.render(ctx.config.get("text", ""))).split())}


NOT_A_FUNCTION = 3
