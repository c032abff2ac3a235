"""Regenerate docs/screenshot-monitor-in-app.png: the editor window at 1440 x 900 with a monitor page
and a run's timeline (offscreen).

    python docs/make_monitor_screenshots.py

Runs an example workflow a dozen times (headless engine, against the project's local test HTTP
server on 127.0.0.1; some runs fail with an HTTP error or a refused connection), then opens its
monitor page, scrolled to its error tables, selects the HTTP 404 (which fails a parallel branch)
and loads its run into the timeline.
docs/screenshot-monitor.png (90 days of runs) comes from `benchmarks/monitor_seed.py --screenshots`.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from flowdesk.domain.enums import NodeType  # noqa: E402
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph  # noqa: E402
from tests.support.http_server import LocalHttpServer  # noqa: E402

STOCK = "库存同步"


def example() -> WorkflowGraph:
    """start -> fetch_orders -> (enrich_customer, 库存同步) -> end; the URLs come from the input."""

    def api(name: str, x: float, y: float, key: str) -> Node:
        config = {"method": "POST", "url": f"{{{{input.{key}}}}}", "timeout": 2}
        return Node(name=name, node_type=NodeType.API_CALL, config=config, position_x=x, position_y=y)

    nodes = [
        Node(name="start", node_type=NodeType.START, position_x=0, position_y=100),
        api("fetch_orders", 260, 100, "orders"),
        api("enrich_customer", 520, 0, "customer"),
        api(STOCK, 520, 200, "stock"),
        Node(name="end", node_type=NodeType.END, position_x=780, position_y=100),
    ]
    pairs = [("start", "fetch_orders"), ("fetch_orders", "enrich_customer"), ("fetch_orders", STOCK)]
    pairs += [("enrich_customer", "end"), (STOCK, "end")]
    return WorkflowGraph(
        workflow=Workflow(name="orders"),
        nodes=nodes,
        connections=[Connection(from_node=a, to_node=b) for a, b in pairs],
    )


def run_history(db, workflow_id: int, base: str) -> None:
    """Eight completed runs and five failed ones, of three kinds."""
    from flowdesk.engine.headless import run_workflow

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    ok = {"orders": f"{base}/delay/0.3", "customer": f"{base}/delay/0.5", "stock": f"{base}/delay/0.2"}
    query = "?warehouse=eu-central-1&include=reservations,backorders&page_size=500"
    failing = [
        {"orders": f"{base}/status/503{query}"},
        {"orders": f"{base}/status/503{query}"},
        {"stock": f"http://127.0.0.1:{closed}/stock/levels{query}"},
        {"stock": f"{base}/status/404{query}"},
        {"orders": f"{base}/status/503{query}"},
    ]
    for i in range(13):
        data = dict(ok) | (failing[i // 2] if i % 2 and i // 2 < len(failing) else {})
        run_workflow(db, workflow_id, data)


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> Path:
    from flowdesk.ui.app import application, build_window
    from flowdesk.ui.backend import EditorBackend

    application()
    server = LocalHttpServer().start()
    out = ROOT / "docs" / "screenshot-monitor-in-app.png"
    with tempfile.TemporaryDirectory() as tmp:
        seed = EditorBackend(Path(tmp) / "shots.db")
        try:
            graph = seed.workflows.create_from_graph(example())
            run_history(seed.db, graph.workflow.id, server.url)
        finally:
            seed.close()
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        # the real window (run UI, API library, monitor) in its default layout
        window = build_window(
            ["--db", str(Path(tmp) / "shots.db")], settings=settings, autosave_dir=Path(tmp) / "autosave"
        )
        backend = window.backend
        try:
            window.resize(1440, 900)
            window.show()
            window.browser.refresh()
            tab = window.open_workflow(graph.workflow.id)
            spin(200)
            tab.fit_to_view()
            host = window.monitor_host
            view = host.show_monitor(graph.workflow.id)
            spin(1500)
            table = view.errors_table
            table.selectRow(next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "http_404"))
            spin(800)
            page = host._page(view)  # the page scrolls at this height: show its tables
            page.verticalScrollBar().setValue(page.verticalScrollBar().maximum())
            run_id = view.runs_table.item(0, 0).data(0x0100)  # Qt.UserRole: the execution id
            host.show_execution(int(run_id), graph.workflow.id)
            spin(800)
            window.grab().save(str(out))
            for t in window.editor_tabs():
                t.doc.undo_stack.setClean()
            window.close()
        finally:
            backend.close()
            server.stop()
    return out


if __name__ == "__main__":
    print(main())
