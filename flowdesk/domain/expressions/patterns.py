"""Regular expressions for `.matches()`: checked so that none can hang the engine, compiled once.

Rules (docs/expressions.md): Python `re` syntax; at most MAX_PATTERN_LENGTH characters; no
backreferences; no group repeated by `*`, `+` or `{m,n}` that itself contains such a variable
repetition (`(a+)+`, `(\\w*\\s?)*`), the classic cause of catastrophic backtracking; subjects longer
than MAX_SUBJECT_LENGTH are not searched; and each search runs under a time limit
(MATCH_TIMEOUT_SECONDS) enforced by the `regex` engine, which also catches what the static rules
cannot (for example `\\d+\\d+\\d+x`).
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

import regex

# The structure of a pattern is read with the standard library's own regex parser (re._parser,
# formerly sre_parse), so the rules below see exactly what Python's `re` syntax means.
_sre_parser: Any = importlib.import_module("re._parser")
_sre_constants: Any = importlib.import_module("re._constants")

MAX_PATTERN_LENGTH = 512
MAX_SUBJECT_LENGTH = 100_000
MATCH_TIMEOUT_SECONDS = 0.1

_REPEATS = {
    _sre_constants.MAX_REPEAT,
    _sre_constants.MIN_REPEAT,
    getattr(_sre_constants, "POSSESSIVE_REPEAT", _sre_constants.MAX_REPEAT),
}
_BACKREFS = {_sre_constants.GROUPREF, _sre_constants.GROUPREF_EXISTS}
_GROUPREF_IGNORE = getattr(_sre_constants, "GROUPREF_IGNORE", None)
if _GROUPREF_IGNORE is not None:
    _BACKREFS.add(_GROUPREF_IGNORE)


class PatternError(ValueError):
    """A pattern refused by the rules above; the message is one plain sentence."""


def _walk(items: Any, inside_repeat: bool) -> None:
    for op, av in items:
        if op in _REPEATS:
            low, high, item = av
            repeats = high > 1
            varies = low != high
            if inside_repeat and repeats and varies:
                raise PatternError(
                    "the pattern repeats a group that itself contains a repetition (like '(a+)+'), "
                    "which can take practically forever to match; rewrite it without the nested repetition"
                )
            _walk(item, inside_repeat or (repeats and varies))
        elif op in _BACKREFS:
            raise PatternError("backreferences (like '\\1') are not allowed in patterns")
        elif op == _sre_constants.SUBPATTERN:
            _walk(av[-1], inside_repeat)
        elif op == _sre_constants.BRANCH:
            for branch in av[1]:
                _walk(branch, inside_repeat)
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            _walk(av[1], inside_repeat)
        elif op == getattr(_sre_constants, "ATOMIC_GROUP", None):
            _walk(av, inside_repeat)


@functools.lru_cache(maxsize=512)
def _checked(pattern: str) -> regex.Pattern[str] | PatternError:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PatternError(
            f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed"
        )
    try:
        tree = _sre_parser.parse(pattern)
    except re.error as exc:
        return PatternError(f"the pattern is not a valid regular expression: {exc.msg}")
    except RecursionError:
        return PatternError("the pattern is nested too deeply")
    try:
        _walk(tree, False)
    except PatternError as exc:
        return exc
    except RecursionError:
        return PatternError("the pattern is nested too deeply")
    try:
        return regex.compile(pattern, regex.VERSION0)
    except (regex.error, RecursionError) as exc:
        return PatternError(f"the pattern is not a valid regular expression: {exc}")


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """The compiled pattern (cached), or PatternError saying which rule it breaks."""
    result = _checked(pattern)
    if isinstance(result, PatternError):
        raise result
    return result


def search(pattern: str, subject: str) -> bool:
    """Whether `pattern` is found anywhere in `subject` (like re.search).

    Raises PatternError for a refused pattern, a subject over MAX_SUBJECT_LENGTH, or a search
    that runs longer than MATCH_TIMEOUT_SECONDS.
    """
    compiled = compile_pattern(pattern)
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise PatternError(
            f"the text is {len(subject)} characters long; .matches() searches at most {MAX_SUBJECT_LENGTH}"
        )
    try:
        return compiled.search(subject, timeout=MATCH_TIMEOUT_SECONDS) is not None
    except TimeoutError as exc:
        raise PatternError(
            f"the pattern took longer than {MATCH_TIMEOUT_SECONDS} s to match and was stopped"
        ) from exc
