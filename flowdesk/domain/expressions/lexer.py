"""Splits expression text into tokens, each remembering where it starts in the whole text."""

from __future__ import annotations

import re
from typing import Any, NamedTuple, NoReturn

from ..errors import ExpressionSyntaxError
from .ast import KEYWORDS

# Token kinds.
NUMBER, STRING, NAME, KEYWORD, OP, OPEN, CLOSE, END = (
    "number",
    "string",
    "name",
    "keyword",
    "op",
    "open",
    "close",
    "end",
)


class Token(NamedTuple):
    """One token: its kind, its value, and its [pos, end) offsets in the whole text."""

    kind: str
    value: Any
    pos: int
    end: int


#: Longer digit strings are refused (Python will not even convert them past 4300 digits).
MAX_NUMBER_LENGTH = 1000

# One pattern for every token but strings (read by hand for their escapes). Names are
# identifier-like words, Unicode included (登录, café), checked again with str.isidentifier.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>==|!=|<=|>=|[<>+\-*/%()\[\].,])
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<quote>['"])
  | (?P<open>\{\{)
  | (?P<close>\}\})
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "b": "\b", "f": "\f"}
_HINTS = {
    "=": ("'=' is not an operator; use '==' to compare", "'=='"),
    "!": ("'!' is not an operator; use 'not' or '!='", "'not' or '!='"),
    "&": ("'&' is not an operator; use 'and'", "'and'"),
    "|": ("'|' is not an operator; use 'or'", "'or'"),
    "{": ("a single '{' is not allowed; templates use '{{ ... }}'", "'{{'"),
    "}": ("a single '}' is not allowed; templates use '{{ ... }}'", "'}}'"),
}


def describe(text: str, token: Token) -> str:
    """How a token is quoted in an error message."""
    if token.kind == END:
        return "the end of the text"
    shown = text[token.pos : token.end]
    if len(shown) > 24:
        shown = shown[:21] + "..."
    return f"'{shown}'"


def _error(message: str, pos: int, expected: str | None, text: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(message, column=pos + 1, expected=expected, text=text)


def _read_string(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    i = pos + 1
    out: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            nxt = text[i + 1]
            if nxt == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise _error(
                        "a '\\u' escape needs four hex digits", i, "four hex digits after '\\u'", text
                    )
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            # Unknown escapes keep their backslash, so regexes like '\d+' can be written as is.
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise _error(f"the string starting at column {pos + 1} is not closed", pos, f"a closing {quote}", text)


def tokenize(text: str, start: int = 0, *, template: bool = False) -> tuple[list[Token], int]:
    """Tokens of `text` from `start`, always ending with an END token.

    With `template=True` the text is the inside of a `{{`: lexing stops after the `}}` that closes
    it (nested `{{ }}` are counted) and the offset after that `}}` is returned; an unclosed `{{` is an
    error. Otherwise lexing runs to the end of the text.
    """
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    i = start
    n = len(text)
    depth = 0
    while True:
        m = match(text, i)
        if m is None:
            if i >= n:
                if template:
                    raise _error(f"the '{{{{' at column {start - 1} is not closed", n, "'}}'", text)
                append(Token(END, None, n, n))
                return tokens, n
            _refuse(text, i)
        kind = m.lastgroup
        end = m.end()
        if kind == "space":
            pass
        elif kind == NAME:
            word = m.group()
            if not word.isidentifier():
                _refuse(text, i)
            append(Token(KEYWORD if word in KEYWORDS else NAME, word, i, end))
        elif kind == OP:
            append(Token(OP, m.group(), i, end))
        elif kind == NUMBER:
            word = m.group()
            if len(word) > MAX_NUMBER_LENGTH:
                raise _error(
                    f"a number of {len(word)} digits is too long; at most {MAX_NUMBER_LENGTH} are allowed",
                    i,
                    "a shorter number",
                    text,
                )
            value: Any = float(word) if ("." in word or "e" in word or "E" in word) else int(word)
            append(Token(NUMBER, value, i, end))
        elif kind == "quote":
            value, end = _read_string(text, i)
            append(Token(STRING, value, i, end))
        elif kind == OPEN:
            append(Token(OPEN, "{{", i, end))
            depth += 1
        else:  # "}}"
            if template and depth == 0:
                append(Token(END, None, i, i))
                return tokens, end
            append(Token(CLOSE, "}}", i, end))
            depth -= 1
        i = end


def _refuse(text: str, i: int) -> NoReturn:
    ch = text[i]
    if ch in _HINTS:
        message, expected = _HINTS[ch]
        if ch in "&|" and text.startswith(ch * 2, i):
            message = message.replace(f"'{ch}'", f"'{ch * 2}'", 1)
        raise _error(message, i, expected, text)
    raise _error(f"unexpected character '{ch}'", i, "a value or an operator", text)
