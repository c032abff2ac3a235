"""Evaluates a syntax tree over a Scope with a whitelist of operations; never raises on data.

Each tree is turned once into nested Python closures (one per node, no Python source, no `eval`):
`compile_tree(tree)` gives a function of the Scope. Callers that parse text cache that function
with the tree, so evaluating a cached expression is one call per node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ExpressionLimitError
from . import patterns
from .ast import (
    Arithmetic,
    Call,
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
from .functions import FUNCTIONS, FunctionError
from .scope import Scope
from .values import equals, is_empty, is_number, member, order, text_form, to_json, truthy, type_name

#: Longest string (characters) or list (items) that `+` may build.
MAX_TEXT_LENGTH = 10_000_000
MAX_LIST_LENGTH = 1_000_000
#: Integers beyond this many bits become null (they could not even be written out).
MAX_INT_BITS = 1024


Program = Callable[[Scope], Any]


_COMPILED: dict[int, tuple[Expr, Program]] = {}
_COMPILED_MAX = 4096


def evaluate_tree(node: Expr, scope: Scope) -> Any:
    """The value of a parsed expression in `scope` (its compiled form is kept for reuse)."""
    entry = _COMPILED.get(id(node))
    if entry is None or entry[0] is not node:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        entry = (node, compile_tree(node))  # the tree is kept alive so its id stays unique
        _COMPILED[id(node)] = entry
    return entry[1](scope)


def compile_tree(node: Expr) -> Program:
    """The function computing `node` over a Scope."""
    return _COMPILERS[type(node)](node)


def _literal(node: Literal) -> Program:
    value = node.value

    def run(scope: Scope) -> Any:
        return value

    return run


def _list(node: ListLiteral) -> Program:
    items = tuple(compile_tree(item) for item in node.items)

    def run(scope: Scope) -> Any:
        return [item(scope) for item in items]

    return run


def _function(node: Call) -> Program:
    implementation = FUNCTIONS[node.name][1]
    args = tuple(compile_tree(arg) for arg in node.args)

    def run(scope: Scope) -> Any:
        try:
            return implementation(*(arg(scope) for arg in args))
        except FunctionError as err:
            return _mismatch(scope, str(err))

    return run


def _name(node: Name) -> Program:
    name = node.name
    warning = f"unresolved reference '{name}'"

    def run(scope: Scope) -> Any:
        values = scope.values
        if name in values:
            return values[name]
        found, value = scope.lookup(name)
        if not found:
            scope.warn(warning)
        return value

    return run


_FIELD, _INDEX, _METHOD = 0, 1, 2


def _chain(node: Chain) -> Program:
    base = node.base
    root = base.name if isinstance(base, Name) else None
    base_fn = None if root is not None else compile_tree(base)
    steps: list[tuple[int, Any, Any]] = []
    for step in node.steps:
        if isinstance(step, Field):
            steps.append((_FIELD, step.key, None))
        elif isinstance(step, Index):
            steps.append((_INDEX, compile_tree(step.key), None))
        else:
            steps.append((_METHOD, step, tuple(compile_tree(arg) for arg in step.args)))
    if root is not None and all(kind == _FIELD for kind, _, _ in steps):
        return _static_path(node, root, tuple(key for _, key, _ in steps))
    plan = tuple(steps)
    root_warning = f"unresolved reference '{root}'"

    def run(scope: Scope) -> Any:
        if root is not None:
            found, value = scope.lookup(root)
            if not found:
                scope.warn(root_warning)
                return None
        else:
            assert base_fn is not None
            value = base_fn(scope)
        computed: dict[int, Any] | None = None
        for position, (kind, item, args) in enumerate(plan):
            if kind == _METHOD:
                value = _call(item, value, [arg(scope) for arg in args], scope)
                continue
            if kind == _FIELD:
                key = item
            else:
                key = item(scope)
                if computed is None:
                    computed = {}
                computed[position] = key
            ok, value = _step_into(value, key)
            if not ok:
                scope.warn(f"unresolved reference '{_describe(node, position, computed or {})}'")
                return None
        return value

    return run


def _static_path(node: Chain, root: str, keys: tuple[str | int, ...]) -> Program:
    """The common case `root.a.b[0]`: a root name followed by literal keys only."""
    root_warning = f"unresolved reference '{root}'"

    def run(scope: Scope) -> Any:
        values = scope.values
        if root in values:
            value = values[root]
        else:
            found, value = scope.lookup(root)
            if not found:
                scope.warn(root_warning)
                return None
        for position, key in enumerate(keys):
            if type(value) is dict and type(key) is str:
                if key in value:
                    value = value[key]
                    continue
                ok = False
            else:
                ok, value = _step_into(value, key)
                if ok:
                    continue
            scope.warn(f"unresolved reference '{_describe(node, position, {})}'")
            return None
        return value

    return run


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


def _call(step: Method, receiver: Any, args: list[Any], scope: Scope) -> Any:
    name = step.name
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
        except patterns.PatternBudgetError as exc:  # never null: the step fails, saying why
            raise ExpressionLimitError(f"'.matches()': {exc}") from None
        except patterns.PatternError as exc:
            scope.warn(f"'.matches()': {exc}")
            return None
    raise AssertionError(f"method {name} passed the parser")  # pragma: no cover


def _mismatch(scope: Scope, message: str) -> None:
    scope.warn(message)
    return None


def _arith_pair(op: str, left: Any, right: Any, scope: Scope) -> Any:
    if is_number(left) and is_number(right):
        if right == 0 and op in ("/", "%"):
            scope.warn(f"division by zero ({text_form(left)} {op} 0) gives null")
            return None
        try:
            if op == "+":
                result = left + right
            elif op == "-":
                result = left - right
            elif op == "*":
                result = left * right
            elif op == "/":
                if type(left) is int and type(right) is int and left % right == 0:
                    result = left // right
                else:
                    result = left / right
            else:
                result = left % right
        except (OverflowError, ValueError):  # an integer too large to become a float
            scope.warn(f"'{op}' on numbers this large gives null")
            return None
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


def _negate(node: Negate) -> Program:
    operand = compile_tree(node.operand)

    def run(scope: Scope) -> Any:
        value = operand(scope)
        if is_number(value):
            return -value
        if value is not None:
            scope.warn(f"cannot negate {type_name(value)}")
        return None

    return run


def _not(node: Not) -> Program:
    operand = compile_tree(node.operand)

    def run(scope: Scope) -> Any:
        return not truthy(operand(scope))

    return run


def _arithmetic(node: Arithmetic) -> Program:
    first = compile_tree(node.first)
    rest = tuple((op, compile_tree(operand)) for op, operand in node.rest)

    def run(scope: Scope) -> Any:
        value = first(scope)
        for op, operand in rest:
            value = _arith_pair(op, value, operand(scope), scope)
        return value

    return run


def _logical(node: Logical) -> Program:
    operands = tuple(compile_tree(operand) for operand in node.operands)
    want = node.op == "or"  # `or` stops at the first truthy operand, `and` at the first falsy one

    def run(scope: Scope) -> Any:
        value: Any = None
        for operand in operands:
            value = operand(scope)
            if truthy(value) is want:
                return value
        return value

    return run


def _less(a: Any, b: Any) -> bool:
    return bool(a < b)


def _less_equal(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _greater(a: Any, b: Any) -> bool:
    return bool(a > b)


def _greater_equal(a: Any, b: Any) -> bool:
    return bool(a >= b)


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": _less,
    "<=": _less_equal,
    ">": _greater,
    ">=": _greater_equal,
}


def _compare(node: Compare) -> Program:
    left_fn = compile_tree(node.left)
    right_fn = compile_tree(node.right)
    op = node.op
    if op in ("==", "!=", "in", "not in"):
        test = equals if op in ("==", "!=") else member
        negate = op in ("!=", "not in")

        def run_equality(scope: Scope) -> Any:
            result = test(left_fn(scope), right_fn(scope))
            return not result if negate else result

        return run_equality
    ordering = _ORDERINGS[op]

    def run_order(scope: Scope) -> Any:
        left = left_fn(scope)
        right = right_fn(scope)
        if type(left) is int and type(right) is int:
            return ordering(left, right)
        pair = order(left, right)
        return False if pair is None else ordering(*pair)

    return run_order


def _is_null(value: Any) -> bool:
    return value is None


def _is_check(node: IsCheck) -> Program:
    operand = compile_tree(node.operand)
    check = _is_null if node.kind == "null" else is_empty
    negated = node.negated

    def run(scope: Scope) -> Any:
        result = check(operand(scope))
        return not result if negated else result

    return run


_COMPILERS: dict[type, Callable[[Any], Program]] = {
    Literal: _literal,
    ListLiteral: _list,
    Name: _name,
    Call: _function,
    Chain: _chain,
    Negate: _negate,
    Not: _not,
    Arithmetic: _arithmetic,
    Logical: _logical,
    Compare: _compare,
    IsCheck: _is_check,
}
