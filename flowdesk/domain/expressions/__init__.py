"""flowdesk's expression language: parse once, evaluate over a Scope, render templates.

Pure Python, no I/O, and no way to run code: a hand-written lexer and Pratt parser build an
immutable tree, and the evaluator walks it with a whitelist (docs/expressions.md).
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import ExpressionSyntaxError
from .ast import EXPRESSION_TYPES, METHODS, Expr, to_text
from .evaluator import Program, compile_tree, evaluate_tree
from .parser import MAX_DEPTH, MAX_LENGTH, parse
from .references import RESERVED_ROOTS, references, rename_node_references
from .scope import Scope
from .templates import check_template, render, split_template
from .values import text_form, truthy

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "METHODS",
    "RESERVED_ROOTS",
    "Expr",
    "ExpressionSyntaxError",
    "Scope",
    "check_expression",
    "check_template",
    "evaluate",
    "evaluate_condition",
    "parse",
    "references",
    "rename_node_references",
    "render",
    "split_template",
    "text_form",
    "to_text",
]


@functools.lru_cache(maxsize=4096)
def _program(text: str) -> Program:
    return compile_tree(parse(text))


def evaluate(text_or_expr: str | Expr, scope: Scope) -> Any:
    """The value of one expression (text is parsed and compiled once, then cached; `{{ }}` act as
    parentheses). A tree from `parse` is accepted too; any other non-text value is returned as is."""
    if isinstance(text_or_expr, str):
        return _program(text_or_expr)(scope)
    if isinstance(text_or_expr, EXPRESSION_TYPES):
        return evaluate_tree(text_or_expr, scope)
    return text_or_expr  # a value that is not text (a JSON true, a number) is its own value


def evaluate_condition(text_or_expr: str | Expr, scope: Scope) -> bool:
    """Whether the expression is true: null, false, 0, "", [] and {} are false."""
    return truthy(evaluate(text_or_expr, scope))


def check_expression(text: str) -> list[ExpressionSyntaxError]:
    """The syntax error of an expression, as a list (empty when it parses)."""
    try:
        parse(text)
    except ExpressionSyntaxError as exc:
        return [exc]
    return []
