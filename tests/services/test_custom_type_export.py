"""A custom type's fields marked `x-secret` in its registered schema leave an export as *** when they
hold a literal value; a `{{secrets.NAME}}` reference and the other fields are written as they are."""

from __future__ import annotations

import json

from flowdesk.services.node_types import NodeTypeService
from flowdesk.services.transfer import TransferService
from flowdesk.services.workflows import WorkflowService
from tests.support.vendor_type import VENDOR_SCHEMA, vendor_graph


def _configs(text):
    return {n["name"]: n.get("config", {}) for n in json.loads(text)["nodes"]}


def test_an_export_masks_a_stored_custom_type_s_secret_fields(db):
    NodeTypeService(db).register_node_type("VENDOR", "", VENDOR_SCHEMA, "tests.support.node_handlers:shout")
    stored = WorkflowService(db).create_from_graph(vendor_graph())

    text = TransferService(db).export_workflow(stored.workflow.id)

    assert "sk-live-123" not in text and "hunter2" not in text
    configs = _configs(text)
    assert configs["literal"] == {"api_key": "***", "login": {"password": "***"}, "note": "kept"}
    assert configs["reference"] == {"api_key": "{{secrets.VENDOR_KEY}}", "note": "also kept"}
