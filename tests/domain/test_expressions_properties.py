"""Property tests: any text parses or fails with a located error; any tree round-trips and evaluates
without raising; renames and checks never crash."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowdesk.domain.errors import ExpressionSyntaxError
from flowdesk.domain.expressions import (
    Scope,
    check_expression,
    check_template,
    evaluate,
    parse,
    references,
    rename_node_references,
    render,
    to_text,
)
from flowdesk.domain.expressions.ast import (
    Arithmetic,
    Chain,
    Compare,
    Expr,
    Field,
    Index,
    IsCheck,
    ListLiteral,
    Literal,
    Logical,
    Method,
    Name,
    Negate,
    Not,
)
from flowdesk.domain.expressions.values import to_json

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text built mostly from the language's own pieces, so random strings get deep into the parser.
PIECES = [
    "input",
    "x",
    ".",
    "a",
    "[",
    "]",
    "(",
    ")",
    "{{",
    "}}",
    "0",
    "-1",
    "2.5",
    "'s'",
    '"t"',
    "'",
    '"',
    "\\",
    " ",
    "==",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "empty",
    "true",
    ".contains(",
    ".length()",
    ".matches('a+')",
    ",",
    "登录",
    "__class__",
    "nodes",
    "e5",
    "=",
    "!",
    "{",
    "}",
    ":",
    "?",
    "\n",
    "\t",
]
expression_text = st.lists(st.sampled_from(PIECES), max_size=25).map("".join) | st.text(max_size=40)


def located(err: ExpressionSyntaxError, text: str) -> bool:
    return 1 <= err.column <= len(text) + 1 and err.text == text and bool(err.message)


@SETTINGS
@given(expression_text)
def test_any_text_parses_or_fails_with_a_column_inside_the_text(text: str) -> None:
    try:
        tree = parse(text)
    except ExpressionSyntaxError as err:
        assert located(err, text)
        assert check_expression(text)[0].column == err.column
        return
    # What parses evaluates without raising, on an empty scope and on a populated one.
    evaluate(tree, Scope({}))
    evaluate(tree, Scope({"input": {"a": [1, "x", None]}, "x": {"a": {"0": 1}}}, {"登录": "v"}))
    assert parse(to_text(tree)) == parse(to_text(parse(to_text(tree))))


@SETTINGS
@given(expression_text, expression_text)
def test_any_template_checks_with_columns_inside_the_text(before: str, inside: str) -> None:
    text = before + "{{" + inside + "}}" + before
    for err in check_template(text):
        assert located(err, text)
    try:
        render(text, Scope({"input": {}}))
    except ExpressionSyntaxError as err:
        assert located(err, text)
    references(text)


@SETTINGS
@given(expression_text, st.sampled_from(["input", "x", "登录", "a"]), st.sampled_from(["y", "新 名", "and"]))
def test_rename_never_raises_and_keeps_text_without_the_name(text: str, old: str, new: str) -> None:
    result = rename_node_references(text, old, new)
    if old not in text:
        assert result == text


# -- random trees ------------------------------------------------------------------------------

NAMES = ["input", "x", "y", "nodes", "登录", "loop"]
KEYS = ["a", "b", "name", "和", "two words", "0"]
numbers = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
literals = st.one_of(
    numbers.map(Literal),
    st.text(max_size=8).map(Literal),
    st.sampled_from([True, False, None]).map(Literal),
)
names = st.sampled_from(NAMES).map(Name)
plain_field = st.sampled_from(["a", "b", "name", "和"]).map(lambda k: Field(k, False))
bracket_field = st.one_of(st.sampled_from(KEYS), st.integers(-3, 3)).map(lambda k: Field(k, True))


def _not_numeric_literal(node: Expr) -> bool:
    return not (
        isinstance(node, Literal)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    dynamic_index = children.filter(
        lambda e: not (isinstance(e, Literal) and type(e.value) in (str, int))
    ).map(Index)
    method = st.one_of(
        st.sampled_from(["lower", "upper", "length"]).map(lambda m: Method(m, ())),
        st.tuples(st.sampled_from(["contains", "startswith", "endswith"]), children).map(
            lambda t: Method(t[0], (t[1],))
        ),
        st.sampled_from(["^a", "[0-9]+", "x|y"]).map(lambda p: Method("matches", (Literal(p),))),
    )
    name_chain = st.tuples(
        names, st.lists(st.one_of(plain_field, bracket_field, dynamic_index, method), min_size=1, max_size=3)
    ).map(lambda t: Chain(t[0], tuple(t[1])))
    other_chain = st.tuples(
        children.filter(lambda e: not isinstance(e, (Chain, Name))),
        st.lists(st.one_of(bracket_field, dynamic_index, method), min_size=1, max_size=2),
    ).map(lambda t: Chain(t[0], tuple(t[1])))

    def arithmetic(level_ops: list[str]) -> st.SearchStrategy[Expr]:
        return st.tuples(
            children.filter(lambda e: not (isinstance(e, Arithmetic) and e.rest[0][0] in level_ops)),
            st.lists(st.tuples(st.sampled_from(level_ops), children), min_size=1, max_size=3),
        ).map(lambda t: Arithmetic(t[0], tuple(t[1])))

    def logical(op: str) -> st.SearchStrategy[Expr]:
        return st.tuples(
            children.filter(lambda e: not (isinstance(e, Logical) and e.op == op)),
            st.lists(children, min_size=1, max_size=3),
        ).map(lambda t: Logical(op, (t[0], *t[1])))

    return st.one_of(
        st.lists(children, max_size=3).map(lambda items: ListLiteral(tuple(items))),
        name_chain,
        other_chain,
        children.filter(_not_numeric_literal).map(Negate),
        children.map(Not),
        arithmetic(["+", "-"]),
        arithmetic(["*", "/", "%"]),
        logical("and"),
        logical("or"),
        st.tuples(
            st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]), children, children
        ).map(lambda t: Compare(*t)),
        st.tuples(st.sampled_from(["null", "empty"]), st.booleans(), children).map(lambda t: IsCheck(*t)),
    )


trees = st.recursive(st.one_of(literals, names), _extend, max_leaves=12)

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False), st.text(max_size=5)
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=15,
)
scopes = st.tuples(
    st.dictionaries(st.sampled_from(["input", "x", "loop"]), json_values, max_size=3),
    st.dictionaries(st.sampled_from(["y", "登录", "API 调用"]), json_values, max_size=3),
)


@SETTINGS
@given(trees, scopes)
def test_random_trees_round_trip_and_evaluate_without_raising(tree: Expr, scope_parts: Any) -> None:
    text = to_text(tree)
    assert parse(text) == tree, text
    scope = Scope(*scope_parts)
    evaluate(tree, scope)
    evaluate(f"{{{{ {text} }}}}", scope)
    assert all(isinstance(w, str) for w in scope.warnings)
    render(f"value: {{{{ {text} }}}}", scope)
    references(text)


@SETTINGS
@given(trees, scopes)
def test_a_renamed_node_is_read_the_same_way(tree: Expr, scope_parts: Any) -> None:
    values, nodes = scope_parts
    text = to_text(tree)
    # Reading the whole node map (`nodes`, or `nodes[<computed key>]`) sees names as data: a rename
    # changes those keys by design, so the property is about references that name a node.
    assume(("nodes",) not in references(text, kind="expression"))
    renamed = rename_node_references(text, "登录", "new node")
    moved = {("new node" if k == "登录" else k): v for k, v in nodes.items()}
    before = evaluate(text, Scope(values, nodes))
    after = evaluate(renamed, Scope(values, moved))
    assert to_json(before) == to_json(after), (text, renamed)
