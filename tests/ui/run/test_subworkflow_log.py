"""The run log shows a SUBWORKFLOW's child run under the step that started it, indented: live, and
when the run is replayed from the history."""

from __future__ import annotations

import pytest

from flowdesk.domain.models import Node
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
