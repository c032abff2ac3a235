"""Reporting many problems: the first PROBLEM_CAP of them, then "and N more", each value quoted in a
message cut to about VALUE_CUT characters, so a file with 100,000 broken nodes or a 50 MB node name
never writes megabytes to a terminal (`flowdesk validate`, `import`, `run`, and the engine's refusal
to run an invalid workflow)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

PROBLEM_CAP = 1000
"""Problems listed one by one; the rest are counted."""
VALUE_CUT = 80
"""Characters of a quoted value kept in a message."""

_QUOTED = re.compile(r"'([^'\n]{" + str(VALUE_CUT + 1) + r",})'")

T = TypeVar("T")


def cut_long_values(message: str) -> str:
    """`message` with each quoted value longer than VALUE_CUT characters cut, saying how long it was."""
    if len(message) <= VALUE_CUT:
        return message
    return _QUOTED.sub(
        lambda m: f"'{m.group(1)[: VALUE_CUT - 3]}...' ({len(m.group(1)):,} characters)", message
    )


def capped(problems: Sequence[T], cap: int = PROBLEM_CAP) -> tuple[Sequence[T], int]:
    """The problems to list and how many more there are."""
    return problems[:cap], max(0, len(problems) - cap)


def more_line(count: int) -> str:
    return f"... and {count:,} more problem{'s' if count != 1 else ''} (only the first {PROBLEM_CAP:,} are listed)"


def report_lines(
    problems: Sequence[Any], describe: Callable[[Any], str], cap: int = PROBLEM_CAP
) -> list[str]:
    """One line per problem, up to `cap`, values cut; then a line counting the rest."""
    shown, rest = capped(problems, cap)
    lines = [cut_long_values(describe(p)) for p in shown]
    if rest:
        lines.append(more_line(rest))
    return lines
