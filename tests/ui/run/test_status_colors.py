"""One status colour table for the whole app: the canvas badge of a finished run's step and the
monitor's colour for the same status are the same colour (they were two greens)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from flowdesk.ui.monitor.status_colors import status_color as monitor_color
from flowdesk.ui.status_colors import STATUS_COLORS, status_color
from tests.support.app_driving import branch_graph, open_graph


def test_a_run_paints_its_badges_in_the_monitors_colours(window, qtbot, http_server):
    tab = open_graph(window, branch_graph("colours", http_server.url))
    controller = window.run_ui.controller(tab)
    window.findChild(QAction, "actionRun").trigger()
    with qtbot.waitSignal(controller.run_finished, timeout=15_000):
        dialog = window.run_ui.input_dialog
        dialog.editor.setPlainText('{"x": 5}')
        qtbot.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    badges = controller.overlay.badges
    assert badges["fetch"].color == monitor_color("success") == monitor_color("completed")
    assert badges["wait"].color == monitor_color("skipped")
    assert badges["fetch"].color != badges["wait"].color
    history = window.run_ui.history.table
    assert history.item(0, 1).foreground().color() == monitor_color("completed")


def test_unknown_statuses_are_grey_and_copies_do_not_change_the_table():
    colour = status_color("no such status")
    assert colour.name() == "#8a94a3"
    mine = status_color("failed")
    mine.setRed(0)
    assert STATUS_COLORS["failed"].name() == "#d93025"
