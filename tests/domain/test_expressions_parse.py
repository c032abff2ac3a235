"""Parsing: the tree's shape, syntax errors with their exact column and expectation, limits, safety."""

from __future__ import annotations

import time

import pytest

from flowdesk.domain.errors import ExpressionSyntaxError
from flowdesk.domain.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Scope,
    check_expression,
    evaluate,
    parse,
    render,
    to_text,
)
from flowdesk.domain.expressions.ast import Chain, Compare, Field, Index, Literal, Logical, Method, Name

METHOD_LIST = "contains, startswith, endswith, matches, lower, upper, length"


def test_tree_of_a_seed_condition() -> None:
    tree = parse("{{response.data.message}}.contains('success')")
    assert tree == Chain(
        Name("response"), (Field("data"), Field("message"), Method("contains", (Literal("success"),)))
    )


def test_tree_of_indexing() -> None:
    tree = parse('input.data[loop.index]["k"][0]')
    assert tree == Chain(
        Name("input"),
        (Field("data"), Index(Chain(Name("loop"), (Field("index"),))), Field("k", True), Field(0, True)),
    )


def test_precedence_or_and_comparison() -> None:
    tree = parse("a == 1 or b == 2 and c")
    assert isinstance(tree, Logical) and tree.op == "or"
    assert isinstance(tree.operands[0], Compare)
    assert isinstance(tree.operands[1], Logical) and tree.operands[1].op == "and"


def test_parse_is_cached() -> None:
    assert parse("input.cached_probe + 1") is parse("input.cached_probe + 1")


def test_non_ascii_identifiers() -> None:
    assert parse("登录.token") == Chain(Name("登录"), (Field("token"),))
    assert parse("café.größe") == Chain(Name("café"), (Field("größe"),))


def test_keywords_are_allowed_as_field_names() -> None:
    scope = Scope({"input": {"null": 1, "and": 2, "empty": 3}})
    assert evaluate("input.null + input.and + input.empty", scope) == 6


# (text, column, expected, message): columns are 1-based; the message has no column, the
# location does (str(err) == "column N: message").
SYNTAX_ERRORS = [
    ("input.score >=", 15, "a value", "expected a value after '>='"),
    ("{{input.score}} >= ", 20, "a value", "expected a value after '>='"),
    ("input.score >= )", 16, "a value", "expected a value after '>=', found ')'"),
    ("", 1, "an expression", "expected an expression"),
    ("   ", 4, "an expression", "expected an expression"),
    ("(1 + 2", 7, "')'", "expected ')' after '2'"),
    ("input.data[0", 13, "']'", "expected ']' after '0'"),
    ("{{ input.x", 11, "'}}'", "expected '}}' after 'x'"),
    ("input.", 7, "a field or method name", "expected a field or method name after '.'"),
    ("input.5", 7, "a field or method name", "expected a field or method name after '.', found '5'"),
    (
        "a b",
        3,
        "an operator or the end of the expression",
        "expected an operator or the end of the expression after 'a', found 'b'",
    ),
    (
        "{{a}} {{b}}",
        7,
        "an operator or the end of the expression",
        "expected an operator or the end of the expression after '}}', found '{{'",
    ),
    ("a = 1", 3, "'=='", "'=' is not an operator; use '==' to compare"),
    ("a && b", 3, "'and'", "'&&' is not an operator; use 'and'"),
    ("a || b", 3, "'or'", "'||' is not an operator; use 'or'"),
    ("!a", 1, "'not' or '!='", "'!' is not an operator; use 'not' or '!='"),
    ("{a}", 1, "'{{'", "a single '{' is not allowed; templates use '{{ ... }}'"),
    ("a ? b", 3, "a value or an operator", "unexpected character '?'"),
    ("'abc", 1, "a closing '", "the string starting at column 1 is not closed"),
    ('x == "abc', 6, 'a closing "', "the string starting at column 6 is not closed"),
    (r"'\u12'", 2, "four hex digits after '\\u'", "a '\\u' escape needs four hex digits"),
    (
        "x is foo",
        6,
        "'null', 'not null', 'empty' or 'not empty'",
        "expected 'null', 'not null', 'empty' or 'not empty' after 'is', found 'foo'",
    ),
    ("x is not 1", 10, "'null' or 'empty'", "expected 'null' or 'empty' after 'not', found '1'"),
    (
        "a not b",
        3,
        "an operator or the end of the expression",
        "expected an operator or the end of the expression after 'a', found 'not'",
    ),
    ("1 < 2 < 3", 7, "'and' or 'or'", "comparisons cannot be chained; join them with 'and' ('<')"),
    ("a == not b", 6, "a value", "'not' cannot follow '==' directly; put the 'not ...' in parentheses"),
    ("x.format()", 3, "a method name", f"'format' is not a method; the methods are {METHOD_LIST}"),
    ("x.contains()", 11, "1 argument", "'.contains()' takes 1 argument, got 0"),
    ("x.lower(1)", 8, "0 arguments", "'.lower()' takes 0 arguments, got 1"),
    ("x.contains('a', 'b')", 11, "1 argument", "'.contains()' takes 1 argument, got 2"),
    ("x.contains('a'", 15, "',' or ')'", "expected ',' or ')' after ''a''"),
    (
        "len(x)",
        4,
        "an operator",
        f"only methods can be called (like x.contains('a')); the methods are {METHOD_LIST}",
    ),
    (
        "'abc'.upper",
        7,
        "a method call",
        f"a string written in the expression has no field 'upper'; the methods are {METHOD_LIST}",
    ),
    ("[1, 2", 6, "',' or ']'", "expected ',' or ']' after '2'"),
    ("and", 1, "a value", "expected a value, found 'and'"),
    ("x == True", 6, "true", "'True' is not a value here; write true (lower case)"),
    (
        "x is None",
        6,
        "'null', 'not null', 'empty' or 'not empty'",
        "expected 'null', 'not null', 'empty' or 'not empty' after 'is', found 'None'",
    ),
    ("None", 1, "null", "'None' is not a value here; write null (lower case)"),
    (
        "x.matches('(a+)+')",
        11,
        "a safe regular expression",
        "the pattern repeats a group that itself contains a repetition (like '(a+)+'), which can take "
        "practically forever to match; rewrite it without the nested repetition",
    ),
    (
        "x.matches('[a-')",
        11,
        "a safe regular expression",
        "the pattern is not a valid regular expression: unterminated character set",
    ),
    (
        "x.matches('(a)\\\\1')",
        11,
        "a safe regular expression",
        "backreferences (like '\\1') are not allowed in patterns",
    ),
]


@pytest.mark.parametrize(("text", "column", "expected", "message"), SYNTAX_ERRORS)
def test_syntax_errors_name_the_column_and_what_was_expected(
    text: str, column: int, expected: str, message: str
) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.column, err.expected, err.message) == (column, expected, message)
    assert err.text == text
    assert str(err) == f"column {column}: {message}"
    assert check_expression(text)[0].column == column


def test_check_expression_is_empty_for_valid_text() -> None:
    assert check_expression("{{input.age}} >= 18 and {{input.verified}} == true") == []


def test_length_limit() -> None:
    just_right = "1" + " + 1" * ((MAX_LENGTH - 1) // 4)
    assert len(just_right) <= MAX_LENGTH
    assert evaluate(just_right, Scope({})) == (MAX_LENGTH - 1) // 4 + 1
    too_long = "'" + "a" * MAX_LENGTH + "'"
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(too_long)
    assert info.value.column == MAX_LENGTH + 1
    assert (
        info.value.message
        == f"the expression is {MAX_LENGTH + 2} characters long; at most {MAX_LENGTH} are allowed"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "(" * n + "1" + ")" * n,
        lambda n: "-" * n + "1",
        lambda n: "not " * n + "true",
        lambda n: "[" * n + "]" * n,
        lambda n: "{{" * n + "1" + "}}" * n,
        lambda n: "x" + "[x" * n + "]" * n,
    ],
)
def test_depth_limit(make) -> None:
    assert check_expression(make(MAX_DEPTH // 2)) == []
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(make(MAX_DEPTH + 1))
    assert info.value.message == f"the expression is nested too deeply (more than {MAX_DEPTH} levels)"


def test_long_flat_chains_are_not_nesting() -> None:
    text = " or ".join(f"input.v == {i}" for i in range(200))
    assert evaluate(text, Scope({"input": {"v": 199}})) is True


# Each attempt must be refused by the parser or be harmless (null / plain data).
INJECTIONS_REFUSED = [
    ("__import__('os').system('x')", 1, "names starting with '__' are not allowed ('__import__')"),
    ("().__class__.__bases__[0].__subclasses__()", 2, "expected a value after '(', found ')'"),
    ("input.__class__", 7, "names starting with '__' are not allowed ('__class__')"),
    ("input.x.__globals__", 9, "names starting with '__' are not allowed ('__globals__')"),
    (
        '"a".format',
        5,
        f"a string written in the expression has no field 'format'; the methods are {METHOD_LIST}",
    ),
    ('"{0.__class__}".format(input)', 17, f"'format' is not a method; the methods are {METHOD_LIST}"),
    ("lambda: 1", 7, "unexpected character ':'"),
    ("(lambda x: x)(1)", 10, "unexpected character ':'"),
    ('f"{input}"', 2, "expected an operator or the end of the expression after 'f', found '\"{input}\"'"),
    ("''.join", 4, f"a string written in the expression has no field 'join'; the methods are {METHOD_LIST}"),
    ("input.items.pop()", 13, f"'pop' is not a method; the methods are {METHOD_LIST}"),
    ("eval('1')", 5, f"only methods can be called (like x.contains('a')); the methods are {METHOD_LIST}"),
    (
        "open('/etc/passwd').read()",
        5,
        f"only methods can be called (like x.contains('a')); the methods are {METHOD_LIST}",
    ),
    ("input['__class__'].__name__", 20, "names starting with '__' are not allowed ('__name__')"),
    ("x if y else z", 3, "expected an operator or the end of the expression after 'x', found 'if'"),
    ("a; b", 2, "unexpected character ';'"),
    ("[x for x in y]", 4, "expected ',' or ']' after 'x', found 'for'"),
    ("'a' * 10 ** 9", 11, "expected a value after '*', found '*'"),
]


@pytest.mark.parametrize(("text", "column", "message"), INJECTIONS_REFUSED)
def test_injection_attempts_are_refused(text: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse(text)
    assert (info.value.column, info.value.message) == (column, message)


def test_dunder_keys_are_only_data() -> None:
    scope = Scope({"input": {"__class__": "just a key"}})
    assert evaluate("input['__class__']", scope) == "just a key"
    assert evaluate("input['__dict__']", Scope({"input": {}})) is None


def test_template_arithmetic_runs_but_attribute_walks_do_not() -> None:
    scope = Scope({})
    assert render("{{ 7*7 }}", scope) == 49
    assert render("x{{ 7*7 }}", scope) == "x49"
    with pytest.raises(ExpressionSyntaxError):
        render("{{ ''.join }}", scope)
    with pytest.raises(ExpressionSyntaxError):
        render("{{ config.__class__ }}", scope)


def test_huge_results_are_refused_before_they_are_built() -> None:
    """Measured in memory, not time: the texts, lists and numbers refused are never made (each of
    them would take 10 MB or more; the refusals together allocate some 50 KB)."""
    import tracemalloc

    big = "a" * 6_000_000
    scope = Scope({"input": {"big": big, "list": list(range(600_000))}})
    tracemalloc.start()
    try:
        assert evaluate("input.big + input.big", scope) is None
        assert evaluate("input.list + input.list", scope) is None
        assert evaluate("'a' * 1000000000", scope) is None
        assert (
            evaluate("99999999999 * 99999999999 * 99999999999 * 99999999999" + " * 99999999999" * 100, scope)
            is None
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"refusing the results allocated {peak:,} bytes at the peak"
    assert scope.warnings == [
        "'+' would build a text over 10000000 characters; gives null",
        "'+' would build a list over 1000000 items; gives null",
        "cannot apply '*' to a string and a number; gives null",
        "a number over 1024 bits gives null",
    ]


DEEP_NESTING = ("(" * 2000 + "1" + ")" * 2000, "-" * 4000 + "1", "[" * 2000 + "]" * 2000)


def test_deep_nesting_is_refused() -> None:
    for text in DEEP_NESTING:
        with pytest.raises(ExpressionSyntaxError):
            parse(text)


@pytest.mark.perf
def test_deep_nesting_is_refused_quickly() -> None:
    start = time.perf_counter()
    for text in DEEP_NESTING:
        with pytest.raises(ExpressionSyntaxError):
            parse(text)
    assert time.perf_counter() - start < 1


def test_to_text_round_trips() -> None:
    for text in [
        "input.a + 1 * (2 - x) % 3",
        "not (a or b) and c is not empty",
        "nodes[\"API 调用\"].x[0][loop.index].contains('a')",
        "-(1 + 2) * -x",
        "(a == b) == c",
        "[1, 'two', null, true]",
        "a - (b - c)",
        "a / (b * c)",
    ]:
        tree = parse(text)
        assert parse(to_text(tree)) == tree, text
