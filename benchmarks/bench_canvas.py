"""Canvas benchmark: a 2,000-node / 3,000-connection workflow opened from the database into the
editor, a full render of the fitted view, and the undo of deleting 500 nodes.

Run: `QT_QPA_PLATFORM=offscreen python benchmarks/bench_canvas.py` (prints medians; targets:
open < 0.5 s, render < 20 ms, undo < 0.5 s). A baseline measured in the same process builds and
renders the same picture the naive way (one QGraphicsRectItem + QGraphicsSimpleTextItem per node,
one QGraphicsPathItem per connection, default view settings), to show what the tuning buys.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPointF, QSettings  # noqa: E402
from PySide6.QtGui import QImage, QPainter, QPainterPath  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

import flowdesk.ui  # noqa: E402,F401  (PySide refcount guard)
from flowdesk.domain.enums import ConnectionType, NodeType  # noqa: E402
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph  # noqa: E402

NODES, CONNECTIONS, ROWS = 2000, 3000, 20
RUNS = 7


def big_graph() -> WorkflowGraph:
    """A layered workflow: START, 1,998 steps in 100 columns of 20, END; 3,000 connections."""
    rng = random.Random(4)
    nodes = [Node(name="start", node_type=NodeType.START, position_x=-300, position_y=ROWS * 50)]
    columns: list[list[Node]] = []
    kinds = [NodeType.API_CALL] * 6 + [NodeType.DELAY] * 3 + [NodeType.CONDITION]
    for i in range(NODES - 2):
        col, row = divmod(i, ROWS)
        kind = rng.choice(kinds)
        config = (
            {"condition": f"{{{{input.v}}}} > {i}"}
            if kind == NodeType.CONDITION
            else (
                {"method": "GET", "url": f"http://127.0.0.1/items/{i}"}
                if kind == NodeType.API_CALL
                else {"seconds": 0}
            )
        )
        node = Node(
            name=f"step {i}", node_type=kind, config=config, position_x=col * 280, position_y=row * 100
        )
        if row == 0:
            columns.append([])
        columns[-1].append(node)
        nodes.append(node)
    nodes.append(
        Node(name="end", node_type=NodeType.END, position_x=len(columns) * 280, position_y=ROWS * 50)
    )
    conns: list[Connection] = []
    seen: set[tuple[str, str]] = set()

    def link(a: Node, b: Node) -> None:
        if (a.name, b.name) in seen:
            return
        seen.add((a.name, b.name))
        ctype = ConnectionType.SEQUENCE
        if a.node_type == NodeType.CONDITION:
            ctype = (
                ConnectionType.CONDITIONAL_TRUE
                if sum(1 for s, _ in seen if s == a.name) == 1
                else (ConnectionType.CONDITIONAL_FALSE)
            )
        conns.append(Connection(from_node=a.name, to_node=b.name, connection_type=ctype))

    for n in columns[0]:
        link(nodes[0], n)
    for n in columns[-1]:
        link(n, nodes[-1])
    for c in range(len(columns) - 1):
        for r, n in enumerate(columns[c]):
            nxt = columns[c + 1]
            link(n, nxt[min(r, len(nxt) - 1)])
    while len(conns) < CONNECTIONS:
        c = rng.randrange(len(columns) - 1)
        a = rng.choice(columns[c])
        b = rng.choice(columns[c + 1])
        link(a, b)
    return WorkflowGraph(workflow=Workflow(name="benchmark"), nodes=nodes, connections=conns[:CONNECTIONS])


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def render_ms(view: QGraphicsView, runs: int = 15) -> float:
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    samples = []
    for _ in range(runs + 2):
        t = time.perf_counter()
        painter = QPainter(image)
        view.render(painter)
        painter.end()
        samples.append(time.perf_counter() - t)
    return median_ms(samples[2:])  # the first two fill the item caches


def baseline(graph: WorkflowGraph) -> tuple[float, float]:
    """Naive scene: build time and fitted render time (same picture, no tuning)."""
    t = time.perf_counter()
    scene = QGraphicsScene()
    pos = {}
    for n in graph.nodes:
        rect = QGraphicsRectItem(0, 0, 184, 64)
        rect.setPos(n.position_x, n.position_y)
        rect.setFlags(
            QGraphicsRectItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsRectItem.GraphicsItemFlag.ItemIsSelectable
        )
        label = QGraphicsSimpleTextItem(n.name, rect)
        label.setPos(12, 10)
        scene.addItem(rect)
        pos[n.name] = (n.position_x, n.position_y)
    for c in graph.connections:
        (x0, y0), (x1, y1) = pos[c.from_node], pos[c.to_node]
        path = QPainterPath(QPointF(x0 + 184, y0 + 32))
        path.cubicTo(QPointF(x0 + 234, y0 + 32), QPointF(x1 - 50, y1 + 32), QPointF(x1, y1 + 32))
        scene.addItem(QGraphicsPathItem(path))
    view = QGraphicsView(scene)
    view.resize(1400, 900)
    view.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    view.fitInView(scene.itemsBoundingRect())
    build = time.perf_counter() - t
    return build * 1000, render_ms(view, runs=5)


def main() -> None:
    from flowdesk.ui.app import application
    from flowdesk.ui.backend import EditorBackend
    from flowdesk.ui.commands import RemoveItemsCommand
    from flowdesk.ui.main_window import MainWindow

    app = application()
    graph = big_graph()
    tmp = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    backend = EditorBackend(tmp / "bench.db")
    workflow_id = backend.workflows.create_from_graph(graph).workflow.id
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backend, settings=settings, autosave_dir=tmp / "autosave", autosave_interval_s=3600)
    window.resize(1440, 900)
    window.show()
    app.processEvents()

    open_s, render, undo_s, delete_s, validate_s, snapshot_s = [], [], [], [], [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        tab = window.open_workflow(workflow_id)  # database -> document -> 5,000 items
        tab.fit_to_view()
        open_s.append(time.perf_counter() - t)
        app.processEvents()
        t = time.perf_counter()
        tab.validation._snapshot()  # the part of a live validation that runs on the GUI thread
        snapshot_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        tab.validation.run()
        validate_s.append(time.perf_counter() - t)
        render.append(render_ms(tab.view) / 1000)
        victims = [n.uid for n in tab.doc.nodes()[100:600]]
        t = time.perf_counter()
        tab.doc.undo_stack.push(RemoveItemsCommand(tab.doc, victims))
        delete_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        tab.doc.undo_stack.undo()
        undo_s.append(time.perf_counter() - t)
        assert len(tab.doc.nodes()) == NODES and len(tab.scene.node_items) == NODES
        assert len(tab.doc.connections()) == CONNECTIONS
        window.close_tab(tab, ask=False)
        app.processEvents()

    base_build, base_render = baseline(graph)
    print(f"flowdesk canvas benchmark — {NODES} nodes, {CONNECTIONS} connections, median of {RUNS} runs")
    print(f"  open from database into the canvas : {median_ms(open_s):7.1f} ms   (target < 500 ms)")
    print(f"  full render of the fitted view     : {median_ms(render):7.1f} ms   (target < 20 ms)")
    print(f"  delete 500 nodes (one command)     : {median_ms(delete_s):7.1f} ms")
    print(f"  undo of deleting 500 nodes         : {median_ms(undo_s):7.1f} ms   (target < 500 ms)")
    print(f"  live validation of the whole graph : {median_ms(validate_s):7.1f} ms   (worker thread)")
    print(f"    of it on the GUI thread (snapshot): {median_ms(snapshot_s):7.1f} ms")
    print(f"  baseline, naive scene: build {base_build:.1f} ms (no database), render {base_render:.1f} ms")
    print(f"  render ratio naive / flowdesk      : {base_render / median_ms(render):7.1f} x")
    print(f"  open ratio flowdesk (with database) / naive build: {median_ms(open_s) / base_build:7.2f}")
    backend.close()


if __name__ == "__main__":
    main()
