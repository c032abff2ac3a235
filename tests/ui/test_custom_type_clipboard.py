"""Copying nodes of a custom type writes its `x-secret` fields as *** like an export does."""

from __future__ import annotations

import json

from flowdesk.domain.node_descriptors import describe_custom
from flowdesk.ui.clipboard import fragment_text
from tests.support.vendor_type import VENDOR_SCHEMA, vendor_graph


def test_a_copied_selection_masks_a_custom_type_s_secret_fields():
    text = fragment_text(vendor_graph(), [], {"VENDOR": describe_custom("VENDOR", "", VENDOR_SCHEMA)})
    nodes = {n["name"]: n["config"] for n in json.loads(text)["nodes"]}
    assert "sk-live-123" not in text and "hunter2" not in text
    assert nodes["literal"] == {"api_key": "***", "login": {"password": "***"}, "note": "kept"}
    assert nodes["reference"]["api_key"] == "{{secrets.VENDOR_KEY}}"
