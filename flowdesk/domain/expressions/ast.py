"""The immutable syntax tree of the expression language, and its rendering back to text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: The only methods an expression may call, with how many arguments each takes.
METHODS: dict[str, int] = {
    "contains": 1,
    "startswith": 1,
    "endswith": 1,
    "matches": 1,
    "lower": 0,
    "upper": 0,
    "length": 0,
}

#: Words with a fixed meaning; they cannot name a root (a node so named is reached as nodes["and"]).
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "true", "false", "null"})


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, string, true, false or null written in the expression."""

    value: Any
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ListLiteral:
    """`[a, b, c]`: a list built from expressions."""

    items: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A root identifier: a reserved root (`input`, `loop`...), `nodes`, or a node's name."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Field:
    """A static step: `.name`, `["key"]` or `[3]` (`bracket` remembers how it was written)."""

    key: str | int
    bracket: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Index:
    """A dynamic step: `[expr]` whose key is computed at evaluation time."""

    key: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Method:
    """A call of one of the allowed METHODS: `.contains(x)`, `.length()`..."""

    name: str
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


Step = Field | Index | Method


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of the allowed functions by name (functions.FUNCTIONS): `uuid()`, `random_int(1, 6)`."""

    name: str
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Chain:
    """A base value followed by steps: `input.data[0].name`, `x.lower().contains('a')`."""

    base: Expr
    steps: tuple[Step, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """`not x`: the negated truthiness of x."""

    operand: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """A left-to-right run of operators of one precedence: `a + b - c` or `a * b / c % d`."""

    first: Expr
    rest: tuple[tuple[str, Expr], ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Logical:
    """`a and b and c` or `a or b or c`; yields the deciding operand, as Python does."""

    op: str
    operands: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """One comparison: `== != < <= > >= in` and `not in`."""

    op: str
    left: Expr
    right: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class IsCheck:
    """`x is null`, `x is not null`, `x is empty`, `x is not empty`."""

    kind: str  # "null" or "empty"
    negated: bool
    operand: Expr
    pos: int = field(default=0, compare=False)


Expr = Literal | ListLiteral | Name | Call | Chain | Negate | Not | Arithmetic | Logical | Compare | IsCheck
EXPRESSION_TYPES = (
    Literal,
    ListLiteral,
    Name,
    Call,
    Chain,
    Negate,
    Not,
    Arithmetic,
    Logical,
    Compare,
    IsCheck,
)


def is_plain_name(text: str) -> bool:
    """True when `text` can be written as a bare root or `.field` without quoting."""
    return text.isidentifier() and text not in KEYWORDS and not text.startswith("__")


# Binding strength, used to decide where parentheses are needed when writing a tree back out.
_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "*": 6, "neg": 7, "atom": 8}


def _prec(node: Expr) -> int:
    if isinstance(node, Logical):
        return _PREC[node.op]
    if isinstance(node, Not):
        return _PREC["not"]
    if isinstance(node, (Compare, IsCheck)):
        return _PREC["cmp"]
    if isinstance(node, Arithmetic):
        return _PREC["+"] if node.rest[0][0] in "+-" else _PREC["*"]
    if isinstance(node, Negate):
        return _PREC["neg"]
    if (
        isinstance(node, Literal)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return _PREC["neg"] if node.value < 0 else _PREC["atom"]
    return _PREC["atom"]


def _wrap(node: Expr, minimum: int) -> str:
    text = to_text(node)
    return f"({text})" if _prec(node) < minimum else text


def _literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_text(node: Expr) -> str:
    """Write a tree back as expression text that parses to an equal tree."""
    if isinstance(node, Literal):
        return _literal_text(node.value)
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(to_text(item) for item in node.items) + "]"
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.name}(" + ", ".join(to_text(a) for a in node.args) + ")"
    if isinstance(node, Chain):
        out = [_wrap(node.base, _PREC["atom"])]
        for step in node.steps:
            if isinstance(step, Field):
                if isinstance(step.key, str) and is_plain_name(step.key) and not step.bracket:
                    out.append("." + step.key)
                else:
                    out.append(f"[{_literal_text(step.key)}]")
            elif isinstance(step, Index):
                out.append(f"[{to_text(step.key)}]")
            else:
                out.append(f".{step.name}(" + ", ".join(to_text(a) for a in step.args) + ")")
        return "".join(out)
    if isinstance(node, Negate):
        return "-" + _wrap(node.operand, _PREC["atom"])
    if isinstance(node, Not):
        return "not " + _wrap(node.operand, _PREC["not"])
    if isinstance(node, Arithmetic):
        level = _prec(node)
        parts = [_wrap(node.first, level)]
        for op, operand in node.rest:
            parts.append(f" {op} " + _wrap(operand, level + 1))
        return "".join(parts)
    if isinstance(node, Logical):
        level = _PREC[node.op]
        return f" {node.op} ".join(_wrap(operand, level + 1) for operand in node.operands)
    if isinstance(node, Compare):
        level = _PREC["cmp"]
        return f"{_wrap(node.left, level + 1)} {node.op} {_wrap(node.right, level + 1)}"
    if isinstance(node, IsCheck):
        word = "is not" if node.negated else "is"
        return f"{_wrap(node.operand, _PREC['cmp'] + 1)} {word} {node.kind}"
    raise TypeError(f"not an expression node: {type(node).__name__}")
