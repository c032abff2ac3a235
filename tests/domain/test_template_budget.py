"""Template amplification: a rendered template may produce at most 10 M characters in all, counted
while rendering across concatenation, lists and dicts; past that the step fails with one sentence."""

from __future__ import annotations

import pytest

from flowdesk.domain.errors import ExpressionLimitError
from flowdesk.domain.expressions import Scope, render
from flowdesk.domain.expressions.templates import MAX_RENDERED_CHARACTERS
from tests.support.graph_builder import graph, run_graph

BIG = "x" * 100_000


def test_concatenation_in_one_template_is_counted_while_rendering():
    scope = Scope({"input": {"s": BIG}})
    with pytest.raises(ExpressionLimitError, match="over 10,000,000 characters"):
        render("{{input.s}}" * 10_000, scope)
    assert len(render("{{input.s}}" * 100, scope)) == 10_000_000 // 1000 * 1000  # 100 x 100,000: allowed


def test_a_dict_or_list_of_many_references_is_counted_in_all():
    scope = Scope({"input": {"s": BIG, "items": [BIG] * 20}})
    with pytest.raises(ExpressionLimitError):
        render({f"k{i}": "{{input.s}}" for i in range(101)}, scope)
    with pytest.raises(ExpressionLimitError):
        render(["{{input.items}}"] * 6, scope)  # 6 x 20 x 100,000: a lone reference counts its value
    assert render({"a": "{{input.s}}", "b": ["{{input.s}}"]}, scope) == {"a": BIG, "b": [BIG]}
    assert MAX_RENDERED_CHARACTERS == 10_000_000


def test_an_end_output_amplifying_its_input_fails_the_step_with_one_sentence():
    g = graph(
        [("s", "START"), ("e", "END", {"output": {"all": "{{input.s}}" * 10_000}})],
        [("s", "e")],
    )

    handle = run_graph(g, {"s": BIG})
    assert handle.status == "failed"
    end = next(r for r in handle.steps if r["step_name"] == "e")
    assert end["status"] == "failed" and end["error_type"] == "expression"
    assert "over 10,000,000 characters" in end["error_message"]
    assert len(handle.error_message) < 500
