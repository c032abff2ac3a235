"""The inspector's LOOP form offers concurrency and batch size; POLL's form is built from its schema;
both driven with the mouse and keys like a user."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QSpinBox

from tests.support.canvas_driving import drop_from_palette, open_sample_at_zoom_1, palette_rows, view_pos


def type_into_spin(qtbot, spin: QSpinBox, text: str) -> None:
    qtbot.mouseClick(spin.lineEdit(), Qt.MouseButton.LeftButton)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def test_loop_form_sets_concurrency_and_batch_size(window, qtbot):
    tab = open_sample_at_zoom_1(window)
    drop_from_palette(window, tab, "LOOP", view_pos(tab, QPointF(450, 420)))
    loop = tab.doc.node_by_name("Loop")
    tab.doc.set_selection([loop.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    assert form.concurrency.value() == 1 and form.batch_size.text() == "off"
    type_into_spin(qtbot, form.concurrency, "50")
    qtbot.waitUntil(lambda: tab.doc.node(loop.uid).config.get("concurrency") == 50)
    type_into_spin(qtbot, form.batch_size, "10")
    qtbot.waitUntil(lambda: tab.doc.node(loop.uid).config.get("batch_size") == 10)
    type_into_spin(qtbot, form.batch_size, "0")
    qtbot.waitUntil(lambda: tab.doc.node(loop.uid).config.get("batch_size") is None)


def test_poll_comes_with_its_look_defaults_and_a_form_built_from_its_schema(window, qtbot):
    from PySide6.QtWidgets import QLineEdit

    rows = palette_rows(window.node_palette)
    calls = rows.index(("Calls", None))
    assert rows[calls + 1 : calls + 3] == [("API call", "API_CALL"), ("Poll", "POLL")]
    tab = open_sample_at_zoom_1(window)
    drop_from_palette(window, tab, "POLL", view_pos(tab, QPointF(450, 420)))
    poll = tab.doc.node_by_name("Poll")
    assert poll.config == {
        "method": "GET",
        "url": "",
        "until": "response.data.status == 'done'",
        "interval": 1,
    }
    item = tab.scene.node_items[poll.uid]
    assert item.summary == "every 1 s until response.data.status == 'done'"
    assert [(p.name, p.connection_type.value) for p in item.ports] == [("out", "SEQUENCE")]
    tab.doc.set_selection([poll.uid])
    window.inspector.refresh()
    form = window.inspector.node_page.form
    assert list(form.fields)[:7] == [
        "until",
        "interval",
        "backoff",
        "max_interval",
        "timeout",
        "max_attempts",
        "request_timeout",
    ]
    edit = form.fields["until"].findChild(QLineEdit)
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    qtbot.keyClicks(edit, "response.data.state == 'ready'")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.doc.node(poll.uid).config["until"] == "response.data.state == 'ready'")
    assert tab.scene.node_items[poll.uid].summary == "every 1 s until response.data.state == 'ready'"


def test_the_loop_form_offers_exactly_what_validation_accepts(qtbot):
    from flowdesk.domain.enums import NodeType
    from flowdesk.domain.node_config import config_problems, field_schema
    from flowdesk.ui.inspector.node_forms import DelayForm, LoopForm, ParallelForm

    loop, parallel, delay = LoopForm(), ParallelForm(), DelayForm()
    for form in (loop, parallel, delay):
        qtbot.addWidget(form)
    for spin, node_type, key in (
        (loop.max_iterations, NodeType.LOOP, "max_iterations"),
        (parallel.max_concurrent, NodeType.PARALLEL, "max_concurrent"),
        (delay.seconds, NodeType.DELAY, "seconds"),
    ):
        schema = field_schema(node_type, key)
        assert (spin.minimum(), spin.maximum()) == (schema["minimum"], schema["maximum"]), key
        assert config_problems(node_type, {key: spin.minimum()}) == []
        assert config_problems(node_type, {key: spin.maximum()}) == []
        assert config_problems(node_type, {key: spin.minimum() - 1}) != []
        assert schema["description"] in spin.toolTip()
