"""What a template or expression reads (`references`) and renaming a node inside it."""

from __future__ import annotations

import json
from typing import Literal as TypingLiteral

from ..errors import ExpressionSyntaxError
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
)
from .lexer import KEYWORD, NAME, OP, STRING, Token, tokenize
from .parser import parse
from .scope import NODES_ROOT
from .templates import scan_template

Kind = TypingLiteral["auto", "expression", "template"]

#: Roots the engine reserves; a bare name among these means the root, never a node of that name.
RESERVED_ROOTS = frozenset({"input", "execution", "loop", "response", "env", "secrets", "params", NODES_ROOT})


def _is_expression(text: str, kind: Kind) -> bool:
    # "auto": text with `{{` is a template (conditions written `{{a}} >= 1` read the same either
    # way), text without is an expression. Callers that know which it is say so.
    if kind == "auto":
        return "{{" not in text
    return kind == "expression"


def _paths(node: Expr, out: list[tuple[str | int, ...]]) -> None:
    if isinstance(node, Name):
        out.append((node.name,))
    elif isinstance(node, Chain):
        base = node.base
        path: list[str | int] | None = [base.name] if isinstance(base, Name) else None
        if path is None:
            _paths(base, out)
        for step in node.steps:
            if isinstance(step, Field):
                if path is not None:
                    path.append(step.key)
            else:
                if path is not None:
                    out.append(tuple(path))
                    path = None
                if isinstance(step, Index):
                    _paths(step.key, out)
                else:
                    assert isinstance(step, Method)
                    for arg in step.args:
                        _paths(arg, out)
        if path is not None:
            out.append(tuple(path))
    elif isinstance(node, ListLiteral):
        for item in node.items:
            _paths(item, out)
    elif isinstance(node, Call):
        for arg in node.args:
            _paths(arg, out)
    elif isinstance(node, (Negate, Not)):
        _paths(node.operand, out)
    elif isinstance(node, Arithmetic):
        _paths(node.first, out)
        for _, operand in node.rest:
            _paths(operand, out)
    elif isinstance(node, Logical):
        for operand in node.operands:
            _paths(operand, out)
    elif isinstance(node, Compare):
        _paths(node.left, out)
        _paths(node.right, out)
    elif isinstance(node, IsCheck):
        _paths(node.operand, out)
    else:
        assert isinstance(node, Literal)


def references(text: str, *, kind: Kind = "auto") -> list[tuple[str | int, ...]]:
    """The static paths `text` reads, in order, without repeats: `("params", "user_id")`.

    Literal index keys are included (`input.data[0]` -> ("input", "data", 0)); a dynamic index ends
    the path (its own references are listed separately); a method call ends it too. `kind` says
    whether `text` is an expression or a template; "auto" takes text containing `{{` as a template
    (so bare paths outside the braces are not seen) and other text as an expression. Parts that do not parse are skipped (check_template reports them).
    """
    found: list[tuple[str | int, ...]] = []
    if _is_expression(text, kind):
        try:
            _paths(parse(text), found)
        except ExpressionSyntaxError:
            return []
    elif "{{" in text:
        spans, _ = scan_template(text)
        for _, _, expr in spans:
            if expr is not None:
                _paths(expr, found)
    return list(dict.fromkeys(found))


def _quote(name: str, quote: str) -> str:
    body = json.dumps(name, ensure_ascii=False)[1:-1]
    if quote == "'":
        body = body.replace('\\"', '"').replace("'", "\\'")
    return quote + body + quote


def _rewrites(text: str, tokens: list[Token], old: str, new: str) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    bare_new = new if is_plain_name(new) and new not in RESERVED_ROOTS else None
    for k, tok in enumerate(tokens):
        prev = tokens[k - 1] if k > 0 else None
        if prev is not None and prev.kind == OP and prev.value == ".":
            continue  # a field or method name, not a root
        if tok.kind == NAME and tok.value == old and old not in RESERVED_ROOTS:
            if (
                old == "empty"
                and prev is not None
                and (
                    (prev.kind == KEYWORD and prev.value == "is")
                    or (
                        prev.kind == KEYWORD and prev.value == "not" and k > 1 and tokens[k - 2].value == "is"
                    )
                )
            ):
                continue  # `x is empty`, not a node called empty
            replacement = bare_new if bare_new is not None else f"{NODES_ROOT}[{_quote(new, chr(34))}]"
            edits.append((tok.pos, tok.end, replacement))
        elif (
            tok.kind == NAME
            and tok.value == NODES_ROOT
            and k + 3 < len(tokens)
            and tokens[k + 1].kind == OP
            and tokens[k + 1].value == "["
            and tokens[k + 2].kind == STRING
            and tokens[k + 2].value == old
            and tokens[k + 3].kind == OP
            and tokens[k + 3].value == "]"
        ):
            string_tok = tokens[k + 2]
            quote = text[string_tok.pos]
            edits.append((string_tok.pos, string_tok.end, _quote(new, quote)))
    return edits


def rename_node_references(text: str, old: str, new: str, *, kind: Kind = "auto") -> str:
    """`text` with references to node `old` pointing at `new`; everything else kept byte for byte.

    Rewrites `old.x` / `{{old.x}}` (as `new.x`, or `nodes["new"].x` when `new` is not a plain
    identifier) and `nodes["old"]` (the string only, keeping its quotes). String literals, fields
    and other roots are untouched. `kind` as in `references`.
    """
    if old == new or old not in text:
        return text
    edits: list[tuple[int, int, str]] = []
    if _is_expression(text, kind):
        try:
            tokens, _ = tokenize(text)
        except ExpressionSyntaxError:
            return text
        edits = _rewrites(text, tokens, old, new)
    else:
        i = text.find("{{")
        while i != -1:
            try:
                tokens, end = tokenize(text, i + 2, template=True)
            except ExpressionSyntaxError:
                close = text.find("}}", i + 2)
                if close == -1:
                    break
                i = text.find("{{", close + 2)
                continue
            edits.extend(_rewrites(text, tokens, old, new))
            i = text.find("{{", end)
    if not edits:
        return text
    out: list[str] = []
    last = 0
    for start, end, replacement in edits:
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)
