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
import re
from typing import Any

import regex

MAX_PATTERN_LENGTH = 512
MAX_SUBJECT_LENGTH = 100_000
MATCH_TIMEOUT_SECONDS = 0.1
MAX_REPETITIONS = 10_000
"""The compile budget: a pattern spelled out with every counted repetition expanded (`a{100}` is 100
atoms, `((ab){3}){2}` is 12: nesting multiplies) has at most this many atoms. The regex engine compiles
counted repetitions by expanding them, so `a{99999999}` would take gigabytes; 10,000 atoms compile
in about 15 ms and a few MB."""

_COUNT = re.compile(r"\{(\d*)(,?)(\d*)\}")
_FLAGS_ONLY = re.compile(r"\(\?[aiLmsux-]+\)")
_GROUP_OPENING = re.compile(r"\((?:\?(?:[:=!>]|<[=!]|P?<[^>]*>|[aiLmsux-]+:))?")


class PatternError(ValueError):
    """A pattern refused by the rules above; the message is one plain sentence."""


class PatternBudgetError(PatternError):
    """A pattern whose compiled form would be too big (MAX_REPETITIONS): refused, never compiled."""


class _Frame:
    """One group while the pattern is read: the atoms of its finished branches and of the current one."""

    __slots__ = ("branches", "last", "sequence", "varies")

    def __init__(self) -> None:
        self.branches = 0  # atoms in finished branches of an alternation
        self.sequence = 0  # atoms in the current branch, before `last`
        self.last: list[Any] | None = None  # [atoms, varies] of the item a quantifier would repeat
        self.varies = False  # holds a variable repetition (`+`, `*`, `{m,n}`)

    def flush(self) -> None:
        if self.last is not None:
            self.sequence += self.last[0]
            self.varies = self.varies or self.last[1]
            self.last = None

    def size(self) -> int:
        self.flush()
        return self.branches + self.sequence


def _check_structure(pattern: str) -> None:
    """Read the pattern once (our own reader, not the standard library's private parser): refuse
    backreferences, a variable repetition of something that itself repeats variably (`(a+)+`), and a
    pattern over the repetition budget. What this reader does not understand is left to the compiler,
    which says what is wrong."""
    frames = [_Frame()]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        frame = frames[-1]
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            if following in "123456789" and following:
                raise PatternError("backreferences (like '\\1') are not allowed in patterns")
            skip = {"x": 2, "u": 4, "U": 8}.get(following, 0)
            if following == "N" and pattern[i + 2 : i + 3] == "{":
                close = pattern.find("}", i)
                skip = (close - i - 2) if close > 0 else 0
            frame.flush()
            frame.last = [1, False]
            i += 2 + skip
            continue
        if char == "[":
            j = i + 1
            if pattern[j : j + 1] == "^":
                j += 1
            if pattern[j : j + 1] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            frame.flush()
            frame.last = [1, False]
            i = j + 1
            continue
        if char == "(":
            if pattern.startswith("(?#", i):
                close = pattern.find(")", i)
                i = n if close < 0 else close + 1
                continue
            if pattern.startswith("(?P=", i) or pattern.startswith("(?(", i):
                raise PatternError("backreferences (like '\\1') are not allowed in patterns")
            flags = _FLAGS_ONLY.match(pattern, i)
            if flags:  # (?i): flags for the whole pattern, nothing to repeat
                i = flags.end()
                continue
            frame.flush()
            frames.append(_Frame())
            opening = _GROUP_OPENING.match(pattern, i)
            i = opening.end() if opening else i + 1
            continue
        if char == ")" and len(frames) > 1:
            inner = frames.pop()
            frame = frames[-1]
            frame.flush()
            frame.last = [inner.size(), inner.varies]
            i += 1
            continue
        if char == "|":
            frame.flush()
            frame.branches += frame.sequence
            frame.sequence = 0
            i += 1
            continue
        quantity: tuple[int, int | None] | None = None
        end = i + 1
        if char in "*+?":
            quantity = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{":
            count = _COUNT.match(pattern, i)
            if count and (count.group(1) or count.group(3)):
                low = int(count.group(1) or 0)
                high = None if count.group(2) and not count.group(3) else int(count.group(3) or low)
                quantity, end = (low, high), count.end()
        if quantity is None:
            frame.flush()
            frame.last = [1, False]
            i += 1
            continue
        if frame.last is not None:
            low, high = quantity
            variable = (high is None or high > 1) and low != high
            if variable and frame.last[1]:
                raise PatternError(
                    "the pattern repeats a group that itself contains a repetition (like '(a+)+'), "
                    "which can take practically forever to match; rewrite it without the nested repetition"
                )
            times = max(high if high is not None else low, 1)
            frame.last = [frame.last[0] * times, frame.last[1] or variable]
            if frame.last[0] > MAX_REPETITIONS:
                raise _over_budget(frame.last[0], i)
            frame.flush()  # a second quantifier in a row is the compiler's error to report
        if end < n and pattern[end] in "?+":  # lazy or possessive
            end += 1
        i = end
    while len(frames) > 1:  # an unclosed group: the compiler says so
        inner = frames.pop()
        frames[-1].flush()
        frames[-1].last = [inner.size(), inner.varies]
    total = frames[0].size()
    if total > MAX_REPETITIONS:
        raise _over_budget(total, None)


def _over_budget(atoms: int, where: int | None) -> PatternBudgetError:
    at = f" (the repetition at character {where + 1})" if where is not None else ""
    return PatternBudgetError(
        f"the pattern spells out {atoms:,} repeated items{at}; at most {MAX_REPETITIONS:,} are allowed "
        "(a large fixed count like 'a{99999999}' would exhaust memory)"
    )


@functools.lru_cache(maxsize=512)
def _checked(pattern: str) -> regex.Pattern[str] | PatternError:
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PatternError(
            f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed"
        )
    try:
        _check_structure(pattern)
    except PatternError as exc:
        return exc
    try:
        re.compile(pattern)  # within the budget now: the standard library's message for a mistake
    except re.error as exc:
        return PatternError(f"the pattern is not a valid regular expression: {exc.msg}")
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
