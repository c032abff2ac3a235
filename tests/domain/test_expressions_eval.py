"""Evaluation: every operator, literal, path form, method and the mixed-type rules, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.domain.expressions import Scope, evaluate, evaluate_condition, parse, render

DATA: dict[str, Any] = {
    "input": {
        "n": 7,
        "f": 2.5,
        "zero": 0,
        "s": "Hello World",
        "num_text": "60",
        "empty_s": "",
        "items": [1, 2, 3],
        "empty_list": [],
        "obj": {"a": 1, "b": {"c": "deep"}, "0": "zero-key"},
        "empty_obj": {},
        "none": None,
        "flag": True,
        "off": False,
        "users": [{"name": "ann"}, {"name": "bob"}],
        "key": "a",
        "weird key": 5,
    },
    "loop": {"index": 2, "item": "x"},
}
NODES: dict[str, Any] = {"登录": {"token": "T"}, "API 调用": {"x": {"y": 9}}, "login": {"ok": True}}


def run(text: str) -> tuple[Any, list[str]]:
    scope = Scope(DATA, NODES)
    return evaluate(text, scope), scope.warnings


def value(text: str) -> Any:
    result, warnings = run(text)
    assert warnings == [], f"{text!r} warned {warnings}"
    return result


LITERALS = [
    ("0", 0),
    ("42", 42),
    ("-42", -42),
    ("3.25", 3.25),
    ("1e3", 1000.0),
    ("2.5E-1", 0.25),
    ("'single'", "single"),
    ('"double"', "double"),
    (r"'it\'s'", "it's"),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'a\nb\tc'", "a\nb\tc"),
    (r"'back\\slash'", "back\\slash"),
    (r"'\u00e9'", "é"),
    (r"'\d+'", "\\d+"),  # unknown escapes keep their backslash (handy for regexes)
    ("'中文'", "中文"),
    ("''", ""),
    ("true", True),
    ("false", False),
    ("null", None),
    ("[1, 'a', null]", [1, "a", None]),
    ("[]", []),
]


@pytest.mark.parametrize(("text", "expected"), LITERALS)
def test_literals(text: str, expected: Any) -> None:
    result = value(text)
    assert result == expected and type(result) is type(expected)


PATHS = [
    ("input.n", 7),
    ("input.obj.b.c", "deep"),
    ('input["obj"]["b"]["c"]', "deep"),
    ("input['weird key']", 5),
    ("input.items[0]", 1),
    ("input.items[-1]", 3),
    ("input.items[-3]", 1),
    ("input.items[loop.index]", 3),
    ("input.items[loop.index - 1]", 2),
    ("input.items[1.0]", 2),
    ("input.users[1].name", "bob"),
    ("input.obj[input.key]", 1),
    ("input.obj[0]", "zero-key"),  # JSON object keys are text: [0] finds "0"
    ("input.s[0]", "H"),
    ("loop.item", "x"),
    ("登录.token", "T"),
    ('nodes["API 调用"].x.y', 9),
    ("nodes['API 调用'].x['y']", 9),
    ("nodes.login.ok", True),
    ("login.ok", True),
    ("{{input.obj}}.a", 1),
    ("(input.obj).b.c", "deep"),
    ("input.none", None),
]


@pytest.mark.parametrize(("text", "expected"), PATHS)
def test_paths(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_values_root_wins_over_a_node_of_the_same_name() -> None:
    scope = Scope({"input": {"a": 1}}, {"input": {"a": 2}})
    assert evaluate("input.a", scope) == 1
    assert evaluate('nodes["input"].a', scope) == 2


UNRESOLVED = [
    ("input.usr_id", "unresolved reference 'input.usr_id'"),
    ("input.usr_id.name", "unresolved reference 'input.usr_id'"),
    ("input.items[5]", "unresolved reference 'input.items[5]'"),
    ("input.items[-4]", "unresolved reference 'input.items[-4]'"),
    ("input.items[loop.index + 10]", "unresolved reference 'input.items[12]'"),
    ("input.items['a']", "unresolved reference 'input.items.a'"),
    ("input.obj['no key']", "unresolved reference 'input.obj[\"no key\"]'"),
    ("input.none.x", "unresolved reference 'input.none.x'"),
    ("input.n.x", "unresolved reference 'input.n.x'"),
    ("input.s.length", "unresolved reference 'input.s.length'"),
    ("loginn.token", "unresolved reference 'loginn'"),
    ("nodes.nobody", "unresolved reference 'nodes.nobody'"),
    ("input.items[1.5]", "unresolved reference 'input.items[1.5]'"),
    ("input.items[true]", "unresolved reference 'input.items[true]'"),
]


@pytest.mark.parametrize(("text", "warning"), UNRESOLVED)
def test_unresolved_reference_is_null_with_one_warning(text: str, warning: str) -> None:
    result, warnings = run(text)
    assert result is None
    assert warnings == [warning]


def test_warnings_are_deduplicated_and_kept_across_evaluations() -> None:
    scope = Scope(DATA)
    evaluate("input.typo == 1 or input.typo == 2", scope)
    evaluate("input.typo", scope)
    evaluate("input.other", scope)
    assert scope.warnings == ["unresolved reference 'input.typo'", "unresolved reference 'input.other'"]


def test_child_scope_replaces_roots_and_has_its_own_warnings() -> None:
    parent = Scope({"input": {"a": 1}, "loop": {"index": 0}}, {"n": {"v": 1}})
    child = parent.child(loop={"index": 3}, response={"status": 200})
    assert evaluate("loop.index + input.a + n.v", child) == 5
    assert evaluate("response.status", child) == 200
    assert evaluate("loop.index", parent) == 0
    evaluate("response.status", parent)
    assert parent.warnings == ["unresolved reference 'response'"]
    assert child.warnings == []


ARITHMETIC = [
    ("1 + 2", 3),
    ("input.n - 10", -3),
    ("input.n * 2", 14),
    ("input.n / 2", 3.5),
    ("6 / 3", 2),  # exact integer division stays an integer
    ("6.0 / 3", 2.0),
    ("input.n % 4", 3),
    ("-7 % 3", 2),  # Python's modulo: the sign of the divisor
    ("input.f * 2", 5.0),
    ("2 + 3 * 4", 14),
    ("(2 + 3) * 4", 20),
    ("10 - 4 - 3", 3),  # left to right
    ("100 / 10 / 5", 2),
    ("2 * 3 % 4", 2),
    ("-input.n", -7),
    ("--input.n", 7),
    ("-(1 + 2)", -3),
    ("- 1", -1),
    ("'a' + 'b'", "ab"),
    ("'n=' + input.n", "n=7"),
    ("input.n + 'x'", "7x"),
    ("'f=' + input.f", "f=2.5"),
    ("'v=' + true", "v=true"),
    ("'v=' + null", "v="),
    ("'v=' + input.items", "v=[1,2,3]"),
    ("'v=' + input.obj.b", 'v={"c":"deep"}'),
    ("input.items + [4]", [1, 2, 3, 4]),
    ("1 + 2 + 'x'", "3x"),
    ("'x' + 1 + 2", "x12"),
]


@pytest.mark.parametrize(("text", "expected"), ARITHMETIC)
def test_arithmetic(text: str, expected: Any) -> None:
    result = value(text)
    assert result == expected and type(result) is type(expected)


MISMATCHES = [
    ("'a' * 3", "cannot apply '*' to a string and a number; gives null"),
    ("'a' - 1", "cannot apply '-' to a string and a number; gives null"),
    ("input.items * 2", "cannot apply '*' to a list and a number; gives null"),
    ("input.obj + input.obj", "cannot apply '+' to an object and an object; gives null"),
    ("true + 1", "cannot apply '+' to a boolean and a number; gives null"),
    ("'60' / 2", "cannot apply '/' to a string and a number; gives null"),
    ("1 / 0", "division by zero (1 / 0) gives null"),
    ("input.n % 0", "division by zero (7 % 0) gives null"),
    ("1.5 / 0.0", "division by zero (1.5 / 0) gives null"),
    ("-'a'", "cannot negate a string"),
]


@pytest.mark.parametrize(("text", "warning"), MISMATCHES)
def test_type_mismatch_and_division_by_zero_are_null_with_a_warning(text: str, warning: str) -> None:
    result, warnings = run(text)
    assert result is None
    assert warnings == [warning]


def test_null_propagates_through_arithmetic_without_a_second_warning() -> None:
    result, warnings = run("input.missing + 1")
    assert result is None
    assert warnings == ["unresolved reference 'input.missing'"]
    assert value("input.none * 2") is None


COMPARISONS = [
    ("1 == 1", True),
    ("1 == 1.0", True),
    ("1 != 2", True),
    ("'a' == 'a'", True),
    ("'a' != 'A'", True),
    ("null == null", True),
    ("input.none == null", True),
    ("input.n == null", False),
    ("input.n != null", True),
    ("true == true", True),
    ("true == 1", False),  # booleans are not numbers
    ("false == 0", False),
    ("input.items == [1, 2, 3]", True),
    ("input.obj.b == input.obj.b", True),
    # a number against a string spelling a number compares as numbers
    ("input.num_text == 60", True),
    ("60 == input.num_text", True),
    ("'60.0' == 60", True),
    ("' 60 ' == 60", True),
    ("input.num_text >= 18", True),
    ("'9' < 10", True),
    ("'abc' == 1", False),
    ("'abc' != 1", True),
    ("'1' == true", False),
    ("[1] == 1", False),
    # ordering
    ("1 < 2", True),
    ("2 <= 2", True),
    ("3 > 2.5", True),
    ("2 >= 3", False),
    ("'apple' < 'banana'", True),
    ("'10' < '9'", True),  # two strings compare as text
    # other mixed types are unordered: every ordering is false
    ("'abc' < 1", False),
    ("'abc' >= 1", False),
    ("null < 1", False),
    ("null >= 1", False),
    ("true > false", False),
    ("input.items < input.items", False),
    ("input.obj <= 1", False),
]


@pytest.mark.parametrize(("text", "expected"), COMPARISONS)
def test_comparisons_never_raise(text: str, expected: bool) -> None:
    assert value(text) is expected


MEMBERSHIP = [
    ("'ell' in input.s", True),
    ("'xyz' in input.s", False),
    ("'xyz' not in input.s", True),
    ("2 in input.items", True),
    ("'2' in input.items", True),  # list membership uses == (numeric text equals the number)
    ("9 in input.items", False),
    ("9 not in input.items", True),
    ("'a' in input.obj", True),
    ("0 in input.obj", True),  # key "0"
    ("'z' in input.obj", False),
    ("1 in 'a1b'", True),
    ("'a' in null", False),
    ("'a' not in null", True),
    ("'a' in 5", False),
    ("input.loop in input.items", False),
    ("input.n in [1, 7, 9]", True),
]


@pytest.mark.parametrize(("text", "expected"), MEMBERSHIP)
def test_membership(text: str, expected: bool) -> None:
    scope = Scope(DATA, NODES)
    assert evaluate(text, scope) is expected


LOGIC = [
    ("true and true", True),
    ("true and false", False),
    ("false or true", True),
    ("not true", False),
    ("not null", True),
    ("not input.empty_list", True),
    ("not input.n", False),
    ("not 1 == 2", True),  # not binds looser than comparisons
    ("not 1 == 1 or true", True),  # ...and tighter than or
    ("true or false and false", True),  # and binds tighter than or
    ("(true or false) and false", False),
    ("input.s and input.n", 7),  # and/or yield the deciding operand
    ("input.empty_s or 'default'", "default"),
    ("input.none or input.zero", 0),
    ("input.zero and 1", 0),
    ("1 < 2 and 2 < 3", True),
]


@pytest.mark.parametrize(("text", "expected"), LOGIC)
def test_logic(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_and_or_short_circuit_so_the_skipped_side_leaves_no_warning() -> None:
    assert run("false and input.typo") == (False, [])
    assert run("true or input.typo") == (True, [])


TESTS = [
    ("input.none is null", True),
    ("input.n is null", False),
    ("input.none is not null", False),
    ("input.s is not null", True),
    ("input.zero is null", False),
    ("input.empty_s is empty", True),
    ("input.empty_list is empty", True),
    ("input.empty_obj is empty", True),
    ("input.none is empty", True),
    ("input.zero is empty", False),  # 0 and false are values, not empty
    ("input.off is empty", False),
    ("input.s is empty", False),
    ("input.items is not empty", True),
    ("input.empty_obj is not empty", False),
    ("not input.items is empty", True),
    ("input.n + 1 is null", False),
]


@pytest.mark.parametrize(("text", "expected"), TESTS)
def test_is_null_and_is_empty(text: str, expected: bool) -> None:
    assert value(text) is expected


def test_is_null_on_a_missing_path_is_true_and_warns() -> None:
    assert run("input.email is null") == (True, ["unresolved reference 'input.email'"])


METHODS = [
    ("input.s.contains('World')", True),
    ("input.s.contains('world')", False),
    ("input.items.contains(2)", True),
    ("input.items.contains(5)", False),
    ("input.obj.contains('a')", True),
    ("'a1'.contains(1)", True),
    ("input.s.startswith('Hell')", True),
    ("input.s.startswith('World')", False),
    ("input.s.endswith('World')", True),
    ("'v1.2'.startswith('v')", True),
    ("'12'.startswith(1)", True),
    ("input.s.matches('W.r')", True),
    ("input.s.matches('^World')", False),  # a search, anchored only where you anchor it
    (r"'order-123'.matches('^order-\d+$')", True),
    ("input.s.matches('(?i)hello')", True),
    ("input.n.matches('^7$')", True),  # numbers are matched by their text
    ("input.s.lower()", "hello world"),
    ("input.s.upper()", "HELLO WORLD"),
    ("input.s.length()", 11),
    ("input.items.length()", 3),
    ("input.obj.length()", 3),
    ("''.length()", 0),
    ("'中文'.length()", 2),
    ("input.s.lower().contains('hello')", True),
    ("input.users[0].name.upper().length()", 3),
    ("input.none.length()", None),  # null propagates through methods
    ("input.none.contains('a')", None),
]


@pytest.mark.parametrize(("text", "expected"), METHODS)
def test_methods(text: str, expected: Any) -> None:
    assert value(text) == expected


METHOD_MISMATCHES = [
    ("input.n.lower()", "'.lower()' needs a string, got a number"),
    ("input.items.upper()", "'.upper()' needs a string, got a list"),
    ("input.n.length()", "'.length()' needs a string, list or object, got a number"),
    ("input.flag.contains(1)", "'.contains()' needs a string, list or object, got a boolean"),
    ("input.items.startswith('a')", "'.startswith()' needs a string, got a list"),
    ("input.s.endswith(null)", "'.endswith()' needs a string argument, got null"),
    ("input.items.matches('a')", "'.matches()' needs a string, got a list"),
    ("input.s.matches(1)", "'.matches()' needs a pattern string, got a number"),
]


@pytest.mark.parametrize(("text", "warning"), METHOD_MISMATCHES)
def test_method_on_the_wrong_type_is_null_with_a_warning(text: str, warning: str) -> None:
    assert run(text) == (None, [warning])


CONDITION_TRUTH = [
    ("null", False),
    ("false", False),
    ("0", False),
    ("0.0", False),
    ("''", False),
    ("[]", False),
    ("input.empty_obj", False),
    ("true", True),
    ("1", True),
    ("-1", True),
    ("'0'", True),
    ("'false'", True),
    ("[0]", True),
    ("input.obj", True),
    ("input.typo", False),
]


@pytest.mark.parametrize(("text", "expected"), CONDITION_TRUTH)
def test_evaluate_condition_truthiness(text: str, expected: bool) -> None:
    assert evaluate_condition(text, Scope(DATA)) is expected


@pytest.mark.parametrize("plain", [True, False, 0, 1.5, None, [1], {"a": 1}])
def test_a_value_that_is_not_text_is_its_own_value(plain: Any) -> None:
    assert evaluate(plain, Scope({})) == plain  # type: ignore[arg-type]


def test_evaluate_accepts_a_parsed_tree() -> None:
    tree = parse("input.n * 2")
    assert evaluate(tree, Scope(DATA)) == 14
    assert evaluate(tree, Scope({"input": {"n": 1}})) == 2


def test_template_braces_inside_an_expression_act_as_parentheses() -> None:
    assert value("{{ 1 + 2 }} * 3") == 9
    assert value("{{input.obj}}.b.c") == "deep"
    assert value("{{ {{input.n}} }}") == 7


def test_host_objects_are_never_reached_through_attributes() -> None:
    class Secret:
        password = "hunter2"

        def __getattr__(self, name: str) -> str:  # pragma: no cover - must never run
            raise AssertionError("attribute access on a host object")

    scope = Scope({"input": {"obj": Secret()}})
    assert evaluate("input.obj.password", scope) is None
    assert scope.warnings == ["unresolved reference 'input.obj.password'"]


REGEX_GUARDS = [
    # patterns that come from data are checked when used: null and a warning
    (
        "input.s.matches(input.pattern)",
        {"s": "aaaa", "pattern": "(a+)+$"},
        "'.matches()': the pattern repeats a group that itself contains a repetition (like '(a+)+'), "
        "which can take practically forever to match; rewrite it without the nested repetition",
    ),
    (
        "input.s.matches(input.pattern)",
        {"s": "abab", "pattern": "(ab)\\1"},
        "'.matches()': backreferences (like '\\1') are not allowed in patterns",
    ),
    (
        "input.s.matches(input.pattern)",
        {"s": "a", "pattern": "a" * 513},
        "'.matches()': the pattern is 513 characters long; at most 512 are allowed",
    ),
    (
        "input.s.matches(input.pattern)",
        {"s": "a", "pattern": "(unclosed"},
        "'.matches()': the pattern is not a valid regular expression: missing ), unterminated subpattern",
    ),
    (
        "input.s.matches('a')",
        {"s": "a" * 100_001},
        "'.matches()': the text is 100001 characters long; .matches() searches at most 100000",
    ),
]


@pytest.mark.parametrize(("text", "data", "warning"), REGEX_GUARDS)
def test_regex_guards(text: str, data: dict[str, Any], warning: str) -> None:
    scope = Scope({"input": data})
    assert evaluate(text, scope) is None
    assert scope.warnings == [warning]


def _run_away_search(monkeypatch: pytest.MonkeyPatch) -> tuple[Scope, float]:
    """Polynomial backtracking that the static rules let through, under a 0.02 s time limit."""
    import time

    from flowdesk.domain.expressions import patterns

    monkeypatch.setattr(patterns, "MATCH_TIMEOUT_SECONDS", 0.02)
    scope = Scope({"input": {"s": "abcd" * 5000}})
    start = time.perf_counter()
    assert evaluate("input.s.matches('.*a.*b.*c.*d.*e')", scope) is None
    return scope, time.perf_counter() - start


def test_regex_search_time_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unbounded, this search runs for hours (pytest-timeout would end the test); the warning says
    # the limit stopped it.
    scope, _ = _run_away_search(monkeypatch)
    assert scope.warnings == ["'.matches()': the pattern took longer than 0.02 s to match and was stopped"]


@pytest.mark.perf
def test_regex_search_is_stopped_soon_after_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    _, took = _run_away_search(monkeypatch)
    assert took < 1


def test_compiled_patterns_are_cached() -> None:
    from flowdesk.domain.expressions import patterns

    assert patterns.compile_pattern("^a+$") is patterns.compile_pattern("^a+$")


def test_absurdly_deep_or_circular_host_data_never_raises() -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(100_000):
        inner: list[Any] = []
        node.append(inner)
        node = inner
    circular: list[Any] = [1]
    circular.append(circular)
    scope = Scope({"input": {"deep": deep, "deep2": [[[]]], "circular": circular}})
    assert evaluate("input.deep == input.deep", scope) is False
    assert evaluate("input.deep2 in [input.deep]", scope) is False
    assert evaluate("'x' + input.deep", scope) == "x[unprintable: nested too deeply]"
    assert render("c={{input.circular}}", scope) == "c=[unprintable: nested too deeply]"
    assert evaluate("input.circular.length()", scope) == 2


@pytest.mark.parametrize(
    "text",
    [
        "9" * 400 + " * 1.5",
        "9" * 400 + " / 7.0",
        "9" * 400 + " + 0.5",
        "0.5 - " + "9" * 400,
        "1.5 % " + "9" * 400 + " * 10",
    ],
)
def test_integers_too_large_for_floats_give_null(text: str) -> None:
    result, warnings = run(text)
    assert result is None
    assert len(warnings) == 1 and ("on numbers this large gives null" in warnings[0] or "bits" in warnings[0])


def test_float_overflow_is_infinity_not_an_error() -> None:
    assert value("1e308 * 10") == float("inf")
    assert value("'x' + 1e308 * 10") == "xInfinity"
