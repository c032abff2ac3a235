"""Positions of JSON paths, tokens and syntax errors in a JSON text."""

from __future__ import annotations

import json
from json.decoder import scanstring

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.interchange.json_locate import describe_json_error, find_token, line_column, locate_paths

documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


def all_paths(value, prefix=()):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from all_paths(child, (*prefix, key))


def offset_of(text: str, line: int, column: int) -> int:
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    return starts[line - 1] + column - 1


def value_at(doc, path):
    for part in path:
        doc = doc[part]
    return doc


@settings(max_examples=200, deadline=None)
@given(documents, st.sampled_from([None, 1, 2]), st.booleans())
def test_every_path_points_at_its_key_or_value(doc, indent, ascii_only):
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_only)
    paths = list(all_paths(doc))
    positions = locate_paths(text, paths)
    for path in paths:
        offset = offset_of(text, *positions[path])
        parent = value_at(doc, path[:-1])
        if isinstance(parent, dict):
            assert scanstring(text, offset + 1)[0] == path[-1]  # a key is shown at the key
        else:
            assert json.JSONDecoder().raw_decode(text, offset)[0] == value_at(doc, path)


def test_a_missing_key_is_placed_at_its_parent():
    text = '{\n  "nodes": [\n    {"name": "a"},\n    {"name": "b"}\n  ]\n}'
    assert locate_paths(text, [("nodes", 1, "node_type")]) == {("nodes", 1, "node_type"): (4, 5)}
    assert locate_paths(text, [("absent",)]) == {("absent",): (1, 1)}


def test_keys_with_escapes_and_duplicates():
    text = '{"a\\"b": 1, "x": 1,\n "x": 2}'
    found = locate_paths(text, [('a"b',), ("x",)])
    assert found[('a"b',)] == (1, 2)
    assert found[("x",)] == (2, 2), "the value json.loads keeps is the last duplicate"


def test_line_column_and_find_token():
    text = 'ab\ncd"NaN"\n NaN'
    assert line_column(text, 0) == (1, 1)
    assert line_column(text, 4) == (2, 2)
    assert find_token(text, lambda t: t == "NaN") == text.rindex("NaN")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1 "b": 2}', "expected ',' or '}'"),
        ("[1 2]", "expected ',' or ']'"),
        ('{"a": [1, {"b": 2} 3]}', "expected ',' or ']'"),
        ('{"a": 1,}', "expected a key in double quotes after ',' (a trailing comma is not allowed in JSON)"),
        ('{"a" 1}', "expected ':' after the key"),
        ('{"a": "x', "a string is never closed with '\"'"),
        (
            '{"a": }',
            "expected a value (text in double quotes, a number, true, false, null, an object or a list)",
        ),
        ("{} {}", "more text after the end of the JSON document"),
        ('["\\q"]', "an invalid escape sequence in a string"),
        ('["a\nb"]', "a control character (such as a line break) inside a string; write it as \\n or \\t"),
    ],
)
def test_json_errors_in_plain_words(text, message):
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    assert describe_json_error(caught.value) == message
