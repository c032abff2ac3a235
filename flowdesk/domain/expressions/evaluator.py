"""Walks a syntax tree over a Scope with a whitelist of operations; never raises on data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import patterns
from .ast import (
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
    is_plain_name,
    to_text,
)
from .scope import Scope
from .values import equals, is_empty, is_number, member, order, text_form, to_json, truthy, type_name

#: Longest string (characters) or list (items) that `+` may build.
MAX_TEXT_LENGTH = 10_000_000
MAX_LIST_LENGTH = 1_000_000
#: Integers beyond this many bits become null (they could not even be written out).
MAX_INT_BITS = 1024


def evaluate_tree(node: Expr, scope: Scope) -> Any:
    """The value of a parsed expression in `scope`."""
    return _DISPATCH[type(node)](node, scope)


def _literal(node: Literal, scope: Scope) -> Any:
    return node.value


def _list(node: ListLiteral, scope: Scope) -> Any:
    return [evaluate_tree(item, scope) for item in node.items]


def _name(node: Name, scope: Scope) -> Any:
    found, value = scope.lookup(node.name)
    if not found:
        scope.warn(f"unresolved reference '{node.name}'")
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return "." + key if is_plain_name(key) else "[" + to_json(key) + "]"
    return "[" + (text_form(key) if key is not None else "null") + "]"


def _step_into(value: Any, key: Any) -> tuple[bool, Any]:
    if isinstance(value, Mapping):
        if isinstance(key, str):
            if key in value:
                return True, value[key]
            return False, None
        if is_number(key):
            if key in value:
                return True, value[key]
            text = text_form(key)
            if text in value:
                return True, value[text]
        return False, None
    if isinstance(value, (list, tuple, str)):
        if type(key) is float and key.is_integer():
            key = int(key)
        if type(key) is int and -len(value) <= key < len(value):
            return True, value[key]
        return False, None
    return False, None


def _chain(node: Chain, scope: Scope) -> Any:
    base = node.base
    if isinstance(base, Name):
        found, value = scope.lookup(base.name)
        if not found:
            scope.warn(f"unresolved reference '{base.name}'")
            return None
    else:
        value = evaluate_tree(base, scope)
    computed: dict[int, Any] | None = None
    for position, step in enumerate(node.steps):
        kind = type(step)
        if kind is Field:
            key = step.key  # type: ignore[union-attr]
        elif kind is Index:
            key = evaluate_tree(step.key, scope)  # type: ignore[union-attr, arg-type]
            if computed is None:
                computed = {}
            computed[position] = key
        else:
            value = _call(step, value, scope)  # type: ignore[arg-type]
            continue
        ok, value = _step_into(value, key)
        if not ok:
            scope.warn(f"unresolved reference '{_describe(node, position, computed or {})}'")
            return None
    return value


def _describe(node: Chain, upto: int, computed: dict[int, Any]) -> str:
    """The path as far as it was followed, dynamic indexes shown with their values."""
    base = node.base
    parts = [base.name if isinstance(base, Name) else "(" + to_text(base) + ")"]
    for position, step in enumerate(node.steps[: upto + 1]):
        if isinstance(step, Field):
            parts.append(_key_text(step.key))
        elif isinstance(step, Index):
            parts.append(_key_text(computed.get(position)))
        else:
            parts.append(f".{step.name}()" if not step.args else f".{step.name}(...)")
    return "".join(parts)


def _call(step: Method, receiver: Any, scope: Scope) -> Any:
    name = step.name
    args = [evaluate_tree(arg, scope) for arg in step.args]
    if receiver is None:
        return None
    if name == "length":
        if isinstance(receiver, (str, list, tuple, Mapping)):
            return len(receiver)
        return _mismatch(scope, f"'.length()' needs a string, list or object, got {type_name(receiver)}")
    if name == "lower" or name == "upper":
        if isinstance(receiver, str):
            return receiver.lower() if name == "lower" else receiver.upper()
        return _mismatch(scope, f"'.{name}()' needs a string, got {type_name(receiver)}")
    arg = args[0]
    if name == "contains":
        if isinstance(receiver, (str, list, tuple, Mapping)):
            return member(arg, receiver)
        return _mismatch(scope, f"'.contains()' needs a string, list or object, got {type_name(receiver)}")
    if name == "startswith" or name == "endswith":
        if not isinstance(receiver, str):
            return _mismatch(scope, f"'.{name}()' needs a string, got {type_name(receiver)}")
        if arg is None or not isinstance(arg, (str, int, float)):
            return _mismatch(scope, f"'.{name}()' needs a string argument, got {type_name(arg)}")
        affix = text_form(arg)
        return receiver.startswith(affix) if name == "startswith" else receiver.endswith(affix)
    if name == "matches":
        if isinstance(receiver, bool) or not isinstance(receiver, (str, int, float)):
            return _mismatch(scope, f"'.matches()' needs a string, got {type_name(receiver)}")
        if not isinstance(arg, str):
            return _mismatch(scope, f"'.matches()' needs a pattern string, got {type_name(arg)}")
        try:
            return patterns.search(arg, text_form(receiver))
        except patterns.PatternError as exc:
            scope.warn(f"'.matches()': {exc}")
            return None
    raise AssertionError(f"method {name} passed the parser")  # pragma: no cover


def _mismatch(scope: Scope, message: str) -> None:
    scope.warn(message)
    return None


def _negate(node: Negate, scope: Scope) -> Any:
    value = evaluate_tree(node.operand, scope)
    if is_number(value):
        return -value
    if value is not None:
        scope.warn(f"cannot negate {type_name(value)}")
    return None


def _not(node: Not, scope: Scope) -> Any:
    return not truthy(evaluate_tree(node.operand, scope))


def _arith_pair(op: str, left: Any, right: Any, scope: Scope) -> Any:
    if is_number(left) and is_number(right):
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif right == 0:
            scope.warn(f"division by zero ({text_form(left)} {op} 0) gives null")
            return None
        elif op == "/":
            if type(left) is int and type(right) is int and left % right == 0:
                result = left // right
            else:
                try:
                    result = left / right
                except OverflowError:
                    scope.warn("a number too large to divide gives null")
                    return None
        else:
            result = left % right
        if type(result) is int and result.bit_length() > MAX_INT_BITS:
            scope.warn(f"a number over {MAX_INT_BITS} bits gives null")
            return None
        return result
    if op == "+":
        if isinstance(left, str) or isinstance(right, str):
            left_text = text_form(left)
            right_text = text_form(right)
            if len(left_text) + len(right_text) > MAX_TEXT_LENGTH:
                scope.warn(f"'+' would build a text over {MAX_TEXT_LENGTH} characters; gives null")
                return None
            return left_text + right_text
        if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            if len(left) + len(right) > MAX_LIST_LENGTH:
                scope.warn(f"'+' would build a list over {MAX_LIST_LENGTH} items; gives null")
                return None
            return [*left, *right]
    if left is None or right is None:
        return None  # null propagates; where it came from was already warned about
    scope.warn(f"cannot apply '{op}' to {type_name(left)} and {type_name(right)}; gives null")
    return None


def _arithmetic(node: Arithmetic, scope: Scope) -> Any:
    value = evaluate_tree(node.first, scope)
    for op, operand in node.rest:
        value = _arith_pair(op, value, evaluate_tree(operand, scope), scope)
    return value


def _logical(node: Logical, scope: Scope) -> Any:
    value: Any = None
    if node.op == "and":
        for operand in node.operands:
            value = evaluate_tree(operand, scope)
            if not truthy(value):
                return value
        return value
    for operand in node.operands:
        value = evaluate_tree(operand, scope)
        if truthy(value):
            return value
    return value


def _compare(node: Compare, scope: Scope) -> Any:
    left = evaluate_tree(node.left, scope)
    right = evaluate_tree(node.right, scope)
    op = node.op
    if op == "==":
        return equals(left, right)
    if op == "!=":
        return not equals(left, right)
    if op == "in":
        return member(left, right)
    if op == "not in":
        return not member(left, right)
    pair = order(left, right)
    if pair is None:
        return False
    a, b = pair
    try:
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError:  # pragma: no cover - order() only pairs numbers or strings
        return False


def _test(node: IsCheck, scope: Scope) -> Any:
    value = evaluate_tree(node.operand, scope)
    result = value is None if node.kind == "null" else is_empty(value)
    return not result if node.negated else result


_DISPATCH: dict[type, Callable[[Any, Scope], Any]] = {
    Literal: _literal,
    ListLiteral: _list,
    Name: _name,
    Chain: _chain,
    Negate: _negate,
    Not: _not,
    Arithmetic: _arithmetic,
    Logical: _logical,
    Compare: _compare,
    IsCheck: _test,
}
