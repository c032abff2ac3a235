"""Regular expressions that would exhaust memory when compiled (`a{99999999}`) are refused before
compiling: a located error at validation, a step error at run time, never a compile."""

from __future__ import annotations

import json
import resource

import pytest

from flowdesk.domain.errors import ExpressionLimitError, ExpressionSyntaxError
from flowdesk.domain.expressions import Scope, evaluate, parse, patterns
from flowdesk.domain.validation import validate_graph
from tests.support.graph_builder import graph, run_graph

BOMBS = ["a{99999999}", "a{10000000}", "(?:(?:a{1000}){1000}){1000}", "(x{200}|y{200}){60}", "[ab]{10001}"]


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_pattern_over_the_repetition_budget_is_refused_without_compiling(bomb):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(patterns.PatternBudgetError, match="at most 10,000 are allowed"):
        patterns.compile_pattern(bomb)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000  # compiling a{99999999} takes gigabytes; refusing it takes nothing


@pytest.mark.parametrize(
    "fine", ["a{10000}", r"\d{4}-\d{2}-\d{2}", "(?:ab){5000}", "[a{]{5}", "x{2,}", "(?i)^ok$"]
)
def test_patterns_within_the_budget_compile(fine):
    assert patterns.compile_pattern(fine) is not None


def test_a_literal_bomb_is_a_located_syntax_error():
    with pytest.raises(ExpressionSyntaxError) as found:
        parse("input.s.matches('a{99999999}')")
    assert found.value.column == 17
    assert "99,999,999" in str(found.value)


def test_validation_names_the_node_and_column_of_a_literal_bomb():
    g = graph(
        [
            ("s", "START"),
            ("check", "CONDITION", {"condition": "{{input.s.matches('a{99999999}')}}"}),
            ("e", "END"),
        ],
        [("s", "check"), ("check", "e", "CONDITIONAL_TRUE")],
    )
    problems = [p for p in validate_graph(g) if p.severity == "error"]
    assert len(problems) == 1
    assert problems[0].node == "check" and problems[0].column is not None
    assert "at most 10,000" in problems[0].message


def test_a_bomb_arriving_in_data_fails_the_step_with_a_clear_error():
    scope = Scope({"input": {"s": "aaa", "p": "a{99999999}"}})
    with pytest.raises(ExpressionLimitError, match="'.matches\\(\\)': the pattern spells out 99,999,999"):
        evaluate("input.s.matches(input.p)", scope)

    g = graph(
        [("s", "START"), ("echo", "ECHO", {"value": "{{input.s.matches(input.p)}}"}), ("e", "END")],
        [("s", "echo"), ("echo", "e")],
    )

    handle = run_graph(g, {"s": "aaa", "p": "a{99999999}"})
    assert handle.status == "failed"
    step = next(r for r in handle.steps if r["step_name"] == "echo")
    assert step["status"] == "failed" and step["error_type"] == "expression"
    assert "at most 10,000 are allowed" in step["error_message"]
    json.dumps(step, default=str)  # the step row stays writable
