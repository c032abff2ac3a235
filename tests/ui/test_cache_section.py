"""The API_CALL form's Cache section, driven like a user: open it, type a TTL, tick "keep across
runs", list the varying headers; the node's config follows as one undoable edit each, a TTL of 0
hands the call back to its API's cache, and the section's title says what is set."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from flowdesk.domain.enums import NodeType
from flowdesk.domain.models import ApiDefinition, Node, Workflow, WorkflowGraph


def _open_call(window, config):
    graph = WorkflowGraph(
        workflow=Workflow(name="cached"),
        nodes=[Node(name="call", node_type=NodeType.API_CALL, config=config)],
        connections=[],
    )
    tab = window.open_workflow(window.backend.workflows.create_from_graph(graph).workflow.id)
    QApplication.processEvents()
    node = tab.doc.node_by_name("call")
    tab.doc.set_selection([node.uid])
    window.inspector.refresh()
    return tab, node, window.inspector.node_page.form


def _type(qtbot, edit, text: str) -> None:
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_the_cache_section_writes_the_nodes_cache_option(window, qtbot):
    tab, node, form = _open_call(window, {"method": "GET", "url": "http://127.0.0.1/x"})
    section = form.sections["cache"]
    assert section.toggle.text() == "Cache" and form.cache.isHidden()
    qtbot.mouseClick(section.toggle, Qt.MouseButton.LeftButton)
    assert form.cache.isVisible()

    def config():
        return tab.doc.node(node.uid).config

    _type(qtbot, form.cache.ttl.lineEdit(), "90")
    qtbot.waitUntil(lambda: config().get("cache") == {"ttl": 90})
    form = window.inspector.node_page.form
    qtbot.mouseClick(form.cache.persist, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: config().get("cache") == {"ttl": 90, "persist": True})
    form = window.inspector.node_page.form
    _type(qtbot, form.cache.vary, "Accept-Language, X-Tenant")
    qtbot.waitUntil(lambda: config()["cache"].get("vary") == ["Accept-Language", "X-Tenant"])
    qtbot.waitUntil(  # the inspector reloads the form after the edit
        lambda: (
            window.inspector.node_page.form.sections["cache"].toggle.text()
            == "Cache — 90 s, kept across runs"
        )
    )

    tab.doc.undo_stack.undo()
    assert config()["cache"] == {"ttl": 90, "persist": True}
    form = window.inspector.node_page.form
    _type(qtbot, form.cache.ttl.lineEdit(), "0")
    qtbot.waitUntil(lambda: "cache" not in config())


def test_a_call_of_a_cached_api_says_it_uses_the_apis_cache(window, qtbot):
    api = window.backend.apis.create_api(
        ApiDefinition(name="users", url="http://127.0.0.1:1/users", cache={"ttl": 60})
    )
    assert window.backend.apis.get_api(api.id).cache == {"ttl": 60}  # stored with the definition
    _tab, _node, form = _open_call(window, {"api_id": api.id})
    assert form.sections["cache"].toggle.text() == "Cache — the API's own"
    assert form.cache.ttl.text() == "the API's"
