"""The functions an expression may call by name: uuid(), now(), timestamp(), random_int(a, b), random_string(n)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from flowdesk.domain.errors import ExpressionSyntaxError
from flowdesk.domain.expressions import Scope, evaluate, parse, references, render, to_text


def test_uuid_is_a_fresh_version_4_uuid_each_time():
    first, second = evaluate("uuid()", Scope({})), evaluate("uuid()", Scope({}))
    assert uuid.UUID(first).version == 4
    assert first != second


def test_now_is_utc_iso_8601_with_milliseconds():
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    value = evaluate("now()", Scope({}))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value)
    assert dt.datetime.fromisoformat(value.replace("Z", "+00:00")) >= before


def test_timestamp_is_whole_seconds_since_1970():
    before = int(dt.datetime.now(dt.UTC).timestamp())
    value = evaluate("timestamp()", Scope({}))
    assert isinstance(value, int) and value >= before


def test_random_int_stays_within_both_bounds_and_reaches_them():
    seen = {evaluate("random_int(1, 3)", Scope({})) for _ in range(300)}
    assert seen == {1, 2, 3}
    assert evaluate("random_int(input.n, input.n)", Scope({"input": {"n": 7}})) == 7


def test_random_string_is_lower_case_letters_and_digits():
    value = evaluate("random_string(40)", Scope({}))
    assert re.fullmatch(r"[a-z0-9]{40}", value)
    assert evaluate("random_string(0)", Scope({})) == ""


@pytest.mark.parametrize(
    ("expression", "warning"),
    [
        ("random_int(3, 1)", "'random_int(a, b)' needs a <= b, got 3 and 1"),
        ("random_int('a', 1)", "'random_int(a, b)' needs two whole numbers, got a string and a number"),
        ("random_int(1.5, 2)", "'random_int(a, b)' needs two whole numbers, got a number and a number"),
        ("random_string(-1)", "'random_string(n)' needs a whole number from 0 to 10000"),
        ("random_string(10001)", "'random_string(n)' needs a whole number from 0 to 10000"),
    ],
)
def test_bad_arguments_give_null_and_a_warning(expression, warning):
    scope = Scope({})
    assert evaluate(expression, scope) is None
    assert scope.warnings == [warning]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("uuid(1)", "column 5: 'uuid()' takes 0 arguments, got 1"),
        ("random_int(1)", "column 11: 'random_int()' takes 2 arguments, got 1"),
        (
            "len(x)",
            "column 4: only methods can be called (like x.contains('a')); the methods are contains, startswith, endswith, matches, lower, upper, length",
        ),
    ],
)
def test_wrong_calls_are_syntax_errors(expression, message):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(expression)
    assert str(info.value) == message


def test_functions_in_templates_are_evaluated_at_each_render():
    template = "/items/{{ uuid() }}?n={{ random_int(input.low, 9) }}"
    first, second = (
        render(template, Scope({"input": {"low": 9}})),
        render(template, Scope({"input": {"low": 9}})),
    )
    assert first != second and first.endswith("?n=9")
    assert references(template) == [("input", "low")]
    assert to_text(parse("random_int(1, input.n) + 1")) == "random_int(1, input.n) + 1"


def test_a_node_named_like_a_function_is_still_reached_as_a_name():
    scope = Scope({}, {"uuid": {"id": 5}})
    assert evaluate("uuid.id", scope) == 5


def test_join_writes_a_list_with_a_separator_and_keeps_null():
    scope = Scope({"params": {"ids": [1, "b", True], "none": None}})
    assert evaluate("join(params.ids, ',')", scope) == "1,b,true"
    assert evaluate("join(params.none, ',')", scope) is None
    assert evaluate("join('abc', ',')", scope) is None
    assert scope.warnings == ["'join(list, separator)' needs a list and a string, got a string and a string"]
