"""Recursive-descent (Pratt) parser: expression text -> immutable syntax tree, cached by text."""

from __future__ import annotations

import functools

from ..errors import ExpressionSyntaxError
from . import patterns
from .ast import (
    METHODS,
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
    Step,
)
from .functions import FUNCTIONS
from .lexer import CLOSE, END, KEYWORD, NAME, NUMBER, OP, OPEN, STRING, Token, describe, tokenize

MAX_LENGTH = 4096
MAX_DEPTH = 64

_OR, _AND, _NOT, _CMP, _ADD, _MUL, _UNARY = 1, 2, 3, 4, 5, 6, 7
_BINDING = {
    "or": _OR,
    "and": _AND,
    "==": _CMP,
    "!=": _CMP,
    "<": _CMP,
    "<=": _CMP,
    ">": _CMP,
    ">=": _CMP,
    "in": _CMP,
    "not in": _CMP,
    "is": _CMP,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "%": _MUL,
}
METHOD_LIST = ", ".join(METHODS)
# Python's spellings, refused as bare names so `x == True` is an error rather than a silent null.
_PYTHON_CONSTANTS = {"True": "true", "False": "false", "None": "null"}
_LITERAL_KIND = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list"}


class Parser:
    """Parses the tokens of one expression; positions in errors are columns of the whole text."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        if ahead:
            return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]
        return self.tokens[self.i]  # the last token is END, which is never consumed

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(
        self, expected: str, tok: Token | None = None, message: str | None = None
    ) -> ExpressionSyntaxError:
        tok = tok if tok is not None else self.peek()
        if message is None:
            message = f"expected {expected}"
            if self.i > 0 and tok is self.peek():
                message += f" after {describe(self.text, self.tokens[self.i - 1])}"
            if tok.kind != END:
                message += f", found {describe(self.text, tok)}"
        return ExpressionSyntaxError(message, column=tok.pos + 1, expected=expected, text=self.text)

    def expect_op(self, value: str, expected: str) -> Token:
        tok = self.peek()
        if tok.kind == OP and tok.value == value:
            return self.advance()
        raise self.error(expected)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            tok = self.peek()
            raise ExpressionSyntaxError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                column=tok.pos + 1,
                expected=None,
                text=self.text,
            )

    # -- grammar -------------------------------------------------------------------------------
    def parse_all(self) -> Expr:
        if self.peek().kind == END:
            raise self.error("an expression")
        node = self.expression(0)
        if self.peek().kind != END:
            raise self.error("an operator or the end of the expression")
        return node

    def infix(self) -> tuple[str | None, int]:
        tok = self.peek()
        if tok.kind == OP or tok.kind == KEYWORD:
            value = tok.value
            if value == "not":
                nxt = self.peek(1)
                if nxt.kind == KEYWORD and nxt.value == "in":
                    return "not in", _CMP
                return None, 0
            binding = _BINDING.get(value)
            if binding is not None:
                return value, binding
        return None, 0

    def expression(self, min_binding: int) -> Expr:
        self.enter()
        left = self.prefix(min_binding)
        compared = False
        while True:
            op, binding = self.infix()
            if op is None or binding < min_binding:
                break
            op_tok = self.advance()
            if binding == _CMP:
                if compared:
                    raise self.error(
                        "'and' or 'or'",
                        op_tok,
                        f"comparisons cannot be chained; join them with 'and' ({describe(self.text, op_tok)})",
                    )
                compared = True
                if op == "not in":
                    self.advance()
                if op == "is":
                    left = self.test(left, op_tok)
                    continue
                right = self.expression(_CMP + 1)
                left = Compare(op, left, right, op_tok.pos)
            elif binding in (_OR, _AND):
                right = self.expression(binding + 1)
                if isinstance(left, Logical) and left.op == op:
                    left = Logical(op, left.operands + (right,), left.pos)
                else:
                    left = Logical(op, (left, right), op_tok.pos)
            else:
                right = self.expression(binding + 1)
                same_level = isinstance(left, Arithmetic) and (left.rest[0][0] in "+-") == (op in "+-")
                if same_level:
                    assert isinstance(left, Arithmetic)
                    left = Arithmetic(left.first, left.rest + ((op, right),), left.pos)
                else:
                    left = Arithmetic(left, ((op, right),), op_tok.pos)
        self.depth -= 1
        return left

    def test(self, operand: Expr, is_tok: Token) -> Expr:
        negated = False
        tok = self.peek()
        if tok.kind == KEYWORD and tok.value == "not":
            self.advance()
            negated = True
            tok = self.peek()
        if tok.kind == KEYWORD and tok.value == "null":
            self.advance()
            return IsCheck("null", negated, operand, is_tok.pos)
        if tok.kind == NAME and tok.value == "empty":
            self.advance()
            return IsCheck("empty", negated, operand, is_tok.pos)
        raise self.error("'null' or 'empty'" if negated else "'null', 'not null', 'empty' or 'not empty'")

    def prefix(self, min_binding: int) -> Expr:
        tok = self.peek()
        if tok.kind == KEYWORD and tok.value == "not":
            if min_binding > _NOT:
                raise self.error(
                    "a value",
                    tok,
                    f"'not' cannot follow {describe(self.text, self.tokens[self.i - 1])} directly; "
                    "put the 'not ...' in parentheses",
                )
            self.advance()
            operand = self.expression(_NOT)
            return Not(operand, tok.pos)
        if tok.kind == OP and tok.value == "-":
            self.advance()
            self.enter()
            operand = self.prefix(_UNARY)
            self.depth -= 1
            if (
                isinstance(operand, Literal)
                and isinstance(operand.value, (int, float))
                and not isinstance(operand.value, bool)
            ):
                return Literal(-operand.value, tok.pos)
            return Negate(operand, tok.pos)
        return self.postfix(self.primary())

    def primary(self) -> Expr:
        tok = self.peek()
        kind = tok.kind
        if kind == NUMBER or kind == STRING:
            self.advance()
            return Literal(tok.value, tok.pos)
        if kind == KEYWORD:
            if tok.value in ("true", "false", "null"):
                self.advance()
                return Literal({"true": True, "false": False, "null": None}[tok.value], tok.pos)
            raise self.error("a value")
        if kind == NAME:
            if tok.value in _PYTHON_CONSTANTS:
                spelling = _PYTHON_CONSTANTS[tok.value]
                raise self.error(
                    spelling, tok, f"'{tok.value}' is not a value here; write {spelling} (lower case)"
                )
            self.advance()
            self.check_name(tok)
            nxt = self.peek()
            if tok.value in FUNCTIONS and nxt.kind == OP and nxt.value == "(":
                return self.function(tok)
            return Name(tok.value, tok.pos)
        if kind == OPEN:
            self.advance()
            inner = self.expression(0)
            tok_close = self.peek()
            if tok_close.kind != CLOSE:
                raise self.error("'}}'")
            self.advance()
            return inner
        if kind == OP and tok.value == "(":
            self.advance()
            inner = self.expression(0)
            self.expect_op(")", "')'")
            return inner
        if kind == OP and tok.value == "[":
            self.advance()
            self.enter()
            items: list[Expr] = []
            if not (self.peek().kind == OP and self.peek().value == "]"):
                while True:
                    items.append(self.expression(0))
                    if self.peek().kind == OP and self.peek().value == ",":
                        self.advance()
                        continue
                    break
            self.expect_op("]", "',' or ']'")
            self.depth -= 1
            return ListLiteral(tuple(items), tok.pos)
        raise self.error("a value")

    def check_name(self, tok: Token) -> None:
        if tok.value.startswith("__"):
            raise self.error(
                "a name",
                tok,
                f"names starting with '__' are not allowed ({describe(self.text, tok)})",
            )

    def postfix(self, base: Expr) -> Expr:
        steps: list[Step] = []
        while True:
            tok = self.peek()
            if tok.kind != OP:
                break
            if tok.value == ".":
                self.advance()
                name_tok = self.peek()
                if name_tok.kind not in (NAME, KEYWORD):
                    raise self.error("a field or method name")
                self.advance()
                self.check_name(name_tok)
                nxt = self.peek()
                if nxt.kind == OP and nxt.value == "(":
                    steps.append(self.method(name_tok))
                    continue
                if isinstance(base, (Literal, ListLiteral)) and not steps:
                    value = base.value if isinstance(base, Literal) else []
                    kind = _LITERAL_KIND.get(type(value), "null")
                    raise self.error(
                        "a method call",
                        name_tok,
                        f"{kind} written in the expression has no field '{name_tok.value}'; "
                        f"the methods are {METHOD_LIST}",
                    )
                steps.append(Field(name_tok.value, False, name_tok.pos))
            elif tok.value == "[":
                self.advance()
                key = self.expression(0)
                self.expect_op("]", "']'")
                if isinstance(key, Literal) and type(key.value) in (str, int):
                    steps.append(Field(key.value, True, tok.pos))
                else:
                    steps.append(Index(key, tok.pos))
            elif tok.value == "(":
                raise self.error(
                    "an operator",
                    tok,
                    f"only methods can be called (like x.contains('a')); the methods are {METHOD_LIST}",
                )
            else:
                break
        if not steps:
            return base
        if isinstance(base, Chain):
            return Chain(base.base, base.steps + tuple(steps), base.pos)
        return Chain(base, tuple(steps), getattr(base, "pos", 0))

    def arguments(self) -> tuple[Token, list[Expr]]:
        """The `( a, b )` after a method or function name: the opening token and the arguments."""
        open_tok = self.advance()
        self.enter()
        args: list[Expr] = []
        if not (self.peek().kind == OP and self.peek().value == ")"):
            while True:
                args.append(self.expression(0))
                if self.peek().kind == OP and self.peek().value == ",":
                    self.advance()
                    continue
                break
        self.expect_op(")", "',' or ')'" if args else "')'")
        self.depth -= 1
        return open_tok, args

    def function(self, name_tok: Token) -> Call:
        name = name_tok.value
        open_tok, args = self.arguments()
        wanted = FUNCTIONS[name][0]
        if len(args) != wanted:
            noun = "argument" if wanted == 1 else "arguments"
            raise self.error(
                f"{wanted} {noun}", open_tok, f"'{name}()' takes {wanted} {noun}, got {len(args)}"
            )
        return Call(name, tuple(args), name_tok.pos)

    def method(self, name_tok: Token) -> Method:
        name = name_tok.value
        if name not in METHODS:
            raise self.error(
                "a method name",
                name_tok,
                f"'{name}' is not a method; the methods are {METHOD_LIST}",
            )
        open_tok, args = self.arguments()
        wanted = METHODS[name]
        if len(args) != wanted:
            noun = "argument" if wanted == 1 else "arguments"
            raise self.error(
                f"{wanted} {noun}",
                open_tok,
                f"'.{name}()' takes {wanted} {noun}, got {len(args)}",
            )
        if name == "matches" and isinstance(args[0], Literal) and isinstance(args[0].value, str):
            try:
                patterns.compile_pattern(args[0].value)
            except patterns.PatternError as exc:
                raise ExpressionSyntaxError(
                    str(exc), column=args[0].pos + 1, expected="a safe regular expression", text=self.text
                ) from None
        return Method(name, tuple(args), name_tok.pos)


def too_long(text: str, start: int, length: int) -> ExpressionSyntaxError:
    """The error for an expression over MAX_LENGTH characters."""
    return ExpressionSyntaxError(
        f"the expression is {length} characters long; at most {MAX_LENGTH} are allowed",
        column=start + MAX_LENGTH + 1,
        expected=None,
        text=text,
    )


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse one expression (`{{ }}` inside act as parentheses); cached on the text."""
    if not isinstance(text, str):
        raise TypeError(f"an expression is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise too_long(text, 0, len(text))
    tokens, _ = tokenize(text)
    return Parser(text, tokens).parse_all()


def parse_template_part(text: str, start: int) -> tuple[Expr, int]:
    """Parse the expression after a `{{` at `start - 2` in a template; returns it and the offset after `}}`."""
    tokens, end = tokenize(text, start, template=True)
    length = tokens[-1].pos - start
    if length > MAX_LENGTH:
        raise too_long(text, start, length)
    return Parser(text, tokens).parse_all(), end
