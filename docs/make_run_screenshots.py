"""Regenerate docs/screenshot-running.png and docs/screenshot-after-run.png (offscreen).

    python docs/make_run_screenshots.py

Runs an example workflow against the project's local test HTTP server (127.0.0.1) in a real
editor window under qasync, grabs the window while the parallel branches run (active nodes lit,
the log filling), then again after the run with a node's response open in the data inspector.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402

from flowdesk.domain.enums import ConnectionType, NodeType  # noqa: E402
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph  # noqa: E402
from tests.support.http_server import LocalHttpServer  # noqa: E402


def example(base: str) -> WorkflowGraph:
    def node(name, kind, x, y, **config):
        return Node(name=name, node_type=kind, config=config, position_x=x, position_y=y)

    nodes = [
        node("开始", NodeType.START, 0, 160),
        node(
            "获取用户", NodeType.API_CALL, 250, 160, method="GET", url=f"{base}/users/{{{{input.user_id}}}}"
        ),
        node("用户存在?", NodeType.CONDITION, 500, 160, condition="{{response.status}} == 200"),
        node("并行获取", NodeType.PARALLEL, 750, 60, max_concurrent=0, wait_for_all=True),
        node("订单", NodeType.API_CALL, 1000, -40, method="GET", url=f"{base}/delay/2.5"),
        node("积分", NodeType.API_CALL, 1000, 80, method="GET", url=f"{base}/delay/2"),
        node("通知", NodeType.DELAY, 1000, 200, seconds=1.5),
        node("未找到", NodeType.DELAY, 750, 300, seconds=0),
        node("结束", NodeType.END, 1280, 160),
    ]
    c = Connection
    conns = [
        c(from_node="开始", to_node="获取用户"),
        c(from_node="获取用户", to_node="用户存在?"),
        c(from_node="用户存在?", to_node="并行获取", connection_type=ConnectionType.CONDITIONAL_TRUE),
        c(from_node="用户存在?", to_node="未找到", connection_type=ConnectionType.CONDITIONAL_FALSE),
        c(from_node="并行获取", to_node="订单", connection_type=ConnectionType.PARALLEL),
        c(from_node="并行获取", to_node="积分", connection_type=ConnectionType.PARALLEL),
        c(from_node="并行获取", to_node="通知", connection_type=ConnectionType.PARALLEL),
        c(from_node="并行获取", to_node="结束"),
        c(from_node="未找到", to_node="结束"),
    ]
    return WorkflowGraph(workflow=Workflow(name="用户概览"), nodes=nodes, connections=conns)


async def until(condition, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def scenario(window, server) -> None:
    ui = window.run_ui
    graph = window.backend.workflows.create_from_graph(example(server.url))
    window.browser.refresh()
    tab = window.open_workflow(graph.workflow.id)
    await asyncio.sleep(0.2)
    tab.fit_to_view()
    controller = ui.controller(tab)
    # a first run, so history has a row, then the one we photograph
    ui.log_view.level.setCurrentIndex(0)
    for user in (999, 3):
        window.action_run.trigger()
        ui.input_dialog.editor.setPlainText(f'{{"user_id": {user}}}')
        ui.input_dialog.accept()
        await until(
            lambda u=user: controller.live is not None and controller.live.input_data == {"user_id": u}
        )
        if user == 999:
            await until(lambda: controller.live.done)
    await until(lambda: {"订单", "积分", "通知"} <= set(controller.overlay.highlights))
    await asyncio.sleep(0.4)
    window.grab().save(str(ROOT / "docs" / "screenshot-running.png"))
    await until(lambda: controller.live.done)
    await asyncio.sleep(0.3)
    tab.doc.set_selection([tab.doc.node_by_name("获取用户").uid], [])
    ui.dock_data.raise_()  # the Run data tab beside the inspector
    await asyncio.sleep(0.2)
    ui.log_view.level.setCurrentIndex(1)
    window.grab().save(str(ROOT / "docs" / "screenshot-after-run.png"))
    tab.doc.set_selection([], [])
    await ui.aclose()


def main() -> None:
    from flowdesk.ui.app import application, build_window

    app = application()
    from flowdesk.ui.event_loop import SlicedEventLoop

    loop = SlicedEventLoop(app)  # the app's own loop
    asyncio.set_event_loop(loop)
    server = LocalHttpServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        # the real window (run UI, API library, monitor) in its default layout, as a first start shows it
        window = build_window(
            ["--db", str(Path(tmp) / "shots.db")], settings=settings, autosave_dir=Path(tmp) / "autosave"
        )
        backend = window.backend
        window.resize(1440, 900)
        window.show()
        try:
            loop.run_until_complete(scenario(window, server))
        finally:
            server.stop()
            window.close()
            backend.close()
    print("wrote docs/screenshot-running.png and docs/screenshot-after-run.png")


if __name__ == "__main__":
    main()
