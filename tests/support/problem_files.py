"""Workflow files with very many problems, for the problem-report tests and benchmark."""

from __future__ import annotations

import json


def unreachable_nodes_file(n_unreachable: int, long_name: str | None = None) -> str:
    """START -> END plus `n_unreachable` DELAY nodes connected to nothing (each one a problem), and one
    more named `long_name` when given."""
    nodes = [
        {"name": "start", "node_type": "START", "config": {}},
        {"name": "end", "node_type": "END", "config": {}},
    ]
    nodes += [
        {"name": f"lost {i}", "node_type": "DELAY", "config": {"seconds": 0}} for i in range(n_unreachable)
    ]
    if long_name is not None:
        nodes.append({"name": long_name, "node_type": "DELAY", "config": {"seconds": 0}})
    return json.dumps(
        {
            "flowdesk": 1,
            "workflow": {"name": "many problems", "config": {}},
            "nodes": nodes,
            "connections": [{"from": "start", "to": "end", "connection_type": "SEQUENCE"}],
        },
        indent=2,
    )
