"""ASSERT: checks earlier outputs, so a workflow doubles as an API test.

`assertions` is a list of expressions that must each be true; an item may also be
`{"that": expression, "message": text}`. `schema` is a JSON Schema the checked `value` must match
(`value` is a template, by default `{{response.data}}`: the latest API answer's body). Every check
runs, whatever the others gave; the output is `{"passed": n, "failed": n, "results": [...]}`, one
result per check (`check`, `passed`, `message`, and on failure `diff`). When one fails the step fails
(`error_type` "assertion") with one line naming the first failure, and the results stay in its
output. A failed comparison shows both sides (`expected 200, found 404`), objects and lists as a
unified diff of their JSON; the run log gets one line per check and a pass/fail summary.

Without `schema` and `value`, the schema defaults to the `response_schema` of the API definition the
nearest API_CALL before the ASSERT calls (kept when the definition was imported from OpenAPI), so an
ASSERT right after a call checks its answer's shape with no configuration; a definition without one
adds no check.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from flowdesk.domain.expressions import ast, evaluate, parse

from ..context import NodeContext
from ..errors import NodeFailure

DEFAULT_VALUE = "{{response.data}}"
_MAX_SHOWN = 2000  # characters of one side of a diff, so a 1 MB body does not fill the step row


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "\n..."


def _inline(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def readable_diff(expected: Any, found: Any) -> str:
    """`expected 200, found 404`; for objects and lists a unified diff of their JSON."""
    if isinstance(expected, dict | list) and isinstance(found, dict | list):
        lines = difflib.unified_diff(
            _json(expected).splitlines(), _json(found).splitlines(), "expected", "found", lineterm=""
        )
        return "\n".join(lines)
    return f"expected {_inline(expected)}, found {_inline(found)}"


def _explain(tree: Any, ctx: NodeContext) -> str:
    """What the parts of a failed assertion were: both sides of a comparison, the value of a check."""
    if isinstance(tree, ast.Compare):
        left, right = evaluate(tree.left, ctx.scope), evaluate(tree.right, ctx.scope)
        if tree.op == "==":
            return readable_diff(right, left)
        shown = f"{ast.to_text(tree.left)} is {_inline(left)}"
        if isinstance(tree.right, ast.Literal):
            return f"{shown}, wanted {tree.op} {_inline(right)}"
        return f"{shown}, {ast.to_text(tree.right)} is {_inline(right)}"
    if isinstance(tree, ast.IsCheck):
        return f"{ast.to_text(tree.operand)} is {_inline(evaluate(tree.operand, ctx.scope))}"
    return f"the value was {_inline(evaluate(tree, ctx.scope))}"


def _check_expression(item: Any, ctx: NodeContext) -> dict[str, Any]:
    text = item.get("that") if isinstance(item, Mapping) else item
    message = item.get("message") if isinstance(item, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise NodeFailure(f"an assertion must be an expression, not {_inline(item)}", error_type="expression")
    result: dict[str, Any] = {"check": text, "passed": False, "message": message or text}
    try:
        tree = parse(text)
        result["passed"] = bool(ctx.evaluate_condition(text))
        if not result["passed"]:
            result["diff"] = _explain(tree, ctx)
    except Exception as exc:  # a limit passed at run time: the check fails, saying why
        result["diff"] = f"could not be evaluated: {getattr(exc, 'message', None) or exc}"
    return result


def _check_schema(schema: Any, value: Any) -> dict[str, Any]:
    import jsonschema

    result: dict[str, Any] = {"check": "schema", "passed": True, "message": "the value matches the schema"}
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise NodeFailure(
            f"the schema is not a JSON Schema: {exc.message}", error_type="expression"
        ) from None
    errors = sorted(validator_class(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        result["passed"] = False
        result["message"] = f"the value does not match the schema ({len(errors)} problem(s))"
        result["diff"] = "\n".join(
            f"{_where(error.absolute_path)}: {error.message}" for error in errors[:20]
        ) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else "")
    return result


def _where(path: Any) -> str:
    out = "value"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _call_before(ctx: NodeContext) -> Any:
    """The nearest API_CALL node before this one (breadth first against the connections) that names a
    definition of the library, or None."""
    graph = ctx.graph
    nodes = {n.name: n for n in graph.nodes}
    before: dict[str, list[str]] = {}
    for c in graph.connections:
        before.setdefault(c.to_node, []).append(c.from_node)
    seen = {ctx.node.name}
    frontier = [ctx.node.name]
    while frontier:
        following: list[str] = []
        for name in frontier:
            for previous in before.get(name, ()):
                if previous in seen or previous not in nodes:
                    continue
                seen.add(previous)
                node = nodes[previous]
                if str(node.node_type) == "API_CALL" and node.config.get("api_id") not in (None, ""):
                    return node
                following.append(previous)
        frontier = following
    return None


async def _response_schema_before(ctx: NodeContext) -> tuple[dict[str, Any] | None, str | None]:
    """The response schema of the definition the nearest API_CALL before calls, and its name."""
    call = _call_before(ctx)
    if call is None:
        return None, None
    try:
        api = await ctx.get_api(call.config["api_id"])
    except NodeFailure:
        return None, None  # that call failed on it already; nothing to check here
    schema = getattr(api, "response_schema", None)
    return (dict(schema), api.name) if isinstance(schema, Mapping) else (None, None)


async def handle(ctx: NodeContext) -> dict[str, Any]:
    """Run every check; fail with the first failure's message when any failed."""
    config = ctx.config
    assertions = config.get("assertions") or []
    if not isinstance(assertions, list):
        raise NodeFailure("ASSERT assertions must be a list of expressions", error_type="expression")
    results = [_check_expression(item, ctx) for item in assertions]
    schema = config.get("schema")
    source = None
    if schema is None and config.get("value") in (None, ""):
        schema, source = await _response_schema_before(ctx)
    if schema is not None:
        if not isinstance(schema, Mapping):
            raise NodeFailure("ASSERT schema must be an object (a JSON Schema)", error_type="expression")
        value = ctx.render(config.get("value") or DEFAULT_VALUE)
        result = _check_schema(dict(schema), value)
        if source is not None:
            result["check"] = f"response schema of API '{source}'"
            result["message"] = result["message"].replace(
                "the schema", f"the response schema of API '{source}'"
            )
        results.append(result)
    failed = [r for r in results if not r["passed"]]
    for r in results:
        ctx.log(
            "info" if r["passed"] else "error", f"{'passed' if r['passed'] else 'FAILED'}: {r['message']}"
        )
    summary = f"{len(results) - len(failed)} passed, {len(failed)} failed"
    ctx.log("info" if not failed else "error", f"assertions: {summary}")
    output = {"passed": len(results) - len(failed), "failed": len(failed), "results": results}
    if failed:
        first = failed[0]
        detail = first["diff"].splitlines()[0] if first.get("diff") else ""
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise NodeFailure(
            f"assertion failed: {first['message']}" + (f": {detail}" if detail else "") + more,
            error_type="assertion",
            output=output,
        )
    return output
