"""Warnings of a step (an unresolved reference) are shown: the log dock at WARNING level, a mark on
the node's badge, the Run data panel, and again when the execution is replayed from history."""

from __future__ import annotations

from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import Node
from tests.support.app_driving import chain_graph, open_graph, run_and_wait


def _graph():
    graph = chain_graph("warned", [])
    end = next(n for n in graph.nodes if n.node_type == NodeType.END)
    graph.nodes[graph.nodes.index(end)] = Node(
        name="end",
        node_type=NodeType.END,
        config={"output": {"url": "{{input.base_url}}"}},
        position_x=end.position_x,
        position_y=end.position_y,
    )
    return graph


def test_unresolved_reference_shows_in_log_badge_and_run_data(window, qtbot):
    tab = open_graph(window, _graph())
    state = run_and_wait(qtbot, window, tab, "{}")
    assert state.status == "completed"
    assert state.nodes["end"].warnings == ["unresolved reference 'input.base_url'"]

    log = window.run_ui.log_view
    log.level.setCurrentIndex(2)  # "Warnings and errors"
    lines = log.lines()
    assert len(lines) == 1, lines
    assert (
        "WARNING" in lines[0] and " end " in lines[0] and "unresolved reference 'input.base_url'" in lines[0]
    )
    log.level.setCurrentIndex(3)  # errors only: the warning is filtered out
    assert log.lines() == []

    overlay = window.run_ui.controller(tab).overlay
    assert overlay.badges["end"].text.endswith("⚠ 1")
    assert "input.base_url" in overlay.badges["end"].toolTip()
    assert "⚠" not in overlay.badges["start"].text

    tab.doc.set_selection([tab.doc.node_by_name("end").uid], [])
    inspector = window.run_ui.data_inspector
    assert inspector.node_name == "end"
    assert not inspector.warnings.isHidden()
    assert "unresolved reference 'input.base_url'" in inspector.warnings.text()
    tab.doc.set_selection([tab.doc.node_by_name("start").uid], [])
    assert inspector.warnings.isHidden()


def test_replayed_execution_shows_its_warnings(window, qtbot):
    tab = open_graph(window, _graph())
    first = run_and_wait(qtbot, window, tab, "{}")
    run_and_wait(qtbot, window, tab, '{"base_url": "http://127.0.0.1:1"}')
    controller = window.run_ui.controller(tab)
    assert "⚠" not in controller.overlay.badges["end"].text  # the second run resolved it
    assert window.run_ui.history.select_execution(first.execution_id)
    replay = controller.state
    assert not replay.live and replay.nodes["end"].warnings == ["unresolved reference 'input.base_url'"]
    assert controller.overlay.badges["end"].text.endswith("⚠ 1")
    log = window.run_ui.log_view
    log.level.setCurrentIndex(2)
    assert any("WARNING" in line and "input.base_url" in line for line in log.lines())
