"""The fast canonical JSON writer is exactly `json.dumps(sort_keys=True, indent=2, ensure_ascii=False)`."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.interchange.canonical_json import dumps_canonical

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


def reference(value) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value):
    assert dumps_canonical(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": {}},
        [[]],
        'é\u2028\x00"\\',
        1e-300,
        -0.0,
        10**30,
        {"b": 1, "a": [1, {"z": None}]},
        ("t", 1),
    ],
)
def test_edge_values(value):
    assert dumps_canonical(value) == reference(value)


def test_non_string_keys_are_converted_like_json():
    value = {2: "b", True: "t", None: "n", 1.5: "f", "a": "s"}
    # json.dumps itself cannot sort mixed keys; it would write these strings.
    assert dumps_canonical(value) == reference({"2": "b", "true": "t", "null": "n", "1.5": "f", "a": "s"})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps_canonical({"x": bad})


def test_unknown_types_are_refused():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        dumps_canonical({"x": {1}})
