"""File > Node types…: custom node types added, edited and deleted from a form, driven like a user
(clicks and typing); the palette follows."""

from __future__ import annotations

from PySide6.QtCore import Qt

from flowdesk.services.node_types import NodeTypeService
from flowdesk.ui.node_types_dialog import NodeTypesDialog
from tests.support.canvas_driving import sample_graph


def _open(window) -> NodeTypesDialog:
    window.action_node_types.trigger()
    dialog = window.findChild(NodeTypesDialog, "nodeTypesDialog")
    assert dialog is not None and dialog.isVisible()
    return dialog


def _type(qtbot, widget, text):
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def _click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _palette_types(window) -> list[str]:
    return [item.data(Qt.ItemDataRole.UserRole) for item in window.node_palette.type_items()]


def test_a_type_is_added_from_the_form_and_appears_in_the_list_and_the_palette(window, backend, qtbot):
    dialog = _open(window)
    assert dialog.type_names() == [] and not dialog.name.isReadOnly()

    _type(qtbot, dialog.name, "CREATE_TICKET")
    _type(qtbot, dialog.description, "Files a ticket")
    dialog.schema.selectAll()
    _type(qtbot, dialog.schema, '{"title": "Create ticket", "properties": {"summary": {"type": "string"}}}')
    _type(qtbot, dialog.handler, "api:Tickets")
    _click(qtbot, dialog.save_button)

    assert dialog.type_names() == ["CREATE_TICKET"]
    # Saved although no API definition is called Tickets yet; the form says what a run would say.
    assert dialog.message.text().startswith("Saved 'CREATE_TICKET'. It cannot run yet: node type ")
    assert "its handler 'api:Tickets' names no API definition" in dialog.message.text()
    stored = NodeTypeService(backend.db).get_node_type("CREATE_TICKET")
    assert stored.description == "Files a ticket" and stored.execution_handler == "api:Tickets"
    assert stored.config_schema["properties"] == {"summary": {"type": "string"}}
    assert "CREATE_TICKET" in _palette_types(window)


def test_editing_a_type_keeps_its_name_and_a_bad_schema_is_refused_in_one_sentence(window, backend, qtbot):
    NodeTypeService(backend.db).register_node_type("SHOUT", "old", {"text": "string"})
    dialog = _open(window)
    assert dialog.list.currentItem().text() == "SHOUT" and dialog.name.isReadOnly()
    assert dialog.description.text() == "old"

    dialog.schema.selectAll()
    _type(qtbot, dialog.schema, '{"text": "string",')
    _click(qtbot, dialog.save_button)
    assert dialog.message.text().startswith("The config schema is not valid JSON: line 1, column 19")
    assert NodeTypeService(backend.db).get_node_type("SHOUT").config_schema == {"text": "string"}

    dialog.schema.selectAll()
    _type(qtbot, dialog.schema, '{"text": "txt"}')
    _click(qtbot, dialog.save_button)
    assert dialog.message.text().startswith("Node type 'SHOUT': config_schema.text: 'txt' is not a type")

    dialog.schema.selectAll()
    _type(qtbot, dialog.schema, '{"text": "string", "times": "integer"}')
    dialog.description.selectAll()
    _type(qtbot, dialog.description, "louder")
    dialog.handler.clear()
    _type(qtbot, dialog.handler, "tests.support.node_handlers:shout")
    _click(qtbot, dialog.save_button)
    assert dialog.message.text() == "Saved 'SHOUT'."
    stored = NodeTypeService(backend.db).get_node_type("SHOUT")
    assert stored.description == "louder" and stored.config_schema == {"text": "string", "times": "integer"}


def test_delete_removes_an_unused_type_and_refuses_one_a_node_uses(window, backend, qtbot):
    service = NodeTypeService(backend.db)
    service.register_node_type("UNUSED")
    service.register_node_type("USED")
    graph = sample_graph("uses a custom type")
    graph.nodes[2].node_type = "USED"
    graph.nodes[2].config = {}
    backend.workflows.create_from_graph(graph)
    window.reload_node_types()
    assert {"UNUSED", "USED"} <= set(_palette_types(window))
    dialog = _open(window)

    dialog.list.setCurrentItem(dialog.list.findItems("USED", Qt.MatchFlag.MatchExactly)[0])
    _click(qtbot, dialog.delete_button)
    assert dialog.message.text() == "Node type 'USED' is used by 1 node(s) and cannot be removed."

    dialog.list.setCurrentItem(dialog.list.findItems("UNUSED", Qt.MatchFlag.MatchExactly)[0])
    _click(qtbot, dialog.delete_button)
    assert dialog.message.text() == "Deleted 'UNUSED'."
    assert dialog.type_names() == ["USED"]
    assert "UNUSED" not in _palette_types(window) and "USED" in _palette_types(window)

    _click(qtbot, dialog.new_button)
    assert dialog.name.text() == "" and not dialog.name.isReadOnly() and not dialog.delete_button.isEnabled()
