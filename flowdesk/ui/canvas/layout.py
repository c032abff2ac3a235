"""Automatic layered layout, left to right (Sugiyama style, written for flowdesk).

1. Back edges (those closing a cycle, i.e. the way back into a LOOP) are found by a depth-first
   search from the sources and ignored for layering.
2. Longest-path layering: a node sits one layer right of its furthest predecessor.
3. Long edges get dummy nodes in the layers they cross, so ordering sees them.
4. Barycentre ordering, a few sweeps down and up; the first order follows the source's port
   (a CONDITION's true branch above its false branch, a LOOP's body above what comes after).
5. Coordinates: layers at fixed x steps, nodes stacked in each layer and centred vertically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LayoutEdge:
    source: int
    target: int
    port: int = 0  # index of the source's output port: orders siblings top to bottom


def layered_layout(
    nodes: Sequence[int],
    edges: Sequence[LayoutEdge],
    *,
    layer_gap: float = 280.0,
    row_gap: float = 110.0,
    origin: tuple[float, float] = (0.0, 0.0),
    sweeps: int = 4,
) -> dict[int, tuple[float, float]]:
    """Positions (top-left) for every node uid."""
    if not nodes:
        return {}
    node_set = set(nodes)
    order_index = {u: i for i, u in enumerate(nodes)}
    out: dict[int, list[LayoutEdge]] = {u: [] for u in nodes}
    indeg: dict[int, int] = {u: 0 for u in nodes}
    for e in edges:
        if e.source in node_set and e.target in node_set and e.source != e.target:
            out[e.source].append(e)
            indeg[e.target] += 1
    for u in nodes:
        out[u].sort(key=lambda e: (e.port, order_index[e.target]))

    forward = _forward_edges(nodes, out, indeg)

    # longest-path layering over the acyclic forward edges (Kahn order)
    fin: dict[int, int] = {u: 0 for u in nodes}
    for e in forward:
        fin[e.target] += 1
    fout: dict[int, list[LayoutEdge]] = {u: [] for u in nodes}
    for e in forward:
        fout[e.source].append(e)
    layer = {u: 0 for u in nodes}
    ready = [u for u in nodes if fin[u] == 0]
    while ready:
        u = ready.pop()
        for e in fout[u]:
            layer[e.target] = max(layer[e.target], layer[u] + 1)
            fin[e.target] -= 1
            if fin[e.target] == 0:
                ready.append(e.target)

    # dummies for edges spanning several layers (negative ids)
    next_dummy = -1
    down: dict[int, list[tuple[int, float]]] = {u: [] for u in nodes}  # node -> [(succ, port)]
    layers_of: dict[int, int] = dict(layer)
    for e in forward:
        prev, span = e.source, layer[e.target] - layer[e.source]
        port = float(e.port)
        for k in range(1, span):
            d = next_dummy
            next_dummy -= 1
            layers_of[d] = layer[e.source] + k
            down[d] = []
            down.setdefault(prev, []).append((d, port))
            prev, port = d, 0.0
        down.setdefault(prev, []).append((e.target, port))

    n_layers = max(layers_of.values()) + 1
    rows: list[list[int]] = [[] for _ in range(n_layers)]
    # first order: depth-first from the sources following ports, so branches stay together
    seen: set[int] = set()
    roots = sorted((u for u in nodes if layer[u] == 0), key=order_index.__getitem__)

    def visit(u: int) -> None:
        stack = [u]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            rows[layers_of[v]].append(v)
            for w, _p in reversed(sorted(down.get(v, ()), key=lambda t: t[1])):
                if w not in seen:
                    stack.append(w)

    for r in roots:
        visit(r)
    for u in nodes:
        if u not in seen:
            visit(u)

    up: dict[int, list[tuple[int, float]]] = {}
    for v, succs in down.items():
        for w, p in succs:
            up.setdefault(w, []).append((v, p))

    def barycentre_sweep(layer_rows: range, neighbours: dict[int, list[tuple[int, float]]]) -> None:
        for li in layer_rows:
            row = rows[li]
            pos = {}
            for lj in (li - 1, li + 1):
                if 0 <= lj < n_layers:
                    for i, v in enumerate(rows[lj]):
                        pos[v] = float(i)
            keyed = []
            for i, v in enumerate(row):
                ns = [pos[n] + p * 0.01 for n, p in neighbours.get(v, ()) if n in pos]
                keyed.append((sum(ns) / len(ns) if ns else float(i), i, v))
            keyed.sort()
            rows[li] = [v for _, _, v in keyed]

    for _ in range(sweeps):
        barycentre_sweep(range(1, n_layers), up)
        barycentre_sweep(range(n_layers - 2, -1, -1), down)

    tallest = max(len(r) for r in rows)
    ox, oy = origin
    result: dict[int, tuple[float, float]] = {}
    for li, row in enumerate(rows):
        offset = (tallest - len(row)) * row_gap / 2
        for i, v in enumerate(row):
            if v >= 0:
                result[v] = (ox + li * layer_gap, oy + offset + i * row_gap)
    return result


def _forward_edges(
    nodes: Sequence[int], out: dict[int, list[LayoutEdge]], indeg: dict[int, int]
) -> list[LayoutEdge]:
    """All edges except those closing a cycle (found by iterative DFS from sources first)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {u: WHITE for u in nodes}
    forward: list[LayoutEdge] = []
    starts = [u for u in nodes if indeg[u] == 0] + list(nodes)
    for s in starts:
        if color[s] != WHITE:
            continue
        color[s] = GREY
        stack: list[tuple[int, int]] = [(s, 0)]
        while stack:
            u, i = stack[-1]
            if i < len(out[u]):
                stack[-1] = (u, i + 1)
                e = out[u][i]
                c = color[e.target]
                if c == GREY:
                    continue  # back edge: the way back into a loop
                forward.append(e)
                if c == WHITE:
                    color[e.target] = GREY
                    stack.append((e.target, 0))
            else:
                color[u] = BLACK
                stack.pop()
    return forward
