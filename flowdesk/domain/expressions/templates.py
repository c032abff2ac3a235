"""Templates: text with `{{ expr }}` parts, split once (cached) and rendered over a Scope."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..errors import ExpressionLimitError, ExpressionSyntaxError
from .ast import Expr
from .evaluator import MAX_TEXT_LENGTH, Program, compile_tree
from .parser import parse_template_part
from .scope import Scope
from .values import text_form

#: A template after splitting: literal text (str) and parsed expressions, in order.
Part = str | Expr


class Template:
    """A split template; `single` is the expression when the text is exactly one `{{ expr }}`."""

    __slots__ = ("parts", "single", "programs")

    def __init__(self, parts: tuple[Part, ...]) -> None:
        self.parts = parts
        expressions = [p for p in parts if not isinstance(p, str)]
        literal_blank = all(p.strip() == "" for p in parts if isinstance(p, str))
        self.single: Expr | None = expressions[0] if len(expressions) == 1 and literal_blank else None
        #: The parts ready to render: literal text as is, expressions compiled.
        self.programs: tuple[str | Program, ...] = tuple(
            p if isinstance(p, str) else compile_tree(p) for p in parts
        )


def scan_template(text: str) -> tuple[list[tuple[int, int, Expr | None]], list[ExpressionSyntaxError]]:
    """Every `{{ }}` part as (start of '{{', offset after '}}', tree or None) and the errors found.

    After a part that does not parse, scanning resumes after the next '}}' (or stops, if the
    '{{' is never closed), so one mistake does not hide the next.
    """
    spans: list[tuple[int, int, Expr | None]] = []
    errors: list[ExpressionSyntaxError] = []
    i = text.find("{{")
    while i != -1:
        try:
            expr, end = parse_template_part(text, i + 2)
        except ExpressionSyntaxError as exc:
            errors.append(exc)
            close = text.find("}}", i + 2)
            if close == -1:
                break
            spans.append((i, close + 2, None))
            i = text.find("{{", close + 2)
            continue
        spans.append((i, end, expr))
        i = text.find("{{", end)
    return spans, errors


@functools.lru_cache(maxsize=4096)
def split_template(text: str) -> Template:
    """The template's parts; raises the first ExpressionSyntaxError (column in the whole text)."""
    spans, errors = scan_template(text)
    if errors:
        raise errors[0]
    parts: list[Part] = []
    last = 0
    for start, end, expr in spans:
        if start > last:
            parts.append(text[last:start])
        assert expr is not None
        parts.append(expr)
        last = end
    if last < len(text):
        parts.append(text[last:])
    return Template(tuple(parts))


MAX_RENDERED_CHARACTERS = MAX_TEXT_LENGTH
"""The most characters one `render` call may produce, counted while rendering across every string,
list and dict of the value (the same 10 M as one expression's text: concatenating `{{input.s}}`
10,000 times must not get round it)."""


class _Budget:
    """Characters left for one `render` call."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_RENDERED_CHARACTERS

    def spend(self, characters: int) -> None:
        self.left -= characters
        if self.left < 0:
            raise ExpressionLimitError(
                f"the rendered template would be over {MAX_RENDERED_CHARACTERS:,} characters, which is "
                "the most a template may produce; render less (for example refer to the data instead of "
                "repeating it)"
            )

    def spend_value(self, value: Any) -> None:
        """Count a raw value a lone `{{ expr }}` gives (its strings and numbers, walked only as far
        as the budget goes: the same big value referred to many times counts every time)."""
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                self.spend(len(item))
            elif isinstance(item, Mapping):
                self.spend(2 * len(item))
                stack.extend(item.values())
                stack.extend(k for k in item if isinstance(k, str))
            elif isinstance(item, (list, tuple)):
                self.spend(len(item) + 1)
                stack.extend(item)
            else:
                self.spend(4)


def render_text(text: str, scope: Scope, budget: _Budget | None = None) -> Any:
    """One string: unchanged without `{{`; the raw value for a lone `{{ expr }}`; else a string.
    Raises ExpressionLimitError past MAX_RENDERED_CHARACTERS."""
    if budget is None:
        budget = _Budget()
    if "{{" not in text:
        budget.spend(len(text))
        return text
    template = split_template(text)
    programs = template.programs
    if template.single is not None:
        for program in programs:
            if not isinstance(program, str):
                value = program(scope)
                budget.spend_value(value)
                return value
    out = []
    for program in programs:
        piece = program if isinstance(program, str) else text_form(program(scope))
        budget.spend(len(piece))
        out.append(piece)
    return "".join(out)


def render(value: Any, scope: Scope) -> Any:
    """Deep-render templates in strings, dict values (keys are left as written) and lists. Raises
    ExpressionLimitError when the result would pass MAX_RENDERED_CHARACTERS."""
    return _render(value, scope, _Budget())


def _render(value: Any, scope: Scope, budget: _Budget) -> Any:
    if isinstance(value, str):
        if "{{" not in value:
            budget.spend(len(value))
            return value
        return render_text(value, scope, budget)
    if isinstance(value, dict):
        return {key: _render(item, scope, budget) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render(item, scope, budget) for item in value]
    if isinstance(value, Mapping):
        return {key: _render(item, scope, budget) for key, item in value.items()}
    return value


def check_template(text: str) -> list[ExpressionSyntaxError]:
    """Every syntax error in the template's `{{ }}` parts (columns in the whole text)."""
    if "{{" not in text:
        return []
    return scan_template(text)[1]
