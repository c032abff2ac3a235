"""The run log's columns line up whatever the node names are (CJK, emoji, combining marks, ASCII),
a long name is elided in its column instead of pushing the others, and copied lines stay aligned
in a monospace editor (pytest-qt, offscreen; real RunState fed with engine events, and a real run)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QApplication

from flowdesk.engine import events as ev
from flowdesk.text_width import display_width
from flowdesk.ui.run.log_dock import LogModel, LogView
from flowdesk.ui.run.run_state import RunState
from tests.support.app_driving import chain_graph, delay, open_graph, run_and_wait
from tests.support.drawn_text import drawn_text as drawn_cell_text
from tests.support.waiting import EVENTUALLY_MS

MIXED_NAMES = ["login", "登录", "获取用户", "API 调用", "🚀 deploy", "cafe\u0301 crème", "x", "ｆｕｌｌ"]
LONG_NAME = "获取用户的全部订单并同步到仓库系统_" + "fetch_every_order_and_sync_it" * 2
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def node_events(names: list[str], t0: float = T0, *, failed: str | None = None) -> list[ev.EngineEvent]:
    """A started and a finished event per node, one second apart."""
    events: list[ev.EngineEvent] = []
    for i, name in enumerate(names):
        t = t0 + i
        events.append(ev.NodeStarted(1, t, node_name=name, node_type="DELAY", step_name=name))
        status = "failed" if name == failed else "success"
        events.append(
            ev.NodeFinished(
                1,
                t + 0.25,
                node_name=name,
                node_type="DELAY",
                step_name=name,
                status=status,
                error="boom" if status == "failed" else None,
                attempts=1,
                duration=0.012 * (i + 1),
            )
        )
    return events


def run_state(names: list[str]) -> RunState:
    """A live RunState of a graph with these nodes (as the run controller makes it)."""
    return RunState(1, {name: [] for name in names}, len(names))


def shown_log(qtbot, state: RunState) -> LogView:
    log = LogView()
    qtbot.addWidget(log)
    log.resize(1100, 360)
    log.show()
    qtbot.waitExposed(log)
    log.level.setCurrentIndex(0)  # debug and up: the `started` lines too
    log.show_state(state)
    return log


def column_starts(log: LogView) -> list[list[int]]:
    """For each row, the x where each column's cell starts in the viewport."""
    model, view = log.model, log.view
    header = getattr(view, "horizontalHeader", None)
    assert header is not None, "the log is a list of text lines padded with spaces, without columns"
    columns = header().count()
    assert columns == len(LogModel.COLUMNS)
    return [
        [view.visualRect(model.index(row, col)).left() for col in range(columns)]
        for row in range(model.rowCount())
    ]


def drawn_text(log: LogView, row: int, column: int) -> tuple[str, str, int]:
    """(full text, text as drawn, room in px) of a cell of the log."""
    return drawn_cell_text(log.view, log.model.index(row, column))


def test_columns_start_at_the_same_x_on_every_row_for_cjk_emoji_and_ascii_names(qtbot):
    state = run_state(MIXED_NAMES)
    log = shown_log(qtbot, state)
    state.apply(node_events(MIXED_NAMES, failed="获取用户"))
    assert log.model.rowCount() == 2 * len(MIXED_NAMES)
    starts = column_starts(log)
    assert all(row == starts[0] for row in starts), starts
    header = log.view.horizontalHeader()
    assert starts[0] == [header.sectionViewportPosition(c) for c in range(log.model.columnCount())]
    assert starts[0] == sorted(set(starts[0]))  # every column has room of its own
    # the node column fits every one of these names: none is elided
    for row in range(log.model.rowCount()):
        full, shown, room = drawn_text(log, row, LogModel.NODE)
        assert full in MIXED_NAMES and shown == full, (full, shown, room)
    # each field is in its own column, whole
    first = [log.model.index(1, c).data() for c in range(log.model.columnCount())]
    assert first[LogModel.LEVEL] == "INFO" and first[LogModel.NODE] == "login"
    assert first[LogModel.STATUS] == "success" and first[LogModel.DURATION].strip() == "12 ms"


def test_a_long_name_is_elided_in_its_column_and_the_others_stay_put(qtbot):
    state = run_state([*MIXED_NAMES, LONG_NAME])
    log = shown_log(qtbot, state)
    state.apply(node_events(MIXED_NAMES))
    before = column_starts(log)[0]
    state.apply(node_events([LONG_NAME], T0 + 100))
    starts = column_starts(log)
    assert all(row == before for row in starts), "a long name moved the columns"
    last = log.model.rowCount() - 1
    full, shown, room = drawn_text(log, last, LogModel.NODE)
    assert full == LONG_NAME
    assert QFontMetrics(log.view.font()).horizontalAdvance(LONG_NAME) > room
    assert shown != LONG_NAME and shown.endswith("…") and shown[:-1] in LONG_NAME
    assert log.model.index(last, LogModel.NODE).data(Qt.ItemDataRole.ToolTipRole) == LONG_NAME
    # the status after it is drawn whole in its own column
    assert drawn_text(log, last, LogModel.STATUS)[1] == "success"


def test_copied_lines_line_up_in_a_monospace_editor_and_keep_whole_names(qtbot):
    state = run_state([*MIXED_NAMES, LONG_NAME])
    log = shown_log(qtbot, state)
    state.apply(node_events([*MIXED_NAMES, LONG_NAME], failed="API 调用"))
    log.view.selectAll()
    log.windowHandle().requestActivate()  # the Ctrl+C shortcut only fires in the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is log, timeout=EVENTUALLY_MS)
    log.view.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(log.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    assert text == log.copy() == "\n".join(log.lines())
    lines = text.split("\n")
    assert len(lines) == log.model.rowCount()
    entries = log.model.rows
    # the status field starts at the same terminal column on every line (the long name's own
    # line excepted: it is copied whole rather than cut)
    columns = {}
    for line, entry in zip(lines, entries, strict=True):
        if entry.node == LONG_NAME:
            continue
        head = line[: line.index(entry.node) + len(entry.node)]
        rest = line[len(head) :]
        assert rest.lstrip(" ").startswith(entry.status), line
        columns[entry.node] = display_width(head) + len(rest) - len(rest.lstrip(" "))
    assert len(set(columns.values())) == 1, columns
    long_lines = [line for line, entry in zip(lines, entries, strict=True) if entry.node == LONG_NAME]
    assert long_lines and all(LONG_NAME in line for line in long_lines), "a name was cut in the copy"


def test_a_real_run_with_cjk_names_lines_up(window, qtbot):
    names = ["登录", "fetch", "获取用户", "API 调用", "✅ 完成"]
    tab = open_graph(window, chain_graph("混合", [delay(n) for n in names]))
    state = run_and_wait(qtbot, window, tab)
    assert state.status == "completed"
    log = window.run_ui.log_view
    qtbot.waitUntil(lambda: log.model.rowCount() >= len(names) + 2, timeout=EVENTUALLY_MS)
    shown = {log.model.index(r, LogModel.NODE).data() for r in range(log.model.rowCount())}
    assert set(names) <= shown
    starts = column_starts(log)
    assert all(row == starts[0] for row in starts), starts
