"""The API_CALL form's parameters table: choosing a library API adds its declared parameters, each
showing where it goes, a bold name and asterisk when required, its description as a tooltip, and a
hint naming the required parameters left without a value."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import ApiDefinition, ApiParameter, Node, Workflow, WorkflowGraph


def open_api_call_workflow(window):
    graph = WorkflowGraph(
        workflow=Workflow(name="params"),
        nodes=[
            Node(
                name="call",
                node_type=NodeType.API_CALL,
                config={"method": "GET", "url": "http://127.0.0.1/x"},
            )
        ],
        connections=[],
    )
    created = window.backend.workflows.create_from_graph(graph)
    tab = window.open_workflow(created.workflow.id)
    QApplication.processEvents()
    return tab


def rows(table) -> list[tuple[str, str, str, bool]]:
    return [
        (
            table.item(r, 0).text(),
            table.item(r, 1).text(),
            table.item(r, 2).text(),
            table.item(r, 0).font().bold(),
        )
        for r in range(table.rowCount())
    ]


def test_choosing_an_api_offers_its_parameters_and_flags_empty_required_ones(window, qtbot):
    api = window.backend.apis.create_api(
        ApiDefinition(
            name="Get user",
            method="GET",
            url="http://127.0.0.1:1/users/{{params.user_id}}",
            parameters=[
                ApiParameter(
                    name="user_id",
                    location="path",
                    required=True,
                    type="integer",
                    description="The user's id",
                ),
                ApiParameter(name="fields", location="query", description="Comma-separated fields to return"),
                ApiParameter(name="X-Trace", location="header", required=True, description="Trace id"),
            ],
        )
    )
    tab = open_api_call_workflow(window)
    node = tab.doc.node_by_name("call")
    tab.doc.set_selection([node.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    assert form.params_hint.isHidden()  # an inline request declares nothing

    index = form.api.findData(api.id)
    assert index > 0
    form.api.setCurrentIndex(index)
    form.api.activated.emit(index)
    QApplication.processEvents()
    assert tab.doc.node(node.uid).config["parameters"] == {"user_id": "", "fields": "", "X-Trace": ""}
    form = window.inspector.node_page.form
    table = form.parameters
    assert rows(table) == [
        ("user_id", "path *", "", True),
        ("fields", "query", "", False),
        ("X-Trace", "header *", "", True),
    ]
    assert table.item(0, 0).toolTip() == "user_id (integer, path, required): The user's id"
    assert table.item(1, 2).toolTip() == "fields (string, query, optional): Comma-separated fields to return"
    assert not form.params_hint.isHidden()
    assert form.params_hint.text() == "Required parameters 'user_id', 'X-Trace' have no value."

    # filling one required value narrows the hint and reaches the node's config (one undo step)
    table.item(0, 2).setText("{{input.id}}")
    QApplication.processEvents()
    assert tab.doc.node(node.uid).config["parameters"]["user_id"] == "{{input.id}}"
    form = window.inspector.node_page.form
    assert form.params_hint.text() == "Required parameter 'X-Trace' has no value."
    form.parameters.item(2, 2).setText("abc")
    QApplication.processEvents()
    form = window.inspector.node_page.form
    assert form.params_hint.isHidden() and form.params_hint.text() == ""

    # a parameter the API does not declare has no location and says so
    add = next(b for b in form.parameter_rows.findChildren(QPushButton) if b.text() == "Add parameter")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    form = window.inspector.node_page.form
    last = form.parameters.rowCount() - 1
    assert form.parameters.item(last, 0).text() == "param"
    assert form.parameters.item(last, 1).text() == ""
    assert form.parameters.item(last, 0).toolTip() == "Not declared by the API"

    # back to an inline request: nothing declared, no hint even with empty values
    form.api.setCurrentIndex(0)
    form.api.activated.emit(0)
    QApplication.processEvents()
    form = window.inspector.node_page.form
    assert "api_id" not in tab.doc.node(node.uid).config
    assert form.params_hint.isHidden()
    assert all(form.parameters.item(r, 1).text() == "" for r in range(form.parameters.rowCount()))


def test_the_headers_table_adds_edits_and_removes_rows_of_the_nodes_headers(window, qtbot):
    tab = open_api_call_workflow(window)
    node = tab.doc.node_by_name("call")
    tab.doc.set_selection([node.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    form.sections["headers"].set_open(True)

    def click(text: str) -> None:
        editor = window.inspector.node_page.form.headers
        button = next(b for b in editor.findChildren(QPushButton) if b.text() == text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def headers():
        return tab.doc.node(node.uid).config.get("headers")

    click("Add")
    qtbot.waitUntil(lambda: headers() == {"name": ""})
    table = window.inspector.node_page.form.headers.table
    assert (table.horizontalHeaderItem(0).text(), table.columnCount()) == ("Header", 2)
    table.item(0, 1).setText("Bearer {{env.token}}")
    qtbot.waitUntil(lambda: headers() == {"name": "Bearer {{env.token}}"})
    click("Add")  # a second row gets a name not taken yet
    qtbot.waitUntil(lambda: headers() == {"name": "Bearer {{env.token}}", "name2": ""})
    qtbot.waitUntil(
        lambda: window.inspector.node_page.form.sections["headers"].toggle.text() == "Headers — 2 set"
    )

    table = window.inspector.node_page.form.headers.table
    table.setCurrentCell(0, 0)
    click("Remove")
    qtbot.waitUntil(lambda: headers() == {"name2": ""})
    click("Remove")  # the last row goes; an empty table leaves no headers at all
    qtbot.waitUntil(lambda: not headers())
