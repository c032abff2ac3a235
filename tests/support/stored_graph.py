"""A workflow graph stored in a test database, its custom node types registered first."""

from __future__ import annotations

from flowdesk.services.workflows import WorkflowService


def store_graph(db, g):
    from flowdesk.services.node_types import NodeTypeService

    for type_name in {n.node_type for n in g.nodes} - {
        "START",
        "END",
        "API_CALL",
        "CONDITION",
        "DELAY",
        "PARALLEL",
        "LOOP",
    }:
        NodeTypeService(db).register_node_type(type_name, description="a test node type")
    return WorkflowService(db).create_from_graph(g)
