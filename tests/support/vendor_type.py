"""A custom node type VENDOR whose schema marks secret fields, and a workflow of two VENDOR nodes
(one with literal secrets, one with a reference)."""

from __future__ import annotations

from tests.support.graph_builder import chain, graph

VENDOR_SCHEMA = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "x-secret": True},
        "login": {"type": "object", "properties": {"password": {"type": "string", "x-secret": True}}},
        "note": {"type": "string"},
    },
}


def vendor_graph():
    nodes, conns = chain(
        ("start", "START"),
        ("literal", "VENDOR", {"api_key": "sk-live-123", "login": {"password": "hunter2"}, "note": "kept"}),
        ("reference", "VENDOR", {"api_key": "{{secrets.VENDOR_KEY}}", "note": "also kept"}),
        ("end", "END"),
    )
    return graph(nodes, conns, name="vendor calls")
