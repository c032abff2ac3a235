"""A workflow stored through the seed's orchestrator API: START -> one node -> END."""

from __future__ import annotations

from typing import Any

from flowdesk.domain.enums import ConnectionType, NodeType


async def store_chain(
    orchestrator: Any, name: str, middle: tuple[str, NodeType, dict], end: dict | None = None
) -> int:
    """Create `name` as START -> `middle` (name, type, config) -> END (config `end`); its id."""
    wf = await orchestrator.create_workflow(name=name)
    ids = []
    for node_name, kind, config in (("start", NodeType.START, {}), middle, ("end", NodeType.END, end or {})):
        ids.append((await orchestrator.add_node(wf.id, name=node_name, node_type=kind, config=config)).id)
    for a, b in zip(ids, ids[1:], strict=False):
        await orchestrator.add_connection(wf.id, a, b, ConnectionType.SEQUENCE)
    return wf.id
