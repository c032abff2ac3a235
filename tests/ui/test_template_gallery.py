"""File > New from template…, driven as a person does: the menu, the gallery, double-click or Enter,
then the new unsaved tab, saved with Ctrl+S."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel

from flowdesk.interchange.templates import load_templates
from flowdesk.ui.style import theme
from flowdesk.ui.template_gallery import THUMBNAIL, TemplateGallery, render_graph
from tests.support.template_dists import make_dist, template_text

LIBRARY = load_templates(packages=False)
SCREENSHOTS = os.environ.get("FLOWDESK_SCREENSHOTS")  # a folder: the test saves what it showed there


def open_gallery_from_the_menu(qtbot, window) -> TemplateGallery:
    bar = window.menuBar()
    file_menu = next(a.menu() for a in bar.actions() if a.text() == "&File")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_menu.menuAction()).center())
    qtbot.waitUntil(file_menu.isVisible)
    action = window.action_new_from_template
    assert action in file_menu.actions() and action.isEnabled()
    qtbot.mouseClick(file_menu, Qt.MouseButton.LeftButton, pos=file_menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), TemplateGallery))
    gallery = QApplication.activeModalWidget()
    qtbot.waitExposed(gallery)
    return gallery


def item_center(gallery: TemplateGallery, name: str) -> QPoint:
    rows = [gallery.list.item(r) for r in range(gallery.list.count())]
    item = next(i for i in rows if i.data(Qt.ItemDataRole.UserRole) == name)
    gallery.list.scrollToItem(item)
    return gallery.list.visualItemRect(item).center()


def test_double_click_opens_the_template_as_an_unsaved_tab(qtbot, window, backend):
    gallery = open_gallery_from_the_menu(qtbot, window)
    assert gallery.list.count() == len(LIBRARY.templates) >= 10
    viewport = gallery.list.viewport()
    pos = item_center(gallery, "poll-job")
    assert gallery.current_template().name != "poll-job"
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert gallery.current_template().name == "poll-job"
    text = gallery.details.text()
    assert "Poll a job until done" in text and "Shows:" in text
    for field in ("base_url", "interval", "max_polls", "polls"):
        assert f"<b>{field}</b>" in text
    if SCREENSHOTS:
        gallery.grab().save(str(Path(SCREENSHOTS) / "template-gallery.png"))
    with qtbot.waitSignal(gallery.finished):
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)

    tab = window.current_tab()
    assert tab.workflow_id is None and tab.doc.is_dirty
    assert tab.title() == "Poll a job until done*"
    assert sorted(n.name for n in tab.doc.nodes()) == sorted(
        n.name for n in LIBRARY.get("poll-job").graph.nodes
    )
    assert tab.doc.connection_count == len(LIBRARY.get("poll-job").graph.connections) == 4
    assert backend.workflows.list_workflows() == []  # nothing stored until the user saves

    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not tab.doc.is_dirty)
    stored = backend.workflows.load_graph(tab.workflow_id)
    assert stored.workflow.name == "Poll a job until done"
    assert stored.workflow.config["inputs"]["required"] == ["base_url", "interval", "max_polls"]
    assert (len(stored.nodes), len(stored.connections)) == (5, 4)
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "Poll a job until done"


def test_enter_opens_the_current_template_and_a_taken_name_gets_a_number(qtbot, window):
    first = open_gallery_from_the_menu(qtbot, window)
    first.select("fan-out")
    with qtbot.waitSignal(first.finished):
        qtbot.keyClick(first.list, Qt.Key.Key_Return)
    gallery = open_gallery_from_the_menu(qtbot, window)
    gallery.list.setFocus()
    gallery.select("compare-versions")
    qtbot.keyClick(gallery.list, Qt.Key.Key_Right)  # the keyboard moves on to the next picture
    assert gallery.current_template().name == "crud-smoke-test"
    qtbot.keyClick(gallery.list, Qt.Key.Key_Left)
    with qtbot.waitSignal(gallery.finished):
        qtbot.keyClick(gallery.list, Qt.Key.Key_Return)
    assert [t.doc.workflow.name for t in window.editor_tabs()] == [
        "Fan out over a list with a concurrency limit",
        "Compare two API versions' answers",
    ]
    assert window.current_tab().doc.node_count == 7


def test_cancel_opens_nothing(qtbot, window):
    gallery = open_gallery_from_the_menu(qtbot, window)
    with qtbot.waitSignal(gallery.finished):
        qtbot.keyClick(gallery.list, Qt.Key.Key_Escape)
    assert window.editor_tabs() == []


def test_the_picture_is_the_canvas_drawing_of_the_graph(qtbot):
    graph = LIBRARY.get("health-check").graph
    image = render_graph(graph, THUMBNAIL).toImage()
    assert image.size() == THUMBNAIL
    colours = {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}
    assert theme.CANVAS_BACKGROUND.name() in colours
    # the node types' colours (the canvas' own type colours) are in the picture
    for node_type in ("START", "PARALLEL", "API_CALL", "END"):
        wanted = QColor(theme.node_color(node_type)).name()
        assert wanted in colours, node_type
    other = render_graph(LIBRARY.get("paginate").graph, THUMBNAIL).toImage()
    assert other != image  # each template gets its own picture


def test_a_package_template_and_a_broken_one_in_the_gallery(qtbot, window, tmp_path, monkeypatch):
    site = make_dist(
        tmp_path / "site",
        "omega_flows",
        "omega_flows:FILES",
        {"mine.json": template_text("Omega pages"), "bad.json": "not json"},
        "from pathlib import Path\nFILES = Path(__file__).parent\n",
    )
    monkeypatch.syspath_prepend(str(site))
    gallery = open_gallery_from_the_menu(qtbot, window)
    assert gallery.list.count() == len(LIBRARY.templates) + 1
    assert gallery.select("mine")
    assert "From the package omega_flows" in gallery.details.text()
    problems = gallery.findChild(QLabel, "templateProblems")
    assert problems.text() == "1 template file(s) could not be read (hover for why)."
    assert problems.toolTip().startswith("bad.json, line 1")
    with qtbot.waitSignal(gallery.finished):
        qtbot.mouseClick(gallery.create_button, Qt.MouseButton.LeftButton)
    assert window.current_tab().doc.workflow.name == "Omega pages"
