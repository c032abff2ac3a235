"""SWITCH: of its outgoing CONDITIONAL connections, the first (in connection order) whose condition
holds is taken, and only that one; when none holds, its SEQUENCE connections (the `default` port)
are taken instead.

Without a SWITCH, every CONDITIONAL connection is evaluated on its own. The handler evaluates the
cases in order and outputs `{"case": index or null, "target": name or null, "default": bool}`;
`rewrite_edges` turns each case's condition into "this SWITCH chose me" (read from that output, which
is in the scope when the node's connections are resolved) and the default connections into
CONDITIONAL ones taken when no case matched, so the scheduler needs no SWITCH rule of its own.
"""

from __future__ import annotations

import json
from typing import Any

from flowdesk.domain.enums import ConnectionType

from ..context import NodeContext
from ..errors import NodeFailure

_CONDITIONAL = ConnectionType.CONDITIONAL.value
_SEQUENCE = ConnectionType.SEQUENCE.value


def cases(graph: Any, name: str) -> list[Any]:
    """The SWITCH's CONDITIONAL connections, in connection order."""
    return [c for c in graph.connections if c.from_node == name and c.connection_type == _CONDITIONAL]


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Evaluate the cases in order; output which one matched."""
    for index, connection in enumerate(cases(ctx.graph, ctx.node.name)):
        try:
            matched = ctx.evaluate_condition(connection.condition or "")
        except Exception as exc:  # a case that cannot be evaluated fails the SWITCH, naming it
            message = getattr(exc, "message", None) or str(exc)
            raise NodeFailure(
                f"the case to '{connection.to_node}' could not be evaluated: {message}",
                error_type="expression",
            ) from exc
        if matched:
            return {"case": index, "target": connection.to_node, "default": False}
    return {"case": None, "target": None, "default": True}


def rewrite_edges(node: Any, edges: list[Any]) -> list[Any]:
    """Case i is taken when this SWITCH's output says case i; SEQUENCE edges when no case matched."""
    me = "nodes[" + json.dumps(node.name) + "]"
    index = 0
    for edge in edges:
        if edge.type == _CONDITIONAL:
            edge.condition = f"{me}.case == {index}"
            index += 1
        elif edge.type == _SEQUENCE:
            edge.type = _CONDITIONAL
            edge.condition = f"{me}.default == true"
    return edges
