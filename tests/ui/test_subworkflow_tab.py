"""Double-clicking a SUBWORKFLOW node opens the workflow it calls in a tab of its own."""

from __future__ import annotations

from flowdesk.domain.models import Connection, Node, Workflow, WorkflowGraph
from tests.support.app_driving import click_node


def _graph(name, middle):
    nodes = [Node(name="start", node_type="START", position_x=0, position_y=0), *middle,
             Node(name="end", node_type="END", position_x=600, position_y=0)]  # fmt: skip
    names = [n.name for n in nodes]
    connections = [Connection(from_node=a, to_node=b) for a, b in zip(names, names[1:], strict=False)]
    return WorkflowGraph(workflow=Workflow(name=name), nodes=nodes, connections=connections)


def test_double_click_on_a_subworkflow_node_opens_the_child_in_a_tab(window, qtbot):
    child = window.backend.workflows.create_from_graph(_graph("child", []))
    calls = [
        Node(
            name="call", node_type="SUBWORKFLOW", config={"workflow": "child"}, position_x=200, position_y=0
        ),
        Node(name="lost", node_type="SUBWORKFLOW", config={"workflow": "gone"}, position_x=400, position_y=0),
    ]
    parent = window.backend.workflows.create_from_graph(_graph("parent", calls))
    tab = window.open_workflow(parent.workflow.id)
    tab.fit_to_view()
    assert len(window.editor_tabs()) == 1

    click_node(qtbot, tab, "call", double=True)
    qtbot.waitUntil(lambda: len(window.editor_tabs()) == 2)
    assert window.current_tab().workflow_id == child.workflow.id

    window.tabs.setCurrentWidget(tab)
    click_node(qtbot, tab, "start", double=True)  # another node type opens nothing
    click_node(qtbot, tab, "lost", double=True)
    assert len(window.editor_tabs()) == 2 and window.current_tab() is tab
    assert "'lost' calls a workflow that cannot be opened: No workflow has the id or name 'gone'." in (
        window.statusBar().currentMessage()
    )


def test_export_from_the_app_carries_the_workflows_it_calls(window, tmp_path, monkeypatch):
    """File > Export writes the same self-contained file as `flowdesk export` (format 2)."""
    import json

    from PySide6.QtWidgets import QFileDialog

    window.backend.workflows.create_from_graph(_graph("child", []))
    calls = [
        Node(name="call", node_type="SUBWORKFLOW", config={"workflow": "child"}, position_x=200, position_y=0)
    ]
    parent = window.backend.workflows.create_from_graph(_graph("parent", calls))
    window.open_workflow(parent.workflow.id)
    out = tmp_path / "parent.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.action_export.trigger()

    written = out.read_text(encoding="utf-8")
    assert [w["workflow"]["name"] for w in json.loads(written)["workflows"]] == ["child"]
    assert written == window.backend.transfer.export_workflow(parent.workflow.id)
