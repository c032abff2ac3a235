"""CONDITION: evaluates `condition`; its TRUE / FALSE connections follow the result.

Without typed CONDITIONAL_TRUE / CONDITIONAL_FALSE connections, `true_path` / `false_path` (node
names) say which connections follow which result (`rewrite_edges`).
"""

from __future__ import annotations

from typing import Any

from flowdesk.domain.enums import ConnectionType

from ..context import NodeContext
from ..errors import NodeFailure

_TRUE = ConnectionType.CONDITIONAL_TRUE.value
_FALSE = ConnectionType.CONDITIONAL_FALSE.value
_SEQUENCE = ConnectionType.SEQUENCE.value


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Output `{"result": true/false}`."""
    condition = ctx.config.get("condition")
    if isinstance(condition, bool):
        return {"result": condition}
    if not isinstance(condition, str) or not condition.strip():
        raise NodeFailure("CONDITION has no condition", error_type="expression")
    try:
        result = ctx.evaluate_condition(condition)
    except Exception as exc:
        raise NodeFailure(f"condition could not be evaluated: {exc}", error_type="expression") from exc
    return {"result": bool(result)}


def rewrite_edges(node: Any, edges: list[Any]) -> list[Any]:
    """Honour `true_path` / `false_path` when the node has no typed TRUE/FALSE connections."""
    if any(e.type in (_TRUE, _FALSE) for e in edges):
        return edges
    config = node.config or {}
    paths = [(config.get("true_path"), _TRUE), (config.get("false_path"), _FALSE)]
    if not any(isinstance(p, str) and p for p, _ in paths):
        return edges
    from ..plan import Edge

    result = list(edges)
    for target, typ in paths:
        if not isinstance(target, str) or not target:
            continue
        matched = False
        for e in result:
            if e.target == target and e.type == _SEQUENCE:
                e.type = typ
                matched = True
        if not matched:
            result.append(Edge(-1, node.name, target, typ, None, None))
    return result
