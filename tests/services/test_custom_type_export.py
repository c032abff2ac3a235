"""A custom type's fields marked `x-secret` in its registered schema leave an export as *** when they
hold a literal value; a `{{secrets.NAME}}` reference and the other fields are written as they are."""

from __future__ import annotations

import json

from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService
from tests.engine.graph_builder import chain, graph

SCHEMA = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "x-secret": True},
        "login": {"type": "object", "properties": {"password": {"type": "string", "x-secret": True}}},
        "note": {"type": "string"},
    },
}


def _graph():
    nodes, conns = chain(
        ("start", "START"),
        ("literal", "VENDOR", {"api_key": "sk-live-123", "login": {"password": "hunter2"}, "note": "kept"}),
        ("reference", "VENDOR", {"api_key": "{{secrets.VENDOR_KEY}}", "note": "also kept"}),
        ("end", "END"),
    )
    return graph(nodes, conns, name="vendor calls")


def _configs(text):
    return {n["name"]: n.get("config", {}) for n in json.loads(text)["nodes"]}


def test_an_export_masks_a_stored_custom_type_s_secret_fields(db):
    NodeTypeService(db).register_node_type("VENDOR", "", SCHEMA, "tests.support.node_handlers:shout")
    stored = WorkflowService(db).create_from_graph(_graph())

    text = TransferService(db).export_workflow(stored.workflow.id)

    assert "sk-live-123" not in text and "hunter2" not in text
    configs = _configs(text)
    assert configs["literal"] == {"api_key": "***", "login": {"password": "***"}, "note": "kept"}
    assert configs["reference"] == {"api_key": "{{secrets.VENDOR_KEY}}", "note": "also kept"}

