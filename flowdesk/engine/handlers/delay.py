"""DELAY: waits `seconds` (a number or a template giving one)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Sleep for `seconds`; output `{"seconds": n}`."""
    raw = ctx.config.get("seconds", 0)
    value = ctx.render(raw) if isinstance(raw, str) else raw
    if isinstance(value, bool) or value is None:
        raise NodeFailure(f"DELAY seconds must be a number, got {value!r}", error_type="expression")
    if isinstance(value, int | float):
        seconds = value
    else:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            raise NodeFailure(
                f"DELAY seconds must be a number, got {value!r}", error_type="expression"
            ) from None
        if seconds.is_integer():
            seconds = int(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise NodeFailure(f"DELAY seconds must be 0 or more, got {value!r}", error_type="expression")
    await asyncio.sleep(seconds)
    return {"seconds": seconds}
