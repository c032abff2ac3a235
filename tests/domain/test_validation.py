"""Graph validation, rule by rule: each broken graph and the exact problem it must report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.domain.enums import ConnectionType, Severity
from flowdesk.domain.expressions import check_expression, check_template
from flowdesk.domain.models import Connection, Node, Problem, Workflow, WorkflowGraph
from flowdesk.domain.validation import locate_graph_problems, validate_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
E, W = Severity.ERROR, Severity.WARNING


def graph(nodes, connections=(), name="wf") -> WorkflowGraph:
    """nodes: (name, type[, config]); connections: (from, to[, type[, condition]])."""
    return WorkflowGraph(
        workflow=Workflow(name=name),
        nodes=[Node(name=n[0], node_type=n[1], config=n[2] if len(n) > 2 else {}) for n in nodes],
        connections=[
            Connection(
                from_node=c[0],
                to_node=c[1],
                connection_type=c[2] if len(c) > 2 else ConnectionType.SEQUENCE,
                condition=c[3] if len(c) > 3 else None,
            )
            for c in connections
        ],
    )


def chain(*middle, extra_nodes=(), extra_connections=()):
    """START -> middle... -> END, plus extras."""
    nodes = [("S", "START"), *middle, ("E", "END"), *extra_nodes]
    names = ["S", *(m[0] for m in middle), "E"]
    conns = [(a, b) for a, b in zip(names, names[1:], strict=False)]
    return graph(nodes, [*conns, *extra_connections])


def problem(severity, message, *, node=None, connection=None, key=None, column=None) -> Problem:
    return Problem(
        severity=severity, message=message, node=node, connection=connection, key=key, column=column
    )


def _syntax(text: str, template: bool = False):
    errors = (check_template if template else check_expression)(text)
    assert errors, f"{text!r} should not parse"
    return errors[0]


BROKEN = [
    pytest.param(
        graph([("A", "API_CALL", {"url": "http://x"}), ("E", "END")], [("A", "E")]),
        problem(E, "the workflow has no START node; every workflow starts at exactly one"),
        id="no-start",
    ),
    pytest.param(
        graph([("S", "START"), ("S2", "START"), ("E", "END")], [("S", "E"), ("S2", "E")]),
        problem(E, "a second START node (the first is 'S'); a workflow has exactly one START", node="S2"),
        id="two-starts",
    ),
    pytest.param(
        graph([("S", "START"), ("A", "DELAY", {"seconds": 0})], [("S", "A")]),
        problem(E, "the workflow has no END node; add one where the run finishes"),
        id="no-end",
    ),
    pytest.param(
        graph([("S", "START"), ("A", "DELAY"), ("A", "DELAY"), ("E", "END")], [("S", "A"), ("A", "E")]),
        problem(
            E,
            "another node is already named 'A'; node names must be unique because expressions refer to nodes by name",
            node="A",
        ),
        id="duplicate-names",
    ),
    pytest.param(
        chain(("", "DELAY")),
        problem(E, "node number 2 (DELAY) has no name; every node needs one", node=""),
        id="empty-name",
    ),
    pytest.param(
        chain(("A", "API_CAL")),
        problem(E, "'API_CAL' is not a node type (did you mean API_CALL?)", node="A"),
        id="unknown-type-suggestion",
    ),
    pytest.param(
        chain(("A", "api_call")),
        problem(E, "'api_call' is not a node type (did you mean API_CALL?)", node="A"),
        id="unknown-type-case",
    ),
    pytest.param(
        chain(("A", "ZZZ")),
        problem(
            E,
            "'ZZZ' is not a node type (known: API_CALL, ASSERT, CONDITION, DELAY, END, LOOP, PARALLEL, POLL, START, SUBWORKFLOW, SWITCH, TRANSFORM)",
            node="A",
        ),
        id="unknown-type-no-suggestion",
    ),
    pytest.param(
        graph([("S", "START"), ("End", "END")], [("S", "Ende"), ("S", "End")]),
        problem(E, "no node named 'Ende' (did you mean 'End'?)", connection=0, key="to"),
        id="connection-to-missing",
    ),
    pytest.param(
        graph([("S", "START"), ("E", "END")], [("S", "E"), ("Q", "E")]),
        problem(E, "no node named 'Q'", connection=1, key="from"),
        id="connection-from-missing",
    ),
    pytest.param(
        chain(("A", "DELAY"), extra_connections=[("A", "A")]),
        problem(E, "'A' is connected to itself", connection=2),
        id="self-connection",
    ),
    pytest.param(
        chain(("A", "DELAY"), extra_nodes=[("B", "DELAY")], extra_connections=[("A", "B", "CONDITIONAL")]),
        problem(E, "a CONDITIONAL connection needs a condition", connection=2, key="condition"),
        id="conditional-without-condition",
    ),
    pytest.param(
        chain(
            ("A", "DELAY"),
            extra_nodes=[("B", "DELAY")],
            extra_connections=[("A", "B", "CONDITIONAL", "   ")],
        ),
        problem(E, "a CONDITIONAL connection needs a condition", connection=2, key="condition"),
        id="conditional-blank-condition",
    ),
    pytest.param(
        chain(
            ("A", "DELAY"), extra_nodes=[("B", "DELAY")], extra_connections=[("A", "B", "CONDITIONAL_TRUE")]
        ),
        problem(
            E, "a CONDITIONAL_TRUE connection must leave a CONDITION node, but 'A' is a DELAY", connection=2
        ),
        id="true-not-from-condition",
    ),
    pytest.param(
        chain(
            ("A", "DELAY"), extra_nodes=[("B", "DELAY")], extra_connections=[("A", "B", "CONDITIONAL_FALSE")]
        ),
        problem(
            E, "a CONDITIONAL_FALSE connection must leave a CONDITION node, but 'A' is a DELAY", connection=2
        ),
        id="false-not-from-condition",
    ),
    pytest.param(
        chain(("A", "DELAY"), extra_nodes=[("B", "DELAY")], extra_connections=[("A", "B", "PARALLEL")]),
        problem(E, "a PARALLEL connection must leave a PARALLEL node, but 'A' is a DELAY", connection=2),
        id="parallel-not-from-parallel",
    ),
    pytest.param(
        chain(("A", "DELAY"), extra_nodes=[("B", "DELAY")], extra_connections=[("A", "B", "LOOP")]),
        problem(E, "a LOOP connection must leave a LOOP node, but 'A' is a DELAY", connection=2),
        id="loop-not-from-loop",
    ),
    pytest.param(
        chain(("A", "DELAY"), ("B", "DELAY"), ("C", "DELAY"), extra_connections=[("C", "A")]),
        problem(
            E,
            "'A', 'B', 'C' form a cycle that does not pass through a LOOP node; only a LOOP may run steps again",
            node="A",
        ),
        id="cycle-without-loop",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("L", "LOOP", {"items": "{{input.xs}}"}),
                ("B", "DELAY"),
                ("C", "DELAY"),
                ("E", "END"),
            ],
            [("S", "L"), ("L", "B", "LOOP"), ("B", "C"), ("C", "B"), ("C", "L"), ("L", "E")],
        ),
        problem(
            E,
            "'B', 'C' form a cycle that does not pass through a LOOP node; only a LOOP may run steps again",
            node="B",
        ),
        id="cycle-inside-loop-body",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("L", "LOOP", {"items": "{{input.xs}}"}),
                ("B", "DELAY"),
                ("C", "DELAY"),
                ("E", "END"),
            ],
            [("S", "L"), ("L", "B", "LOOP"), ("B", "C"), ("C", "L"), ("S", "C"), ("L", "E")],
        ),
        problem(
            E,
            "'C' is inside the body of LOOP 'L' but is also reached from 'S' outside it; "
            "a step runs either in the loop or after it",
            node="C",
        ),
        id="node-inside-and-outside-loop-body",
    ),
    pytest.param(
        graph(
            [("S", "START"), ("L", "LOOP", {"items": "{{input.xs}}"}), ("B", "DELAY"), ("E", "END")],
            [("S", "L"), ("L", "B", "LOOP"), ("B", "E"), ("L", "E")],
        ),
        problem(
            E,
            "'E' is inside the body of LOOP 'L' but is also reached from 'L' outside it; "
            "a step runs either in the loop or after it",
            node="E",
        ),
        id="loop-body-runs-into-after-loop",
    ),
    pytest.param(
        chain(("C", "CONDITION", {"true_path": "E", "false_path": "E"})),
        problem(E, "a CONDITION needs a condition", node="C", key="condition"),
        id="condition-node-without-condition",
    ),
    pytest.param(
        chain(("C", "CONDITION", {"condition": "x", "true_path": "Ed", "false_path": "E"})),
        problem(E, "true_path names no node: 'Ed' (did you mean 'E'?)", node="C", key="true_path"),
        id="true-path-names-missing-node",
    ),
    pytest.param(
        chain(("C", "CONDITION", {"condition": "x", "true_path": "E", "false_path": 3})),
        problem(E, "false_path names no node: 3", node="C", key="false_path"),
        id="false-path-not-text",
    ),
    pytest.param(
        chain(("C", "CONDITION", {"condition": 5, "true_path": "E", "false_path": "E"})),
        problem(E, "condition must be text (an expression), not a number", node="C", key="condition"),
        id="condition-not-text",
    ),
    pytest.param(
        chain(("A", "API_CALL", {"url": "http://x", "output_mapping": ["id"]})),
        problem(
            E,
            "output_mapping must be an object of field names to expressions, not a list",
            node="A",
            key="output_mapping",
        ),
        id="output-mapping-not-object",
    ),
    pytest.param(
        chain(("A", "API_CALL", {"url": "http://x", "output_mapping": {"id": 3}})),
        problem(
            E,
            "output_mapping.id must be text (an expression), not a number",
            node="A",
            key="output_mapping.id",
        ),
        id="output-mapping-value-not-text",
    ),
    # warnings
    pytest.param(
        chain(("A", "DELAY"), extra_nodes=[("Lost", "DELAY")], extra_connections=[("Lost", "E")]),
        problem(W, "'Lost' cannot be reached from START, so it never runs", node="Lost"),
        id="unreachable-node",
    ),
    pytest.param(
        graph([("S", "START"), ("A", "DELAY"), ("E", "END")], [("S", "A")]),
        problem(W, "END 'E' cannot be reached from START, so the run can never finish there", node="E"),
        id="unreachable-end",
    ),
    pytest.param(
        graph(
            [("S", "START"), ("C", "CONDITION", {"condition": "input.x > 1"}), ("A", "DELAY"), ("E", "END")],
            [("S", "C"), ("C", "A", "CONDITIONAL_TRUE"), ("A", "E")],
        ),
        problem(
            W,
            "no way out when the condition is false (add a CONDITIONAL_FALSE connection or set false_path)",
            node="C",
        ),
        id="condition-without-false-exit",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("C", "CONDITION", {"condition": "input.x > 1", "false_path": "E"}),
                ("E", "END"),
            ],
            [("S", "C"), ("C", "E")],
        ),
        problem(
            W,
            "no way out when the condition is true (add a CONDITIONAL_TRUE connection or set true_path)",
            node="C",
        ),
        id="condition-without-true-exit",
    ),
    pytest.param(
        graph(
            [("S", "START"), ("L", "LOOP", {}), ("B", "DELAY"), ("E", "END")],
            [("S", "L"), ("L", "B", "LOOP"), ("B", "L"), ("L", "E")],
        ),
        problem(
            W, "a LOOP needs a condition or items; without them it stops only at max_iterations", node="L"
        ),
        id="loop-without-condition-or-items",
    ),
]


@pytest.mark.parametrize(("broken", "expected"), BROKEN)
def test_each_rule_reports_its_exact_problem(broken, expected):
    problems = validate_graph(broken)
    assert problems == [expected]


SYNTAX_CASES = [
    # (node config or connection condition, key, bad text, template?)
    pytest.param("CONDITION", "condition", "input.score >= ", False, id="condition-node"),
    pytest.param("LOOP", "condition", "loop.index < (3", False, id="loop-condition"),
    pytest.param("LOOP", "items", "{{input.ids", True, id="loop-items"),
    pytest.param("API_CALL", "parameters.user_id", "{{input.user_id +}}", True, id="nested-template"),
    pytest.param("API_CALL", "body.items[1]", "id={{ == }}", True, id="template-in-list"),
    pytest.param("API_CALL", "output_mapping.token", "response.data.(", False, id="output-mapping"),
]


def _set(config: dict, dotted: str, value) -> None:
    parts = dotted.replace("[", ".[").split(".")
    target = config
    for part, nxt in zip(parts, parts[1:], strict=False):
        default = [None, None] if nxt.startswith("[") else {}
        target = target.setdefault(part, default)
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value


@pytest.mark.parametrize(("node_type", "key", "text", "template"), SYNTAX_CASES)
def test_syntax_errors_name_node_key_and_column(node_type, key, text, template):
    config: dict = {"url": "http://127.0.0.1/x"} if node_type == "API_CALL" else {}
    if node_type == "CONDITION":
        config.update(true_path="E", false_path="E")
    if node_type == "LOOP":
        config["items" if key == "condition" else "condition"] = "loop.index < 3"
    _set(config, key, text)
    if node_type == "LOOP":
        g = graph(
            [("S", "START"), ("N", "LOOP", config), ("B", "DELAY"), ("E", "END")],
            [("S", "N"), ("N", "B", "LOOP"), ("B", "N"), ("N", "E")],
        )
    else:
        g = chain(("N", node_type, config))
    err = _syntax(text, template)
    assert validate_graph(g) == [
        problem(
            E,
            f"syntax error: {err.message}",
            node="N",
            key=key,
            column=err.column,
        )
    ]


def test_connection_condition_syntax_error():
    g = chain(
        ("A", "DELAY"),
        extra_nodes=[("B", "DELAY")],
        extra_connections=[("A", "B", "CONDITIONAL", "input.x >")],
    )
    g.connections.append(Connection(from_node="B", to_node="E"))
    err = _syntax("input.x >")
    assert validate_graph(g) == [
        problem(
            E,
            f"syntax error: {err.message}",
            connection=2,
            key="condition",
            column=err.column,
        )
    ]


def test_plain_strings_and_node_names_are_not_templates():
    g = chain(
        (
            "C",
            "CONDITION",
            {
                "condition": "input.x == 'a'",
                "true_path": "E",
                "false_path": "E",
                "note": "plain text, no braces",
            },
        )
    )
    assert validate_graph(g) == []


def test_every_problem_is_reported_at_once():
    g = graph(
        [("S", "START"), ("S", "START"), ("A", "API_CAL", {"url": "{{input.x"})],
        [("S", "Nope"), ("A", "A"), ("S", "A", "LOOP")],
    )
    messages = [str(p) for p in validate_graph(g)]
    assert len(messages) >= 6, messages
    assert any("no END node" in m for m in messages)
    assert any("did you mean API_CALL" in m for m in messages)
    assert any("no node named 'Nope'" in m for m in messages)
    assert any("connected to itself" in m for m in messages)
    assert any("LOOP connection must leave a LOOP node" in m for m in messages)
    assert any(m.startswith("node 'A', config.url, column ") and "syntax error" in m for m in messages)


def test_errors_come_before_warnings():
    g = graph([("S", "START"), ("Lost", "DELAY")], [])
    severities = [p.severity for p in validate_graph(g)]
    assert severities == sorted(severities, key=lambda s: s != Severity.ERROR)
    assert Severity.WARNING in severities and Severity.ERROR in severities


def test_located_problems_carry_file_paths():
    g = graph(
        [("S", "START"), ("A", "API_CAL", {"parameters": {"id": "{{x"}}), ("E", "END")],
        [("S", "A"), ("A", "Ende")],
    )
    paths = {f.path for f in locate_graph_problems(g)}
    assert ("nodes", 1, "node_type") in paths
    assert ("nodes", 1, "config", "parameters", "id") in paths
    assert ("connections", 1, "to") in paths


def test_connection_rules_are_not_repeated_for_a_node_of_unknown_type():
    g = chain(("C", "CONDITON", {"condition": "x"}), extra_connections=[("C", "E", "CONDITIONAL_TRUE")])
    assert [p.message for p in validate_graph(g)] == [
        "'CONDITON' is not a node type (did you mean CONDITION?)"
    ]


def test_custom_node_types_are_known_when_registered():
    g = chain(("P", "CUSTOM_PROCESSOR"))
    assert [p.message for p in validate_graph(g)] == [
        "'CUSTOM_PROCESSOR' is not a node type (known: API_CALL, ASSERT, CONDITION, DELAY, END, LOOP, PARALLEL, POLL, START, SUBWORKFLOW, SWITCH, TRANSFORM)"
    ]
    assert validate_graph(g, node_types={"CUSTOM_PROCESSOR"}) == []


VALID = [
    pytest.param(chain(), id="start-end"),
    pytest.param(
        chain(
            (
                "A",
                "API_CALL",
                {
                    "method": "GET",
                    "url": "{{input.base}}/u/{{input.id}}",
                    "output_mapping": {"id": "response.data.id"},
                },
            )
        ),
        id="api-chain",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("C", "CONDITION", {"condition": "{{input.score}} >= 60"}),
                ("P", "DELAY"),
                ("F", "DELAY"),
                ("J", "DELAY"),
                ("E", "END"),
            ],
            [
                ("S", "C"),
                ("C", "P", "CONDITIONAL_TRUE"),
                ("C", "F", "CONDITIONAL_FALSE"),
                ("P", "J"),
                ("F", "J"),
                ("J", "E"),
            ],
        ),
        id="diamond-after-condition",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("O", "LOOP", {"items": "{{input.groups}}"}),
                ("I", "LOOP", {"condition": "loop.index < 2"}),
                ("B", "DELAY", {"seconds": 0}),
                ("E", "END"),
            ],
            [("S", "O"), ("O", "I", "LOOP"), ("I", "B", "LOOP"), ("B", "I"), ("I", "O"), ("O", "E")],
        ),
        id="nested-loops",
    ),
    pytest.param(
        graph(
            [
                ("S", "START"),
                ("P", "PARALLEL", {"max_concurrent": 2}),
                ("A", "DELAY"),
                ("B", "DELAY"),
                ("J", "DELAY"),
                ("E", "END"),
            ],
            [
                ("S", "P"),
                ("P", "A", "PARALLEL"),
                ("P", "B", "PARALLEL"),
                ("A", "J"),
                ("B", "J"),
                ("P", "E"),
                ("J", "E"),
            ],
        ),
        id="parallel",
    ),
    pytest.param(
        chain(
            ("A", "API_CALL", {"url": "http://x"}),
            extra_nodes=[("Oops", "DELAY")],
            extra_connections=[("A", "Oops", "ERROR"), ("Oops", "E")],
        ),
        id="error-route",
    ),
]


@pytest.mark.parametrize("valid", VALID)
def test_valid_graphs_report_nothing(valid):
    assert validate_graph(valid) == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_examples_are_valid(path):
    from flowdesk.interchange.workflow_file import read_workflow_file

    example = read_workflow_file(path.read_bytes(), source=path.name)
    assert validate_graph(example.graph) == []


def test_three_examples_ship():
    assert {p.name for p in EXAMPLES.glob("*.json")} >= {"conditional.json", "parallel.json", "loop.json"}


def big_graph(n_nodes: int = 2000, n_connections: int = 3000) -> WorkflowGraph:
    """A long valid workflow: a chain with skip-ahead edges and a few loops."""
    nodes = [Node(name="start", node_type="START")]
    for i in range(1, n_nodes - 1):
        nodes.append(
            Node(
                name=f"n{i}",
                node_type="API_CALL",
                config={"url": "{{input.base}}/x/" + str(i), "parameters": {"id": "{{input.id}}"}},
            )
        )
    nodes.append(Node(name="end", node_type="END"))
    names = [n.name for n in nodes]
    conns = [Connection(from_node=a, to_node=b) for a, b in zip(names, names[1:], strict=False)]
    step = 2
    while len(conns) < n_connections:
        for i in range(0, len(names) - step, 7):
            if len(conns) >= n_connections:
                break
            conns.append(Connection(from_node=names[i], to_node=names[i + step]))
        step += 1
    return WorkflowGraph(workflow=Workflow(name="big"), nodes=nodes, connections=conns)


def test_big_graph_is_valid():
    # Speed is measured by benchmarks/bench_interchange.py; here only the result on a big graph.
    g = big_graph()
    assert len(g.nodes) == 2000 and len(g.connections) == 3000
    assert validate_graph(g) == []
    g.nodes[1500].config["parameters"]["id"] = "{{input.id"
    assert [(p.node, p.key) for p in validate_graph(g)] == [("n1500", "parameters.id")]


def test_deep_chain_does_not_hit_the_recursion_limit():
    g = big_graph(6000, 5999)
    g.connections.append(Connection(from_node="n5998", to_node="n1"))
    problems = validate_graph(g)
    assert [p.node for p in problems] == ["n1"]
    assert "form a cycle" in problems[0].message
    assert json.dumps([p.model_dump(mode="json") for p in problems])


def test_a_problem_is_one_line_even_when_a_name_holds_a_line_break():
    g = chain(("two\nlines\u2028here", "API_CAL\t"))
    (problem,) = validate_graph(g)
    assert problem.message == "'API_CAL\\t' is not a node type (did you mean API_CALL?)"
    assert problem.node == "two\nlines\u2028here", "the name itself is kept as it is"


def _while_loop(concurrency):
    return graph(
        [
            ("S", "START"),
            ("L", "LOOP", {"condition": "loop.index < 3", "concurrency": concurrency}),
            ("B", "DELAY"),
            ("E", "END"),
        ],
        [("S", "L"), ("L", "B", "LOOP"), ("B", "L"), ("L", "E")],
    )


def test_loop_concurrency_with_a_condition_is_refused_at_the_concurrency_field():
    found = locate_graph_problems(_while_loop(4))
    assert [(f.problem.severity, f.path) for f in found] == [(E, ("nodes", 1, "config", "concurrency"))]
    assert found[0].problem.message == (
        "LOOP concurrency 4 cannot go with a condition: iterations run side by side only over items "
        "(set concurrency to 1 or loop over items)"
    )
    assert found[0].placed().path == "nodes[1].config.concurrency"


def test_loop_concurrency_one_or_over_items_is_accepted():
    assert validate_graph(_while_loop(1)) == []
    over_items = chain(("L", "LOOP", {"items": "{{input.xs}}", "concurrency": 8}))
    assert [p for p in validate_graph(over_items) if p.key == "concurrency"] == []


def test_templated_loop_concurrency_with_a_condition_is_a_warning():
    found = locate_graph_problems(_while_loop("{{input.n}}"))
    assert [(f.problem.severity, f.path) for f in found] == [(W, ("nodes", 1, "config", "concurrency"))]


def test_a_large_graph_whose_connections_name_no_node_is_checked_without_comparing_every_pair(monkeypatch):
    """1,500 nodes and 500 connections whose ends name no node: each end is still reported, the
    first ones with a "did you mean", but the close-match search (difflib, whose cost grows with the
    names) runs within a budget of comparisons, and once per name, not once per end."""
    from flowdesk.domain import validation

    calls: list[str] = []
    search = validation.difflib.get_close_matches

    def counted(word, possibilities, *args, **kwargs):
        calls.append(word)
        return search(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(validation.difflib, "get_close_matches", counted)
    nodes = [("start", "START")] + [(f"step {i:04d}", "DELAY", {"seconds": 0}) for i in range(1500)]
    connections = [(f"stepp {i:04d}", "nowhere") for i in range(500)]
    problems = validate_graph(graph(nodes, connections))
    unknown = [p for p in problems if "no node named" in p.message]
    assert len(unknown) == 1000
    assert "did you mean 'step 0000'?" in unknown[0].message
    assert len(calls) == len(set(calls)) <= 20_000 // 1501 + 1
