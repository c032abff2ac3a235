"""TRANSFORM: builds a new object from `template` (rendered) and `expressions` (evaluated).

The seed's data mapping as a step of its own: `{"template": {"id": "{{input.id}}", "who": "Hello
{{login.name}}"}, "expressions": {"total": "sum(cart.items[*].price)"}}` outputs `{"id": 7, "who":
"Hello Ann", "total": 42}`. A text that is exactly one `{{ ... }}` keeps the value's type (object,
list, number); expressions are evaluated by the safe evaluator, never as Python, and are added over
the template's fields, in their order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import NodeContext
from ..errors import NodeFailure


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Output the built object."""
    template = ctx.config.get("template")
    expressions = ctx.config.get("expressions")
    if template is not None and not isinstance(template, Mapping):
        raise NodeFailure("TRANSFORM template must be an object of fields", error_type="expression")
    if expressions is not None and not isinstance(expressions, Mapping):
        raise NodeFailure("TRANSFORM expressions must be an object of expressions", error_type="expression")
    built: dict[str, Any] = dict(ctx.render(dict(template))) if template else {}
    for name, text in (expressions or {}).items():
        if not isinstance(text, str):
            raise NodeFailure(f"expressions.{name} must be text (an expression)", error_type="expression")
        try:
            built[str(name)] = ctx.evaluate(text)
        except NodeFailure:
            raise
        except Exception as exc:  # a syntax error or a limit: the step fails in one sentence
            message = getattr(exc, "message", None) or str(exc)
            raise NodeFailure(
                f"expressions.{name} could not be evaluated: {message}", error_type="expression"
            ) from exc
    ctx.inputs = {"template": template, "expressions": expressions}
    return built
