"""A custom node type registered in the database, seen in the editor through its descriptor alone:
the palette's category, label, icon and colour, the canvas look, the new node's defaults, the
inspector's form built from its config schema, and live validation enforcing that schema."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit

from flowdesk.services import NodeTypeService
from tests.support.canvas_driving import drop_from_palette, open_sample_at_zoom_1, palette_rows, view_pos

TICKET_SCHEMA = {
    "type": "object",
    "title": "Create ticket",
    "x-icon": "✉",
    "x-color": "#336699",
    "x-category": "Tickets",
    "required": ["queue", "priority"],
    "properties": {
        "queue": {"type": "string", "default": "support", "description": "where the ticket goes"},
        "priority": {"type": "string", "enum": ["low", "high"]},
        "urgent": {"type": "boolean"},
        "fields": {"type": "object", "description": "extra fields of the ticket"},
    },
}


@pytest.fixture
def ticket_type(backend):
    """CREATE_TICKET registered in the editor's database before the window (and its palette) is made:
    ask for it before `window`."""
    NodeTypeService(backend.db).register_node_type(
        "CREATE_TICKET", "Opens a ticket in the helpdesk", TICKET_SCHEMA, "tests.support.node_handlers:shout"
    )


def node_errors(tab, uid) -> list[str]:
    return [text for severity, text in tab.validation.node_problems.get(uid, []) if severity == "error"]


def test_a_custom_type_is_drawn_offered_and_edited_from_its_descriptor(ticket_type, window, qtbot):
    rows = palette_rows(window.node_palette)
    assert rows[-2:] == [("Tickets", None), ("Create ticket", "CREATE_TICKET")]
    header = window.node_palette.item(len(rows) - 2)
    assert header.flags() == Qt.ItemFlag.NoItemFlags  # a category cannot be dragged or chosen
    ticket_item = window.node_palette.item(len(rows) - 1)
    assert ticket_item.toolTip().startswith("CREATE_TICKET: Opens a ticket in the helpdesk")

    tab = open_sample_at_zoom_1(window)
    drop_from_palette(window, tab, "CREATE_TICKET", view_pos(tab, QPointF(450, 420)))
    node = tab.doc.node_by_name("Create ticket")
    assert node.config == {"queue": "support"}  # the schema's default
    item = tab.scene.node_items[node.uid]
    assert (item._color.name(), item._glyph) == ("#336699", "✉")

    tab.validation.run_in_background()
    qtbot.waitUntil(lambda: not tab.validation.pending)
    assert node_errors(tab, node.uid) == ["priority: a CREATE_TICKET needs a priority (one of low, high)"]

    tab.doc.set_selection([node.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    assert list(form.fields) == ["queue", "priority", "urgent", "fields"]
    assert form.fields["queue"].text() == "support"
    assert isinstance(form.fields["urgent"], QCheckBox)

    priority = form.fields["priority"]
    assert isinstance(priority, QComboBox)
    priority.setFocus()
    qtbot.keyClick(priority, Qt.Key.Key_Down)  # "" -> "low"
    qtbot.waitUntil(lambda: tab.doc.node(node.uid).config.get("priority") == "low")

    box = form.fields["urgent"]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the box
    qtbot.waitUntil(lambda: tab.doc.node(node.uid).config.get("urgent") is True)

    form = window.inspector.node_page.form
    fields = form.fields["fields"]
    edit = fields.findChild(QLineEdit)
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(edit, '{"team": ')
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert fields.error.text().startswith("✗ fields is not JSON:")
    assert "fields" not in tab.doc.node(node.uid).config  # nothing half-written
    qtbot.keyClicks(edit, '"core"}')
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.doc.node(node.uid).config.get("fields") == {"team": "core"})
    assert fields.error.text() == ""

    tab.validation.run_in_background()
    qtbot.waitUntil(lambda: not tab.validation.pending)
    assert node_errors(tab, node.uid) == []
    QApplication.processEvents()


def test_adding_a_field_to_the_registered_schema_changes_form_palette_and_validation(backend, qtbot):
    """The descriptor is the one source: registering the type again with one more field and a new
    title changes what the palette shows, the form's rows and what validation asks for."""
    from flowdesk.domain.models import Node, Workflow, WorkflowGraph
    from flowdesk.domain.validation import validate_graph
    from flowdesk.ui.inspector.node_forms import form_for
    from flowdesk.ui.palette import NodePalette

    service = NodeTypeService(backend.db)
    service.register_node_type("CREATE_TICKET", "", TICKET_SCHEMA)
    graph = WorkflowGraph(
        workflow=Workflow(name="w"),
        nodes=[Node(name="t", node_type="CREATE_TICKET", config={"queue": "q", "priority": "low"})],
        connections=[],
    )

    def seen():
        known = backend.known_node_types()
        palette = NodePalette(known)
        qtbot.addWidget(palette)
        form = form_for(known["CREATE_TICKET"], backend.apis.list_apis)
        qtbot.addWidget(form)
        errors = [p.message for p in validate_graph(graph, node_types=known) if p.node == "t"]
        return palette_rows(palette)[-1][0], list(form.fields), [e for e in errors if "needs" in e]

    assert seen() == ("Create ticket", ["queue", "priority", "urgent", "fields"], [])
    wider = {
        **TICKET_SCHEMA,
        "title": "Open ticket",
        "required": [*TICKET_SCHEMA["required"], "assignee"],
        "properties": {**TICKET_SCHEMA["properties"], "assignee": {"type": "string"}},
    }
    service.register_node_type("CREATE_TICKET", "", wider)
    assert seen() == (
        "Open ticket",
        ["queue", "priority", "urgent", "fields", "assignee"],
        ["a CREATE_TICKET needs an assignee (text)"],
    )


def test_switch_and_transform_come_with_their_ports_category_and_form(window, qtbot):
    rows = palette_rows(window.node_palette)
    assert ("Switch", "SWITCH") in rows and ("Data", None) in rows
    data = rows.index(("Data", None))
    assert rows[data + 1 : data + 3] == [("Transform", "TRANSFORM"), ("Assert", "ASSERT")]
    tab = open_sample_at_zoom_1(window)
    drop_from_palette(window, tab, "SWITCH", view_pos(tab, QPointF(450, 420)))
    drop_from_palette(window, tab, "TRANSFORM", view_pos(tab, QPointF(650, 420)))
    switch = tab.doc.node_by_name("Switch")
    item = tab.scene.node_items[switch.uid]
    assert [(p.name, p.connection_type.value) for p in item.ports] == [
        ("cases", "CONDITIONAL"),
        ("default", "SEQUENCE"),
    ]
    transform = tab.doc.node_by_name("Transform")
    assert transform.config == {"template": {}}
    tab.doc.set_selection([transform.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    assert list(form.fields) == ["template", "expressions"]
    edit = form.fields["expressions"].findChild(QLineEdit)
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(edit, '{"total": "input.a + input.b"}')
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: (
            tab.doc.node(transform.uid).config
            == {"template": {}, "expressions": {"total": "input.a + input.b"}}
        )
    )
    assert tab.scene.node_items[transform.uid].summary == "builds {total}"


def test_every_built_in_icon_is_a_glyph_the_font_draws(qtbot):
    """The palette and the canvas draw each type's icon as text: a character the font lacks shows
    as an empty box (SWITCH's and SUBWORKFLOW's did)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from flowdesk.domain.node_descriptors import BUILTIN_DESCRIPTORS

    bold = QFont()
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    missing = {name: d.icon for name, d in BUILTIN_DESCRIPTORS.items() if not metrics.inFontUcs4(ord(d.icon))}
    assert missing == {}
