"""HttpResponse.data: JSON bodies read exactly (fast reader, with the json module where it is exact)."""

from __future__ import annotations

import math

import pytest

from flowdesk.engine.http import HttpResponse


def _response(body: bytes, content_type: str = "application/json") -> HttpResponse:
    headers = {"content-type": content_type} if content_type else {}
    return HttpResponse(200, "OK", headers, body, 1.0, "http://127.0.0.1/x", "GET")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": [1, 2.5, null, true, "\xe4\xb8\xad"]}', {"a": [1, 2.5, None, True, "中"]}),
        (b'{"id": 123456789012345678901234567890}', {"id": 123456789012345678901234567890}),
        (b"[18446744073709551616, -9223372036854775809]", [18446744073709551616, -9223372036854775809]),
        (b'{"low": -9223372036854775809}', {"low": -9223372036854775809}),  # 19 digits, below int64
        (b'{"high": 18446744073709551615}', {"high": 18446744073709551615}),
        (b'\xef\xbb\xbf{"bom": 1}', {"bom": 1}),
        (b" [] ", []),
    ],
)
def test_json_bodies_keep_their_exact_values(body, expected):
    data = _response(body).data
    assert data == expected
    assert type(data) is type(expected)
    if isinstance(expected, dict) and "id" in expected:
        assert isinstance(data["id"], int)  # not a float that lost digits


def test_nan_is_read_as_the_json_module_reads_it():
    (value,) = _response(b"[NaN]").data
    assert math.isnan(value)


def test_invalid_json_is_kept_as_text():
    assert _response(b'{"a": ').data == '{"a": '


def test_a_body_without_content_type_that_looks_like_json_is_parsed():
    assert _response(b'{"x": 1}', content_type="").data == {"x": 1}
    assert _response(b"plain", content_type="").data == "plain"
