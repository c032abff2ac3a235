"""Graph validation: every structural and expression problem of a workflow, found at once.

`validate_graph` is what the editor, the file importer and the engine ask before anything runs.
The algorithms stay linear in the size of the graph (one BFS per question, Tarjan's strongly
connected components for cycles), so a 2,000-node workflow validates in milliseconds.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .enums import ConnectionType, NodeType, Severity
from .errors import ExpressionSyntaxError
from .expressions import check_expression, check_template
from .json_names import json_kind, json_path
from .models import Connection, Node, Problem, WorkflowGraph
from .node_config import OUTPUT_MAPPING_KEY, config_problems, connection_config_problems
from .node_descriptors import COMMON_EXITS, NodeTypeDescriptor, descriptors_of, reserved_owner
from .workflow_inputs import INPUTS_KEY, inputs_schema_problems

__all__ = ["validate_graph", "locate_graph_problems", "LocatedProblem", "one_line", "suggest"]

_ERROR = Severity.ERROR
_WARNING = Severity.WARNING


@dataclass(frozen=True, slots=True)
class LocatedProblem:
    """A problem plus where it sits in the workflow-file shape, e.g. ("nodes", 2, "node_type")."""

    problem: Problem
    path: tuple[str | int, ...]

    def placed(self) -> Problem:
        """The problem with its path filled in (`nodes[1].config.condition`), so it can say where."""
        if self.problem.node is None and self.problem.connection is None:
            return self.problem
        return self.problem.model_copy(update={"path": json_path(self.path)})


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(message: str) -> str:
    """`message` with control characters (line breaks included) written as escapes: a problem is one line
    even when a node name or a value quoted in it holds a line break."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), message)


def suggest(value: str, candidates: Collection[str]) -> str | None:
    """The candidate closest to `value` (case-insensitive first), or None when nothing is close."""
    return NameHints(candidates)(value)


class NameHints:
    """`suggest` over one set of names, asked many times (every connection of a large graph): the
    case-folded names are made once and each value is looked up once. The close-match search
    (difflib, which compares the value with every name, some 20 µs a pair for names alike) has a
    budget of `comparisons` in all: with 1,000 names the first 20 values that match no name
    case-insensitively get it, with 100 names the first 200. Past the budget a hint is given only
    for a case-insensitive match. (A file of 3,000 nodes whose 6,000 connection ends named no node
    took 23 s of such searches; benchmarks/bench_validate_problems.py --dangling.)"""

    def __init__(self, candidates: Collection[str], comparisons: int = 20_000) -> None:
        self.by_fold = {c.casefold(): c for c in candidates}
        self.folded = list(self.by_fold)
        self.budget = comparisons
        self.seen: dict[str, str | None] = {}

    def __call__(self, value: str) -> str | None:
        if not value:
            return None
        if value in self.seen:
            return self.seen[value]
        folded = value.casefold()
        hint = self.by_fold.get(folded)
        if hint is None and self.budget > 0:
            self.budget -= len(self.folded)
            close = difflib.get_close_matches(folded, self.folded, n=1, cutoff=0.6)
            hint = self.by_fold[close[0]] if close else None
        self.seen[value] = hint
        return hint


NodeTypes = Collection[str] | Mapping[str, NodeTypeDescriptor] | None


def validate_graph(graph: WorkflowGraph, *, node_types: NodeTypes = None) -> list[Problem]:
    """Every problem of `graph`: errors first, then warnings, each naming its node or connection.

    `node_types` is what is known beyond the built-ins: registered custom types as a mapping of name
    to descriptor (their config schemas are enforced), or their names only; None means the built-ins.
    """
    return [found.problem for found in locate_graph_problems(graph, node_types=node_types)]


def locate_graph_problems(graph: WorkflowGraph, *, node_types: NodeTypes = None) -> list[LocatedProblem]:
    """Like `validate_graph`, each problem paired with its path in the workflow-file shape."""
    checker = _GraphChecker(graph, node_types)
    checker.run()
    errors = [f for f in checker.found if f.problem.severity == _ERROR]
    warnings = [f for f in checker.found if f.problem.severity != _ERROR]
    return errors + warnings


class _GraphChecker:
    def __init__(self, graph: WorkflowGraph, node_types: NodeTypes) -> None:
        self.graph = graph
        self.descriptors = descriptors_of(node_types)
        self.known_types = set(self.descriptors)
        self.found: list[LocatedProblem] = []
        # First node of each name: the graph algorithms work on names, as expressions do.
        self.index_of: dict[str, int] = {}
        for i, node in enumerate(graph.nodes):
            self.index_of.setdefault(node.name, i)
        self.node_by_name: dict[str, Node] = {name: graph.nodes[i] for name, i in self.index_of.items()}
        self.node_hint = NameHints(self.node_by_name)  # "did you mean" for names that name no node
        # Usable edges (both ends exist, not a self-connection), as (index, connection).
        self.edges: list[tuple[int, Connection]] = [
            (j, c)
            for j, c in enumerate(graph.connections)
            if c.from_node in self.node_by_name
            and c.to_node in self.node_by_name
            and c.from_node != c.to_node
        ]
        self.successors: dict[str, list[str]] = {name: [] for name in self.node_by_name}
        self.predecessors: dict[str, list[tuple[str, Connection]]] = {name: [] for name in self.node_by_name}
        self.outgoing_kinds: dict[str, set[ConnectionType]] = {name: set() for name in self.node_by_name}
        self.loop_targets: dict[str, list[str]] = {name: [] for name in self.node_by_name}
        for _, c in self.edges:
            self.successors[c.from_node].append(c.to_node)
            self.predecessors[c.to_node].append((c.from_node, c))
            self.outgoing_kinds[c.from_node].add(c.connection_type)
            if c.connection_type == ConnectionType.LOOP:
                self.loop_targets[c.from_node].append(c.to_node)

    # -- reporting ---------------------------------------------------------------------------

    def node_problem(
        self,
        index: int,
        message: str,
        *,
        field: tuple[str | int, ...] = (),
        severity: Severity = _ERROR,
        key: str | None = None,
        column: int | None = None,
    ) -> None:
        node = self.graph.nodes[index]
        problem = Problem(
            severity=severity, message=one_line(message), node=node.name, key=key, column=column
        )
        self.found.append(LocatedProblem(problem, ("nodes", index, *field)))

    def connection_problem(
        self,
        index: int,
        message: str,
        *,
        field: tuple[str | int, ...] = (),
        severity: Severity = _ERROR,
        key: str | None = None,
        column: int | None = None,
    ) -> None:
        problem = Problem(
            severity=severity, message=one_line(message), connection=index, key=key, column=column
        )
        self.found.append(LocatedProblem(problem, ("connections", index, *field)))

    def workflow_problem(self, message: str, *, field: tuple[str | int, ...], key: str | None = None) -> None:
        problem = Problem(severity=_ERROR, message=one_line(message), key=key)
        self.found.append(LocatedProblem(problem, ("workflow", *field)))

    def graph_problem(self, message: str, *, severity: Severity = _ERROR) -> None:
        self.found.append(LocatedProblem(Problem(severity=severity, message=one_line(message)), ("nodes",)))

    # -- the rules ---------------------------------------------------------------------------

    def run(self) -> None:
        self.check_inputs()
        self.check_nodes()
        self.check_start_and_end()
        self.check_connections()
        self.check_cycles()
        self.check_loop_bodies()
        self.check_expressions()
        self.check_reachability()
        self.check_port_exits()

    def check_inputs(self) -> None:
        """A malformed `config.inputs` declaration (workflow_inputs.py), located inside it."""
        config = self.graph.workflow.config or {}
        if INPUTS_KEY not in config:
            return
        for path, message in inputs_schema_problems(config[INPUTS_KEY]):
            self.workflow_problem(message, field=("config", INPUTS_KEY, *path), key=INPUTS_KEY)

    def check_nodes(self) -> None:
        seen: set[str] = set()
        for i, node in enumerate(self.graph.nodes):
            if not node.name.strip():
                self.node_problem(
                    i,
                    f"node number {i + 1} ({node.node_type}) has no name; every node needs one",
                    field=("name",),
                )
            elif node.name in seen:
                self.node_problem(
                    i,
                    f"another node is already named '{node.name}'; node names must be unique "
                    "because expressions refer to nodes by name",
                    field=("name",),
                )
            seen.add(node.name)
            if node.node_type not in self.known_types:
                hint = suggest(node.node_type, sorted(self.known_types))
                message = f"'{node.node_type}' is not a node type"
                message += (
                    f" (did you mean {hint}?)" if hint else f" (known: {', '.join(sorted(self.known_types))})"
                )
                self.node_problem(i, message, field=("node_type",))
            if node.node_type not in self.known_types:
                continue
            descriptor = self.descriptors[node.node_type]
            if descriptor.cannot_run:
                self.node_problem(i, descriptor.cannot_run, field=("node_type",))
            checked_elsewhere = (
                *descriptor.expression_keys,
                *descriptor.node_name_keys,
                *descriptor.expression_map_keys,
                OUTPUT_MAPPING_KEY,
            )
            for key, wrong in config_problems(
                node.node_type, node.config, checked_elsewhere, self.descriptors
            ):
                self.node_problem(i, wrong, field=("config", key), key=key)
            needed = descriptor.config_schema.get("x-needs-one-of")
            if isinstance(needed, Mapping) and all(_missing(node.config.get(k)) for k in needed["fields"]):
                wanted = needed.get("wanted") or "a " + " or ".join(needed["fields"])
                article = "an" if node.node_type[:1].lower() in "aeiou" else "a"
                self.node_problem(
                    i, f"{article} {node.node_type} needs {wanted}; {needed['why']}", severity=_WARNING
                )
            if node.node_type == NodeType.LOOP:
                self.check_loop_concurrency(i, node)

    def check_loop_concurrency(self, index: int, node: Node) -> None:
        """`concurrency` above 1 runs iterations over `items` side by side, which a while-loop
        (`condition`) cannot do: the engine refuses it at run time, so validation says it first.
        A templated concurrency is known only at run time: a warning then."""
        condition = node.config.get("condition")
        concurrency = node.config.get("concurrency")
        if _missing(condition) or condition is True or _missing(concurrency):
            return
        if isinstance(concurrency, int) and not isinstance(concurrency, bool):
            if concurrency > 1:
                self.node_problem(
                    index,
                    f"LOOP concurrency {concurrency} cannot go with a condition: iterations run side "
                    "by side only over items (set concurrency to 1 or loop over items)",
                    field=("config", "concurrency"),
                    key="concurrency",
                )
        elif isinstance(concurrency, str) and "{{" in concurrency:
            self.node_problem(
                index,
                "LOOP concurrency comes from a template and the loop has a condition: the run fails "
                "unless it comes to 1 (iterations run side by side only over items)",
                field=("config", "concurrency"),
                key="concurrency",
                severity=_WARNING,
            )

    def check_start_and_end(self) -> None:
        starts = [i for i, n in enumerate(self.graph.nodes) if n.node_type == NodeType.START]
        if not starts:
            self.graph_problem("the workflow has no START node; every workflow starts at exactly one")
        for i in starts[1:]:
            first = self.graph.nodes[starts[0]].name
            self.node_problem(
                i,
                f"a second START node (the first is '{first}'); a workflow has exactly one START",
                field=("node_type",),
            )
        if not any(n.node_type == NodeType.END for n in self.graph.nodes):
            self.graph_problem("the workflow has no END node; add one where the run finishes")

    def check_connections(self) -> None:
        for j, c in enumerate(self.graph.connections):
            for end, name in (("from", c.from_node), ("to", c.to_node)):
                if name not in self.node_by_name:
                    hint = self.node_hint(name)
                    message = f"no node named '{name}'" + (f" (did you mean '{hint}'?)" if hint else "")
                    self.connection_problem(j, message, field=(end,), key=end)
            if c.from_node == c.to_node and c.from_node in self.node_by_name:
                self.connection_problem(j, f"'{c.from_node}' is connected to itself", field=("to",))
            for key, wrong in connection_config_problems(c.config or {}):
                self.connection_problem(j, wrong, field=("config", key), key=f"config.{key}")
            kind = ConnectionType(c.connection_type)
            if kind == ConnectionType.CONDITIONAL and not (c.condition or "").strip():
                self.connection_problem(
                    j, "a CONDITIONAL connection needs a condition", field=("condition",), key="condition"
                )
            source = self.node_by_name.get(c.from_node)
            if source is None:
                continue
            owner = reserved_owner(kind) if kind not in COMMON_EXITS else None
            descriptor = self.descriptors.get(source.node_type)
            if owner is not None and descriptor is not None and kind not in descriptor.exit_types:
                self.connection_problem(
                    j,
                    f"a {kind.value} connection must leave a {owner} node, "
                    f"but '{source.name}' is a {source.node_type}",
                    field=("connection_type",),
                )

    def check_cycles(self) -> None:
        """A cycle must pass through a LOOP node: look for cycles in the graph without LOOP nodes (the
        types whose descriptor says they run a body)."""
        loop_free = {name for name, node in self.node_by_name.items() if not self.runs_body(node)}
        for component in _strongly_connected(loop_free, self.successors):
            if len(component) < 2:
                continue
            ordered = sorted(component, key=self.index_of.__getitem__)
            shown = ", ".join(f"'{n}'" for n in ordered[:6]) + (", ..." if len(ordered) > 6 else "")
            self.node_problem(
                self.index_of[ordered[0]],
                f"{shown} form a cycle that does not pass through a LOOP node; "
                "only a LOOP may run steps again",
            )

    def loop_body(self, loop: str) -> set[str]:
        """What is reachable from the targets of the LOOP's LOOP connections, not passing the LOOP."""
        return _reachable(self.loop_targets[loop], self.successors, stop=loop)

    def check_loop_bodies(self) -> None:
        loops = [name for name, node in self.node_by_name.items() if self.runs_body(node)]
        for loop in loops:
            body = self.loop_body(loop)
            for name in sorted(body, key=self.index_of.__getitem__):
                for source, c in self.predecessors[name]:
                    inside = source in body or (source == loop and c.connection_type == ConnectionType.LOOP)
                    if not inside:
                        self.node_problem(
                            self.index_of[name],
                            f"'{name}' is inside the body of LOOP '{loop}' but is also reached from "
                            f"'{source}' outside it; a step runs either in the loop or after it",
                        )
                        break

    def check_reachability(self) -> None:
        starts = [n.name for n in self.graph.nodes if n.node_type == NodeType.START]
        if not starts:
            return
        reached = _reachable([starts[0]], self.successors)
        for name, node in self.node_by_name.items():
            if name in reached or node.node_type == NodeType.START:
                continue
            if node.node_type == NodeType.END:
                message = f"END '{name}' cannot be reached from START, so the run can never finish there"
            else:
                message = f"'{name}' cannot be reached from START, so it never runs"
            self.node_problem(self.index_of[name], message, severity=_WARNING)

    def runs_body(self, node: Node) -> bool:
        descriptor = self.descriptors.get(node.node_type)
        return descriptor is not None and descriptor.runs_body

    def check_port_exits(self) -> None:
        """A required port (CONDITION's true and false) needs a connection or its config key; a
        node-name key must name a node."""
        for name, node in self.node_by_name.items():
            descriptor = self.descriptors.get(node.node_type)
            if descriptor is None:
                continue
            kinds = self.outgoing_kinds[name]
            for port in descriptor.ports:
                if (
                    port.required
                    and port.connection_type not in kinds
                    and not node.config.get(port.config_key or "")
                ):
                    way = f"add a {port.connection_type.value} connection" + (
                        f" or set {port.config_key}" if port.config_key else ""
                    )
                    self.node_problem(
                        self.index_of[name],
                        f"no way out when {port.when or port.name} ({way})",
                        severity=_WARNING,
                    )
            for key in descriptor.node_name_keys:
                target = node.config.get(key)
                if target in (None, ""):
                    continue
                if not isinstance(target, str) or target not in self.node_by_name:
                    hint = self.node_hint(target) if isinstance(target, str) else None
                    self.node_problem(
                        self.index_of[name],
                        f"{key} names no node: {target!r}" + (f" (did you mean '{hint}'?)" if hint else ""),
                        field=("config", key),
                        key=key,
                    )

    # -- expressions and templates ---------------------------------------------------------

    def check_expressions(self) -> None:
        check_expression, check_template = _expression_errors, _template_errors
        for i, node in enumerate(self.graph.nodes):
            config = node.config
            descriptor = self.descriptors.get(node.node_type)
            expression_keys = descriptor.expression_keys if descriptor is not None else ()
            name_keys = descriptor.node_name_keys if descriptor is not None else ()
            map_keys = descriptor.expression_map_keys if descriptor is not None else ()
            list_keys = descriptor.expression_list_keys if descriptor is not None else ()
            skip = {*expression_keys, *name_keys, *map_keys, *list_keys, OUTPUT_MAPPING_KEY}
            for list_key in list_keys:
                items = config.get(list_key)
                for index, item in enumerate(items if isinstance(items, list) else ()):
                    if isinstance(item, str):
                        where: tuple[str | int, ...] = (list_key, index)
                        text = item
                    elif isinstance(item, Mapping) and isinstance(item.get("that"), str):
                        where, text = (list_key, index, "that"), item["that"]
                    else:
                        continue  # the schema check says what is wrong with it
                    for err in check_expression(text):
                        self.expression_problem(i, where, err)
            for key in expression_keys:
                value = config.get(key)
                if value is None:
                    continue
                if not isinstance(value, str):
                    self.node_problem(
                        i,
                        f"{key} must be text (an expression), not {json_kind(value)}",
                        field=("config", key),
                        key=key,
                    )
                    continue
                for err in check_expression(value):
                    self.expression_problem(i, (key,), err)
            for map_key in (OUTPUT_MAPPING_KEY, *map_keys):
                mapping = config.get(map_key)
                if mapping is None:
                    continue
                if not isinstance(mapping, Mapping):
                    self.node_problem(
                        i,
                        f"{map_key} must be an object of field names to expressions, not {json_kind(mapping)}",
                        field=("config", map_key),
                        key=map_key,
                    )
                    continue
                for field, expr in mapping.items():
                    sub = (map_key, str(field))
                    if not isinstance(expr, str):
                        self.node_problem(
                            i,
                            f"{json_path(sub)} must be text (an expression), not {json_kind(expr)}",
                            field=("config", *sub),
                            key=json_path(sub),
                        )
                        continue
                    for err in check_expression(expr):
                        self.expression_problem(i, sub, err)
            for where, text in _template_texts(config, skip):
                for err in check_template(text):
                    self.expression_problem(i, where, err)
        for j, c in enumerate(self.graph.connections):
            if _has_text(c.condition):
                for err in check_expression(c.condition or ""):
                    column = getattr(err, "column", None)
                    self.connection_problem(
                        j,
                        f"syntax error: {_error_text(err)}",
                        field=("condition",),
                        key="condition",
                        column=column,
                    )

    def expression_problem(self, index: int, sub: tuple[str | int, ...], err: Exception) -> None:
        key = json_path(sub)
        column = getattr(err, "column", None)
        self.node_problem(
            index,
            f"syntax error: {_error_text(err)}",
            field=("config", *sub),
            key=key,
            column=column,
        )


@lru_cache(maxsize=16384)
def _expression_errors(text: str) -> tuple[ExpressionSyntaxError, ...]:
    """Syntax errors of an expression, remembered: the editor validates the same texts again and again."""
    return tuple(check_expression(text))


@lru_cache(maxsize=16384)
def _template_errors(text: str) -> tuple[ExpressionSyntaxError, ...]:
    """Syntax errors of a template, remembered like `_expression_errors`."""
    return tuple(check_template(text))


def _error_text(err: Exception) -> str:
    return str(getattr(err, "message", None) or err)


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _template_texts(
    config: Mapping[str, Any], skip: Collection[str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every string inside a config that contains "{{" or "}}", with its path; top-level keys in
    `skip` are left out. Paths are built only for those strings (most config values are plain)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    path: list[str | int] = []

    def visit(value: Any) -> None:
        if isinstance(value, str):
            if "{{" in value or "}}" in value:
                found.append((tuple(path), value))
        elif isinstance(value, Mapping):
            for key, child in value.items():
                if (not path and key in skip) or (
                    isinstance(child, str) and "{{" not in child and "}}" not in child
                ):
                    continue
                path.append(str(key))
                visit(child)
                path.pop()
        elif isinstance(value, list):
            for index, child in enumerate(value):
                path.append(index)
                visit(child)
                path.pop()

    try:
        visit(config)
    except RecursionError:  # a config nested thousands deep: check what was found before
        pass
    return found


def _reachable(starts: list[str], successors: Mapping[str, list[str]], stop: str | None = None) -> set[str]:
    """Breadth-first: every node reachable from `starts`, never entering `stop`."""
    seen: set[str] = set()
    queue: deque[str] = deque()
    for s in starts:
        if s != stop and s not in seen:
            seen.add(s)
            queue.append(s)
    while queue:
        for nxt in successors.get(queue.popleft(), ()):
            if nxt != stop and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _strongly_connected(nodes: Collection[str], successors: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (deep graphs must not hit the recursion limit), on `nodes` only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(successors.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in nodes:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components
