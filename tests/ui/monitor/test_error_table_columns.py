"""The monitor's error-types table and its drill-down keep their message column usable at 1440 and
1024 px wide, standalone and inside the main window: the message stretches over what the other
columns leave, at least a third of the table, never behind a horizontal scroll bar; long names
give way and elide; long messages elide with the whole text in the tooltip.

The failures come from real runs (headless engine, the local test HTTP server, a port nobody
listens on) of a workflow whose node names are long, in CJK and in ASCII.
"""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import QSettings

import flowdesk.ui  # noqa: F401  (the None refcount guard before any painting)
from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from flowdesk.engine.headless import run_workflow
from flowdesk.services.monitoring import MonitorQueries
from flowdesk.ui.monitor import MonitorView
from flowdesk.ui.monitor.hosting import MONITOR_MIN_WIDTH
from flowdesk.ui.monitor.message_table import shrink_to_fit
from tests.support.app_driving import close_window, make_window, open_monitor
from tests.support.drawn_text import drawn_text
from tests.support.waiting import EVENTUALLY_MS

SYNC = "同步用户资料到仓库系统并通知客户"
FETCH = "fetch_customer_orders_from_the_shop_backend"
QUERY = "?customer=4711&include=orders,addresses,payment_methods,preferences&page_size=200"
SIZES = [(1440, 900), (1024, 700)]


def closed_port() -> int:
    """A local port with nobody listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sync_graph() -> WorkflowGraph:
    """start -> SYNC (GET {{input.first}}) -> FETCH (GET {{input.second}}) -> end, 0.5 s timeouts."""
    nodes = [Node(name="start", node_type=NodeType.START, position_x=0, position_y=0)]
    for i, (name, key) in enumerate(((SYNC, "first"), (FETCH, "second")), start=1):
        config = {"method": "GET", "url": f"{{{{input.{key}}}}}", "timeout": 0.5}
        nodes.append(Node(name=name, node_type=NodeType.API_CALL, config=config, position_x=300 * i))
    nodes.append(Node(name="end", node_type=NodeType.END, position_x=900, position_y=0))
    pairs = [("start", SYNC), (SYNC, FETCH), (FETCH, "end")]
    return WorkflowGraph(
        workflow=Workflow(name="customer sync"),
        nodes=nodes,
        connections=[Connection(from_node=a, to_node=b) for a, b in pairs],
    )


def run_failures(db, workflow_id: int, base: str) -> None:
    """Four runs, each failing differently: 503 and connection refused at SYNC, 404 and a
    timeout at FETCH."""
    ok = f"{base}/json"
    inputs = [
        {"first": f"{base}/status/503{QUERY}", "second": ok},
        {"first": f"http://127.0.0.1:{closed_port()}/customers/4711{QUERY}", "second": ok},
        {"first": ok, "second": f"{base}/status/404{QUERY}"},
        {"first": ok, "second": f"{base}/delay/3{QUERY}"},
    ]
    for data in inputs:
        assert run_workflow(db, workflow_id, data).status == "failed"


def assert_message_column_usable(table, fixed: list[int]) -> None:
    """The last column starts and ends inside the viewport, takes at least a third of it, and
    nothing needs a horizontal scroll; the `fixed` columns (counts, times) are whole; every
    elided cell carries its whole text in the tooltip, and the long messages are elided."""
    header = table.horizontalHeader()
    last = table.columnCount() - 1
    room = table.viewport().width()
    left, width = header.sectionViewportPosition(last), header.sectionSize(last)
    widths = [header.sectionSize(c) for c in range(table.columnCount())]
    assert table.horizontalScrollBar().maximum() == 0, f"scrolls sideways: {widths} in {room} px"
    assert 0 <= left and left + width <= room, f"message column at {left}+{width} of {room} px: {widths}"
    assert width >= room / 3, f"message column {width} of {room} px: {widths}"
    elided = set()
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            full, shown, _room = drawn_text(table, table.model().index(row, column))
            if shown != full:
                elided.add(column)
                assert table.item(row, column).toolTip() == full, f"{full!r} is elided without a tooltip"
    assert last in elided  # the long messages do not fit: they elide
    assert not elided & set(fixed), f"fixed columns cut: {elided}"
    for column in fixed:
        assert header.sectionSize(column) >= table.sizeHintForColumn(column), (column, widths)


@pytest.fixture
def failures(db, http_server):
    from flowdesk.services import WorkflowService

    graph = WorkflowService(db).create_from_graph(sync_graph())
    run_failures(db, graph.workflow.id, http_server.url)
    return graph.workflow.id


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_standalone_monitor_keeps_the_message_columns_usable(qtbot, db, failures, size):
    view = MonitorView(MonitorQueries(db), failures, period=1)
    qtbot.addWidget(view)
    view.resize(*size)
    with qtbot.waitSignal(view.loaded, timeout=EVENTUALLY_MS):
        view.show()
    table = view.errors_table
    assert table.rowCount() == 4
    by_node = {table.item(r, 1).text() for r in range(4)}
    assert by_node == {SYNC, FETCH}
    assert {table.item(r, 0).text() for r in range(4)} == {
        "http_503",
        "connection_error",
        "http_404",
        "timeout",
    }
    assert_message_column_usable(table, fixed=[2, 3])  # count, last seen
    sample = next(table.item(r, 4) for r in range(4) if table.item(r, 0).text() == "http_503")
    assert sample.toolTip().startswith("GET http://127.0.0.1:") and sample.toolTip().endswith(
        "503 Service Unavailable"
    )
    assert QUERY in sample.toolTip()
    # the drill-down's error column likewise
    with qtbot.waitSignal(view.drillDownLoaded, timeout=EVENTUALLY_MS):
        table.selectRow(0)
    assert view.runs_table.rowCount() == 1
    assert_message_column_usable(view.runs_table, fixed=[0, 1, 2])  # run, status, started


@pytest.fixture
def backend(tmp_path):
    from flowdesk.ui.backend import EditorBackend

    b = EditorBackend(tmp_path / "monitor-columns.db")
    yield b
    b.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_monitor_page_in_the_window_keeps_the_message_column_usable(
    qtbot, backend, tmp_path, http_server, size
):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    graph = backend.workflows.create_from_graph(sync_graph())
    run_failures(backend.db, graph.workflow.id, http_server.url)
    window = make_window(qtbot, backend, settings, tmp_path)
    try:
        window.resize(*size)
        window.browser.refresh()
        window.open_workflow(graph.workflow.id)
        view = open_monitor(qtbot, window)
        host = window.monitor_host
        qtbot.waitUntil(lambda: host.dock_monitor.width() >= MONITOR_MIN_WIDTH, timeout=EVENTUALLY_MS)
        qtbot.waitUntil(lambda: view.errors_table.rowCount() == 4, timeout=EVENTUALLY_MS)
        assert_message_column_usable(view.errors_table, fixed=[2, 3])
    finally:
        close_window(window)


def test_shrink_to_fit_cuts_the_widest_elastic_columns_first_down_to_their_floors():
    floors = {0: 63, 1: 63}
    # enough room: natural widths
    assert shrink_to_fit([200, 100, 56, 115], floors, 1000) == [200, 100, 56, 115]
    # 71 px too many: the wider name column alone gives them back
    assert shrink_to_fit([200, 100, 56, 115], floors, 400) == [129, 100, 56, 115]
    # more: both names are cut to a common width
    assert shrink_to_fit([200, 100, 56, 115], floors, 330) == [79, 79, 56, 115]
    # never below a floor, and never the other columns: then it stays too wide
    assert shrink_to_fit([200, 100, 56, 115], floors, 200) == [63, 63, 56, 115]
    assert shrink_to_fit([200, 100, 56, 115], {0: 85, 1: 40}, 300) == [85, 44, 56, 115]
    # a column narrower than its floor keeps its width
    assert shrink_to_fit([85, 51, 56, 115], floors, 243) == [63, 51, 56, 115]
