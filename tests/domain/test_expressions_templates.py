"""Templates (raw value vs text, how values read in text), template checks, references, renames."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.domain.errors import ExpressionSyntaxError
from flowdesk.domain.expressions import (
    Scope,
    check_template,
    references,
    rename_node_references,
    render,
    split_template,
)

DATA: dict[str, Any] = {
    "input": {
        "obj": {"name": "Ann", "城市": "北京"},
        "list": [1, "a", None],
        "n": 3,
        "f": 1.0,
        "big": 1e20,
        "t": True,
        "none": None,
        "s": "text",
    },
    "env": {"base": "https://api.example.com"},
    "params": {"user_id": 42},
}


def rendered(value: Any) -> Any:
    scope = Scope(DATA, {"登录": {"token": "T"}})
    out = render(value, scope)
    assert scope.warnings == []
    return out


RAW_VALUES = [
    ("{{input.obj}}", {"name": "Ann", "城市": "北京"}),
    ("{{input.list}}", [1, "a", None]),
    ("{{input.n}}", 3),
    ("{{input.f}}", 1.0),
    ("{{input.t}}", True),
    ("{{input.none}}", None),
    ("  {{ input.n }}  ", 3),  # surrounding whitespace allowed
    ("\n{{input.n}}\t", 3),
    ("{{input.n + 1}}", 4),
    ("{{ 登录.token }}", "T"),
]


@pytest.mark.parametrize(("template", "expected"), RAW_VALUES)
def test_a_lone_expression_yields_the_raw_typed_value(template: str, expected: Any) -> None:
    result = rendered(template)
    assert result == expected and type(result) is type(expected)


TEXT_FORMS = [
    ("n={{input.n}}", "n=3"),
    ("f={{input.f}}", "f=1.0"),  # floats keep their JSON spelling
    ("big={{input.big}}", "big=1e+20"),
    ("t={{input.t}}", "t=true"),
    ("none=[{{input.none}}]", "none=[]"),  # null renders as nothing
    ("obj={{input.obj}}", 'obj={"name":"Ann","城市":"北京"}'),  # compact JSON, non-ASCII kept
    ("list={{input.list}}", 'list=[1,"a",null]'),
    ("{{env.base}}/users/{{params.user_id}}", "https://api.example.com/users/42"),
    ("{{input.s}}{{input.s}}", "texttext"),
    ("Bearer {{登录.token}}", "Bearer T"),
    ("a {{ '}}' }} b", "a }} b"),  # '}}' inside a string literal does not close the part
    ("{{ '{{' }} literal braces", "{{ literal braces"),
    ("single } and }} stay", "single } and }} stay"),
]


@pytest.mark.parametrize(("template", "expected"), TEXT_FORMS)
def test_mixed_text_renders_a_string(template: str, expected: str) -> None:
    assert rendered(template) == expected


def test_strings_without_braces_are_returned_unchanged() -> None:
    text = "plain {text} with } braces"
    assert rendered(text) is text


def test_render_walks_dicts_and_lists_values_only() -> None:
    value = {
        "{{input.s}}": "{{input.n}}",
        "nested": [{"x": "{{input.list}}"}, "id-{{params.user_id}}", 5, None, True],
        "tuple": ("{{input.n}}",),
    }
    assert rendered(value) == {
        "{{input.s}}": 3,  # keys are not templates
        "nested": [{"x": [1, "a", None]}, "id-42", 5, None, True],
        "tuple": [3],
    }


def test_render_warns_for_unresolved_references_and_renders_null() -> None:
    scope = Scope(DATA)
    assert render("id={{input.usr_id}}", scope) == "id="
    assert render("{{input.usr_id}}", scope) is None
    assert scope.warnings == ["unresolved reference 'input.usr_id'"]


def test_render_raises_for_a_broken_template() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        render({"url": "{{env.base}}/x/{{ params. }}"}, Scope(DATA))
    assert info.value.column == 27


def test_split_template_is_cached() -> None:
    assert split_template("a {{b}} c") is split_template("a {{b}} c")


TEMPLATE_ERRORS = [
    ("a {{ x + }} b", [(10, "expected a value after '+'")]),
    ("{{ }}", [(4, "expected an expression")]),
    ("ok {{ y", [(8, "the '{{' at column 4 is not closed")]),
    (
        "{{a b}} and {{c +}} then {{d}}",
        [
            (5, "expected an operator or the end of the expression after 'a', found 'b'"),
            (18, "expected a value after '+'"),
        ],
    ),
    ("{{ 'abc }} x", [(4, "the string starting at column 4 is not closed")]),
    ("{{ {{a}} ", [(10, "the '{{' at column 1 is not closed")]),
]


@pytest.mark.parametrize(("template", "errors"), TEMPLATE_ERRORS)
def test_check_template_reports_every_error_with_its_column_in_the_whole_text(
    template: str, errors: list[tuple[int, str]]
) -> None:
    found = check_template(template)
    assert [(e.column, e.message) for e in found] == errors
    assert all(e.text == template for e in found)


def test_check_template_accepts_good_templates() -> None:
    assert check_template("no braces at all") == []
    assert check_template("{{env.base}}/users/{{params.user_id}}?q={{ input.s.lower() }}") == []


def test_template_expression_length_is_limited_per_part() -> None:
    part = "1" + " + 1" * 1100
    errors = check_template("x {{" + part + "}}")
    assert [e.column for e in errors] == [4 + 4096 + 1]


REFERENCES = [
    ("{{env.base}}/users/{{params.user_id}}", [("env", "base"), ("params", "user_id")]),
    ("input.score >= 60", [("input", "score")]),
    ("{{input.score}} >= 60", [("input", "score")]),
    ("input.data[0].name", [("input", "data", 0, "name")]),
    ('x["key"].y', [("x", "key", "y")]),
    ("input.data[loop.index].name", [("input", "data"), ("loop", "index")]),
    ("response.data.message.contains(input.word)", [("response", "data", "message"), ("input", "word")]),
    ('nodes["API 调用"].x', [("nodes", "API 调用", "x")]),
    ("登录.token + 登录.token", [("登录", "token")]),
    ("a.b == 1 and not c or [d] is empty or -e.f", [("a", "b"), ("c",), ("d",), ("e", "f")]),
    ("'input.x' + 1", []),
    ("no braces here", []),  # neither an expression nor a template with parts: nothing is read
    ("Bearer {{登录.token}} {{ broken + }}", [("登录", "token")]),  # broken parts are skipped
    ("{{ (input.a).b }}", [("input", "a", "b")]),
]


@pytest.mark.parametrize(("text", "expected"), REFERENCES)
def test_references(text: str, expected: list[tuple[Any, ...]]) -> None:
    assert references(text) == expected


def test_references_kind_can_be_forced() -> None:
    assert references("login.token") == [("login", "token")]
    assert references("login.token", kind="template") == []
    assert references("{{a}} >= 1 and b.c", kind="expression") == [("a",), ("b", "c")]
    assert references("{{a}} >= 1 and b.c") == [("a",)]  # auto: text with {{ is a template


RENAMES = [
    ("{{login.token}}", "login", "auth", "{{auth.token}}"),
    ("Bearer {{ login.token }}!", "login", "auth", "Bearer {{ auth.token }}!"),
    ("login.ok == true", "login", "auth", "auth.ok == true"),
    ("{{login.ok}} and {{ login }}", "login", "auth", "{{auth.ok}} and {{ auth }}"),
    ('nodes["login"].x', "login", "auth", 'nodes["auth"].x'),
    ("nodes['login'].x", "login", "auth", "nodes['auth'].x"),
    ('nodes["login"].x', "login", "API 调用", 'nodes["API 调用"].x'),
    ("{{login.token}}", "login", "API 调用", '{{nodes["API 调用"].token}}'),
    ("login.x + login.y", "login", "my node", 'nodes["my node"].x + nodes["my node"].y'),
    ("{{login.token}}", "login", "and", '{{nodes["and"].token}}'),  # keywords need the nodes[...] form
    ("{{login.token}}", "login", "input", '{{nodes["input"].token}}'),  # so do reserved roots
    ("{{login.token}}", "login", 'say "hi"', '{{nodes["say \\"hi\\""].token}}'),
    ("nodes['login'].x", "login", "it's", "nodes['it\\'s'].x"),
    ('nodes["API 调用"].x', "API 调用", "api", 'nodes["api"].x'),
    ("{{登录.token}}", "登录", "signin", "{{signin.token}}"),
    # untouched: string literals, fields, other roots, literal template text, longer names
    ("{{ 'login' }} login {{ x.login }}", "login", "auth", "{{ 'login' }} login {{ x.login }}"),
    ("{{loginx.a}} {{input.login}}", "login", "auth", "{{loginx.a}} {{input.login}}"),
    ("{{ input.a }}", "input", "auth", "{{ input.a }}"),  # a bare 'input' is the root
    ('{{ nodes["input"].a }}', "input", "auth", '{{ nodes["auth"].a }}'),
    ("x is empty", "empty", "full", "x is empty"),
    ("empty.a is not empty", "empty", "full", "full.a is not empty"),
    (
        "{{ login.a }}  {{ broken + }}  {{login.b}}",
        "login",
        "auth",
        "{{ auth.a }}  {{ broken + }}  {{auth.b}}",
    ),
    ("  login.a  ==  1  ", "login", "auth", "  auth.a  ==  1  "),
]


@pytest.mark.parametrize(("text", "old", "new", "expected"), RENAMES)
def test_rename_node_references(text: str, old: str, new: str, expected: str) -> None:
    assert rename_node_references(text, old, new) == expected


def test_rename_leaves_text_without_references_identical() -> None:
    for text in ["", "no refs", "{{ a.b }}", "https://login.example.com/{{x}}", "{{ 'unterminated"]:
        result = rename_node_references(text, "login", "auth")
        assert result == text


def test_rename_kind_template_protects_plain_literals() -> None:
    assert rename_node_references("login", "login", "auth") == "auth"
    assert rename_node_references("login", "login", "auth", kind="template") == "login"


def test_renamed_text_still_reads_the_same_node() -> None:
    before = Scope({}, {"login": {"token": "T"}})
    after = Scope({}, {"API 调用": {"token": "T"}})
    text = "Bearer {{login.token}} / {{ nodes['login'].token }}"
    renamed = rename_node_references(text, "login", "API 调用")
    assert render(renamed, after) == render(text, before) == "Bearer T / T"


def test_data_containing_braces_is_never_rendered_again() -> None:
    scope = Scope({"input": {"x": "{{secrets.key}}", "y": {"z": "{{ 7*7 }}"}}, "secrets": {"key": "s3cret"}})
    assert render("{{input.x}}", scope) == "{{secrets.key}}"
    assert render("value: {{input.x}}", scope) == "value: {{secrets.key}}"
    assert render({"a": "{{input.y}}"}, scope) == {"a": {"z": "{{ 7*7 }}"}}


def test_huge_numbers_in_a_template_are_a_syntax_error() -> None:
    errors = check_template("x {{ " + "9" * 5000 + " }}")
    assert [(e.column, e.message) for e in errors] == [
        (6, "a number of 5000 digits is too long; at most 1000 are allowed")
    ]
