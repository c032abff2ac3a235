"""A graph compiled once per run: adjacency, in-degrees, node kinds and the nested scopes.

A *region* is a set of nodes one scheduler frame runs: the top level, one branch of a PARALLEL node,
or the body of a LOOP node. Regions are opened by *scope connections* (PARALLEL and LOOP typed
connections; the table SCOPE_BUILDERS says how each type carves its regions). Every other
connection is *resolvable*: when its source finishes it becomes taken or dead.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flowdesk.domain.enums import ConnectionType
from flowdesk.domain.models import Connection, Node, WorkflowGraph

from .registry import HandlerRegistry, NodeKind


@dataclass(slots=True, eq=False)
class Edge:
    """One connection as the scheduler uses it (its type may be rewritten, e.g. true_path)."""

    index: int
    source: str
    target: str
    type: str
    condition: str | None
    connection: Connection | None
    exit: bool = False  # the target lies outside the source's region (resolved into an outer frame)
    delay: float = 0.0  # seconds the target waits once this connection is taken (connection_delay)

    def __post_init__(self) -> None:
        self.delay = connection_delay(self.connection)


def connection_delay(c: Connection | None) -> float:
    """Seconds the connection's `config.delay` asks to wait before its target starts (0 when unset)."""
    config = c.config if c is not None else None
    value = config.get("delay") if config else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


@dataclass(slots=True, eq=False)
class Region:
    """The nodes one frame runs; `owner` is the PARALLEL/LOOP node that opens it (None at top)."""

    owner: str | None
    label: str
    nodes: set[str] = field(default_factory=set)
    entries: list[str] = field(default_factory=list)
    parent: Region | None = None
    indegree: dict[str, int] = field(default_factory=dict)
    exits: list[Edge] = field(default_factory=list)
    depth: int = 0


@dataclass(slots=True, eq=False)
class Plan:
    """Everything about the graph the scheduler needs, computed once."""

    graph: WorkflowGraph
    nodes: dict[str, Node]
    kinds: dict[str, NodeKind]
    outgoing: dict[str, list[Edge]]  # resolvable edges, in connection order
    top: Region
    region_of: dict[str, Region]
    scopes: dict[str, list[Region]]  # scope node -> its regions in connection order
    has_error_edge: dict[str, bool]
    starts: list[str]
    gates: dict[str, list[str]]  # scope node -> nodes of its own region fed from inside its scope
    gate_owner: dict[Edge, str]  # a connection from inside a scope to one of those nodes -> scope node
    position: dict[str, int]  # node name -> index in the graph's node list
    # node -> its connections back to an enclosing LOOP (the iteration ends there; nothing is
    # resolved, but a finished step reports them taken or dead like the others)
    returns: dict[str, list[Edge]] = field(default_factory=dict)
    # (owner, entry) -> seconds: the delays of the LOOP / PARALLEL connections that open a body
    scope_delays: dict[tuple[str, str], float] = field(default_factory=dict)


def _reach(graph_out: dict[str, list[str]], starts: Iterable[str], avoid: str) -> set[str]:
    seen: set[str] = set()
    queue = deque(s for s in starts if s != avoid)
    while queue:
        n = queue.popleft()
        if n in seen:
            continue
        seen.add(n)
        for m in graph_out.get(n, ()):
            if m != avoid and m not in seen:
                queue.append(m)
    return seen


def _exclusive(
    candidate: set[str],
    entries: set[str],
    owner: str,
    graph_in: dict[str, list[str]],
    graph_out: dict[str, list[str]],
) -> set[str]:
    """Drop from `candidate` every node entered from outside it (and what follows such a node).

    A non-entry node with a predecessor outside `candidate` (other than `owner`) is dropped, and so is
    everything reachable from a dropped node inside `candidate` (entries included). One multi-source
    walk reaches that fixed point: a node fed by a dropped node is reached from it.
    """
    queue = deque(
        n
        for n in candidate
        if n not in entries and any(p not in candidate and p != owner for p in graph_in.get(n, ()))
    )
    removed: set[str] = set()
    while queue:
        n = queue.popleft()
        if n in removed:
            continue
        removed.add(n)
        for m in graph_out.get(n, ()):
            if m != owner and m in candidate and m not in removed:
                queue.append(m)
    return candidate - removed


_SHARED = -1  # label of a node reached from more than one branch


def _branch_labels(owner: str, targets: list[str], graph_out: dict[str, list[str]]) -> dict[str, int]:
    """For each node reachable from the branch targets (not passing `owner`): the index of the only
    branch that reaches it, or _SHARED when several do. Each node's label changes at most twice
    (unset -> branch -> shared), so this is linear in the size of the graph."""
    label: dict[str, int] = {}
    queue: deque[str] = deque()
    for i, t in enumerate(targets):
        if t == owner:
            continue
        old = label.get(t)
        if old is None:
            label[t] = i
            queue.append(t)
        elif old != i and old != _SHARED:
            label[t] = _SHARED
            queue.append(t)
    while queue:
        n = queue.popleft()
        mine = label[n]
        for m in graph_out.get(n, ()):
            if m == owner:
                continue
            old = label.get(m)
            if old is None:
                label[m] = mine
                queue.append(m)
            elif old != mine and old != _SHARED:
                label[m] = _SHARED
                queue.append(m)
    return label


def _branch_regions(
    owner: str, edges: list[Connection], graph_in: dict[str, list[str]], graph_out: dict[str, list[str]]
) -> list[tuple[set[str], list[str]]]:
    """PARALLEL: one region per connection; a branch stops where it meets another branch.

    A branch's candidate nodes are those reachable from its target and from no other branch's target
    (never passing `owner`); nodes entered from outside the candidate are then dropped (_exclusive).
    """
    label = _branch_labels(owner, [c.to_node for c in edges], graph_out)
    members: list[set[str]] = [set() for _ in edges]
    for n, i in label.items():
        if i != _SHARED:
            members[i].add(n)
    result = []
    for i, c in enumerate(edges):
        cand = members[i]
        cand = _exclusive(cand, {c.to_node}, owner, graph_in, graph_out) if c.to_node in cand else set()
        result.append((cand, [c.to_node] if c.to_node in cand else []))
    return result


def _body_region(
    owner: str, edges: list[Connection], graph_in: dict[str, list[str]], graph_out: dict[str, list[str]]
) -> list[tuple[set[str], list[str]]]:
    """LOOP: one region, everything reachable from the LOOP connections without passing the LOOP node."""
    targets = [c.to_node for c in edges]
    cand = _reach(graph_out, targets, owner)
    cand = _exclusive(cand, set(targets), owner, graph_in, graph_out)
    entries: list[str] = []
    for t in targets:
        if t in cand and t not in entries:
            entries.append(t)
    return [(cand, entries)]


ScopeBuilder = Callable[
    [str, list[Connection], dict[str, list[str]], dict[str, list[str]]], list[tuple[set[str], list[str]]]
]

SCOPE_BUILDERS: dict[str, ScopeBuilder] = {
    ConnectionType.PARALLEL.value: _branch_regions,
    ConnectionType.LOOP.value: _body_region,
}
"""Connection types that open nested regions, and how each carves them."""


def _type_of(c: Connection) -> str:
    t = c.connection_type
    return t.value if isinstance(t, ConnectionType) else str(t)


class PlanError(ValueError):
    """The graph names a node type that has no handler."""


def compile_plan(graph: WorkflowGraph, registry: HandlerRegistry) -> Plan:
    """Compile `graph` for the scheduler (adjacency, regions, in-degrees)."""
    nodes = {n.name: n for n in graph.nodes}
    kinds: dict[str, NodeKind] = {}
    for n in graph.nodes:
        kind = registry.kind(n.node_type)
        if kind is None:
            raise PlanError(f"node '{n.name}' has the unknown type {n.node_type!r}")
        kinds[n.name] = kind

    conns = [c for c in graph.connections if c.from_node in nodes and c.to_node in nodes]
    graph_out: dict[str, list[str]] = {name: [] for name in nodes}
    graph_in: dict[str, list[str]] = {name: [] for name in nodes}
    for c in conns:
        graph_out[c.from_node].append(c.to_node)
        graph_in[c.to_node].append(c.from_node)

    # Edges of each node, with per-kind rewriting (CONDITION's true_path/false_path).
    edges_by_node: dict[str, list[Edge]] = {name: [] for name in nodes}
    for i, c in enumerate(graph.connections):
        if c.from_node in nodes and c.to_node in nodes:
            edges_by_node[c.from_node].append(Edge(i, c.from_node, c.to_node, _type_of(c), c.condition, c))
    for name, kind in kinds.items():
        if kind.rewrite_edges is not None:
            rewritten = kind.rewrite_edges(nodes[name], edges_by_node[name])
            edges_by_node[name] = [e for e in rewritten if e.target in nodes]

    # Nested regions opened by scope connections.
    scope_edges: dict[str, dict[str, list[Connection]]] = {}
    for c in conns:
        t = _type_of(c)
        if t in SCOPE_BUILDERS:
            scope_edges.setdefault(c.from_node, {}).setdefault(t, []).append(c)
    regions: list[Region] = []
    scopes: dict[str, list[Region]] = {}
    scope_entry_edges: set[int] = set()  # id() of scope connections whose target opened a region
    for owner, by_type in scope_edges.items():
        for t, cs in by_type.items():
            for members, entries in SCOPE_BUILDERS[t](owner, cs, graph_in, graph_out):
                region = Region(owner=owner, label=f"{owner}:{t}", nodes=members, entries=entries)
                regions.append(region)
                scopes.setdefault(owner, []).append(region)
            opened = {entry for r in scopes.get(owner, ()) for entry in r.entries}
            for c in cs:
                if c.to_node in opened:
                    scope_entry_edges.add(id(c))

    top = Region(owner=None, label="top")
    smallest: dict[str, Region] = {}  # each node belongs to the smallest region holding it
    for r in sorted(regions, key=lambda r: len(r.nodes)):
        for name in r.nodes:
            smallest.setdefault(name, r)
    region_of: dict[str, Region] = {name: smallest.get(name, top) for name in nodes}
    for r in regions:
        r.nodes = {n for n in r.nodes if region_of[n] is r}
    top.nodes = {n for n, r in region_of.items() if r is top}
    for r in regions:
        r.parent = region_of[r.owner] if r.owner is not None else top
    for r in [top, *regions]:
        d, p = 0, r.parent
        while p is not None:
            d, p = d + 1, p.parent
        r.depth = d

    def inside(node: str, owner: str) -> bool:
        r: Region | None = region_of[node]
        while r is not None:
            if r.owner == owner:
                return True
            r = r.parent
        return False

    outgoing: dict[str, list[Edge]] = {name: [] for name in nodes}
    returns: dict[str, list[Edge]] = {}
    for name, edges in edges_by_node.items():
        for e in edges:
            if e.type in SCOPE_BUILDERS:
                if e.connection is not None and id(e.connection) in scope_entry_edges:
                    continue  # started by the scope node's handler
                e.type = ConnectionType.SEQUENCE.value  # its target is shared: reached when the owner is done
            if inside(e.source, e.target):
                returns.setdefault(name, []).append(e)
                continue  # back to the enclosing LOOP: the iteration simply ends there
            e.exit = region_of[e.target] is not region_of[e.source]
            outgoing[name].append(e)
            tr = region_of[e.target]
            tr.indegree[e.target] = tr.indegree.get(e.target, 0) + 1
            if e.exit:  # every region it leaves resolves it dead if it is cut off before running
                leaving: Region | None = region_of[e.source]
                while leaving is not None and leaving is not tr:
                    leaving.exits.append(e)
                    leaving = leaving.parent

    # A node where branches meet (fed from inside a scope) also waits for the scope node itself, so
    # it never starts while the scope node may still fail.
    # Such a connection counts as taken only if the scope node succeeds (docs/semantics.md §2.4).
    gates: dict[str, list[str]] = {}
    gate_owner: dict[Edge, str] = {}
    for owner, owned in scopes.items():
        home = region_of[owner]
        targets: list[str] = []
        for r in owned:
            for e in r.exits:
                if region_of[e.target] is home:
                    gate_owner[e] = owner
                    if e.target not in targets:
                        targets.append(e.target)
        for t in targets:
            home.indegree[t] = home.indegree.get(t, 0) + 1
        if targets:
            gates[owner] = targets
    starts = [n.name for n in graph.nodes if n.node_type == "START"]
    top.entries = starts
    has_error = {
        name: any(e.type == ConnectionType.ERROR.value for e in edges) for name, edges in outgoing.items()
    }
    return Plan(
        graph=graph,
        nodes=nodes,
        kinds=kinds,
        outgoing=outgoing,
        top=top,
        region_of=region_of,
        scopes=scopes,
        has_error_edge=has_error,
        starts=starts,
        gates=gates,
        gate_owner=gate_owner,
        position={n.name: i for i, n in enumerate(graph.nodes)},
        returns=returns,
        scope_delays={
            (c.from_node, c.to_node): delay for c in graph.connections if (delay := connection_delay(c))
        },
    )
