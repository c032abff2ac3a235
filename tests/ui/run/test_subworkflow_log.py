"""The run log shows a SUBWORKFLOW's child run under the step that started it, indented: live, and
when the run is replayed from the history."""

from __future__ import annotations

import pytest

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from tests.support.app_driving import chain_graph, delay, open_graph, run_and_wait


def test_the_child_runs_steps_are_indented_under_the_parent_step(window, qtbot):
    window.backend.workflows.create_from_graph(chain_graph("inner", [delay("nap")]))
    call = Node(name="call", node_type="SUBWORKFLOW", config={"workflow": "inner"})
    tab = open_graph(window, chain_graph("outer", [call, delay("after")]))
    state = run_and_wait(qtbot, window, tab)
    assert state.status == "completed", state.error_message
    log = window.run_ui.log_view
    lines = log.lines()

    def at(text):
        return next(i for i, line in enumerate(lines) if text in line)

    assert at("sub-workflow run") < at("↳ start") < at("↳ nap") < at("↳ end") < at(" call ") < at(" after ")
    live = [e.node_text() for e in state.log if e.depth]
    assert live == ["  ↳ —", "  ↳ start", "  ↳ nap", "  ↳ end", "  ↳ —"]  # started, 3 steps, completed

    replayed = window.run_ui.controller(tab).replay(state.execution_id)
    again = [e.node_text() for e in replayed.log]
    call_line = again.index("call")
    assert again[call_line + 1 : call_line + 4] == ["  ↳ start", "  ↳ nap", "  ↳ end"]
    assert again[call_line + 4] == "after"


def test_the_history_counts_child_runs_and_names_a_childs_parent(window, qtbot):
    inner = window.backend.workflows.create_from_graph(chain_graph("inner", [delay("nap")]))
    calls = [Node(name=f"call{i}", node_type="SUBWORKFLOW", config={"workflow": "inner"}) for i in (1, 2)]
    tab = open_graph(window, chain_graph("outer", calls))
    state = run_and_wait(qtbot, window, tab)
    history = window.run_ui.history
    history.set_workflow(tab.doc.workflow_id)
    assert history.table.item(0, 4).text() == "2 child runs"
    history.set_workflow(inner.workflow.id)
    column = [history.table.item(r, 4).text() for r in range(history.table.rowCount())]
    assert column == [f"child of #{state.execution_id} (call2)", f"child of #{state.execution_id} (call1)"]


@pytest.mark.parametrize("calls_by", ["SUBWORKFLOW", "workflow: custom type"])
def test_f11_steps_into_the_child_run_in_its_tab_and_shift_f11_steps_out(window, qtbot, calls_by):
    from flowdesk.services.node_types import NodeTypeService
    from tests.support.app_driving import action, give_input

    def press(name, keys):
        found = action(window, name)
        assert found.shortcut().toString() == keys
        found.trigger()

    window.backend.workflows.create_from_graph(chain_graph("inner", [delay("nap")]))
    call = Node(name="call", node_type="SUBWORKFLOW", config={"workflow": "inner"})
    if calls_by != "SUBWORKFLOW":  # a node of a type whose handler is the workflow steps in alike
        NodeTypeService(window.backend.db).register_node_type("INNER", "", {}, "workflow:inner")
        window.reload_node_types()
        call = Node(name="call", node_type="INNER")
    tab = open_graph(window, chain_graph("outer", [call]))
    parent = window.run_ui.controller(tab)
    press("actionStep", "F10")  # step by step: asks for the input
    give_input(qtbot, window)
    qtbot.waitUntil(
        lambda: parent.paused and parent.handle is not None and parent.handle.current_step == "start"
    )
    press("actionStep", "F10")
    qtbot.waitUntil(lambda: parent.handle.current_step == "call" and parent.paused)

    press("actionStepInto", "F11")  # into the SUBWORKFLOW: the child's tab, paused
    qtbot.waitUntil(lambda: len(window.editor_tabs()) == 2 and window.current_tab() is not tab)
    child_tab = window.current_tab()
    child = window.run_ui.controller(child_tab)
    qtbot.waitUntil(lambda: child.handle is not None and child.paused)
    assert child.handle.parent_execution_id == parent.handle.id
    assert child.handle.current_step == "start"
    press("actionStep", "F10")  # steps the child, not the parent
    qtbot.waitUntil(lambda: child.handle.current_step == "nap" and child.paused)
    assert parent.handle.current_step == "call" and not parent.handle.done

    press("actionStepOut", "Shift+F11")  # out: the child runs to its end
    qtbot.waitUntil(lambda: child.handle.done and window.current_tab() is tab)
    qtbot.waitUntil(lambda: parent.paused and parent.handle.current_step == "end")
    assert child.handle.status == "completed"
    # The canvas state follows the engine's events through the Qt bridge, a moment after the handle.
    qtbot.waitUntil(lambda: parent.live.node("call").status == "success")


def test_a_loops_child_runs_replay_under_their_own_iteration(window, qtbot):
    """A LOOP whose body is a SUBWORKFLOW: replayed from the history (a click on its row), each
    child run's steps sit under the line of the iteration that started it, not all under the last."""
    from PySide6.QtCore import Qt

    from flowdesk.domain.enums import ConnectionType

    window.backend.workflows.create_from_graph(
        WorkflowGraph(
            workflow=Workflow(name="inner"),
            nodes=[
                Node(name="start", node_type="START"),
                Node(name="check", node_type="CONDITION", config={"condition": "{{input.n}} == 2"}),
                delay("two"),
                delay("other"),
                Node(name="end", node_type="END"),
            ],
            connections=[
                Connection(from_node="start", to_node="check"),
                Connection(from_node="check", to_node="two", connection_type=ConnectionType.CONDITIONAL_TRUE),
                Connection(
                    from_node="check", to_node="other", connection_type=ConnectionType.CONDITIONAL_FALSE
                ),
                Connection(from_node="two", to_node="end"),
                Connection(from_node="other", to_node="end"),
            ],
        )
    )
    outer = WorkflowGraph(
        workflow=Workflow(name="outer"),
        nodes=[
            Node(name="start", node_type="START"),
            Node(name="each", node_type="LOOP", config={"items": [1, 2, 3]}),
            Node(
                name="call",
                node_type="SUBWORKFLOW",
                config={"workflow": "inner", "input": {"n": "{{loop.item}}"}},
            ),
            Node(name="end", node_type="END"),
        ],
        connections=[
            Connection(from_node="start", to_node="each"),
            Connection(from_node="each", to_node="call", connection_type=ConnectionType.LOOP),
            Connection(from_node="call", to_node="each"),
            Connection(from_node="each", to_node="end"),
        ],
    )
    tab = open_graph(window, outer)
    state = run_and_wait(qtbot, window, tab)
    assert state.status == "completed", state.error_message
    history = window.run_ui.history
    history.set_workflow(tab.doc.workflow_id)
    table = history.table
    controller = window.run_ui.controller(tab)
    with qtbot.waitSignal(controller.state_changed):
        qtbot.mouseClick(
            table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(0, 0)).center()
        )
    assert controller.state is not state and not controller.state.live  # read back from the database
    shown = [line.split()[2:5] for line in window.run_ui.log_view.lines()]
    calls = [i for i, words in enumerate(shown) if words[0] == "call"]
    assert len(calls) == 3
    # Under each iteration's line, its own child's five steps; the second child (item 2) took `two`.
    for iteration, at in enumerate(calls):
        taken = "two" if iteration == 1 else "other"
        skipped = "other" if iteration == 1 else "two"
        assert shown[at + 1 : at + 6] == [
            ["↳", "start", "success"],
            ["↳", "check", "success"],
            ["↳", skipped, "skipped"],
            ["↳", taken, "success"],
            ["↳", "end", "success"],
        ]
