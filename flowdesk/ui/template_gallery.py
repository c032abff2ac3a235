"""File > New from template…: a gallery of the template library (docs/templates.md).

Each template is shown with a picture of its graph, drawn offscreen by the canvas' own scene (the same
node and connection items the editor shows), its description and the inputs it needs. Choosing one
(double-click, Enter or Create) opens it as a new, unsaved tab; it is stored on its first save.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QMarginsF, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flowdesk.domain.models import WorkflowGraph
from flowdesk.interchange.templates import Template, TemplateLibrary, load_templates

from .canvas.scene import WorkflowScene
from .document import WorkflowDocument
from .style import theme

if TYPE_CHECKING:
    from .editor_tab import EditorTab
    from .main_window import MainWindow

THUMBNAIL = QSize(224, 120)
PICTURE_MARGIN = 40.0  # scene units around the nodes


def render_graph(graph: WorkflowGraph, size: QSize) -> QPixmap:
    """The graph as the canvas draws it, scaled to fit `size` (offscreen: no view, no window)."""
    doc = WorkflowDocument()
    doc.load_graph(graph)
    scene = WorkflowScene(doc)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(theme.CANVAS_BACKGROUND)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    source = scene.nodes_bounding_rect().marginsAdded(
        QMarginsF(PICTURE_MARGIN, PICTURE_MARGIN, PICTURE_MARGIN, PICTURE_MARGIN)
    )
    # widen the shorter side around the centre to the picture's proportions: the graph is centred
    # and the canvas' background fills the whole picture
    ratio = size.width() / size.height()
    if source.width() / source.height() < ratio:
        source.setWidth(source.height() * ratio)
    else:
        source.setHeight(source.width() / ratio)
    source.moveCenter(scene.nodes_bounding_rect().center())
    scene.render(
        painter, QRectF(0, 0, size.width(), size.height()), source, Qt.AspectRatioMode.IgnoreAspectRatio
    )
    painter.end()
    scene.clear()
    return QPixmap.fromImage(image)


def _default_text(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def describe_html(template: Template) -> str:
    """The detail pane: title, description (with its "Shows:" paragraph) and the inputs."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in template.description.split("\n\n") if p.strip())
    rows = []
    for f in template.inputs:
        kind = f.type or "any"
        need = "required" if f.required else "optional"
        about = f"<br>{html.escape(f.description)}" if f.description else ""
        default = (
            f"<br>default: <code>{html.escape(_default_text(f.default))}</code>" if f.has_default else ""
        )
        rows.append(f"<li><b>{html.escape(f.name)}</b> ({kind}, {need}){about}{default}</li>")
    inputs = f"<ul>{''.join(rows)}</ul>" if rows else "<p>None.</p>"
    origin = (
        ""
        if template.origin == "built-in"
        else f"<p><i>From the package {html.escape(template.origin)}</i></p>"
    )
    return (
        f"<h3>{html.escape(template.title)}</h3>{origin}{paragraphs}"
        f"<p><b>Inputs it needs</b></p>{inputs}"
        f"<p style='color: gray'>Template <code>{html.escape(template.name)}</code> · "
        f"{len(template.graph.nodes)} nodes · {len(template.graph.connections)} connections</p>"
    )


class TemplateGallery(QDialog):
    """Pick a template: pictures in a grid, the chosen one's description and inputs beside it."""

    def __init__(self, library: TemplateLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("templateGallery")
        self.setWindowTitle("New from template")
        self.library = library
        self.resize(1120, 680)

        self.list = QListWidget(self)
        self.list.setObjectName("templateList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMBNAIL)
        self.list.setGridSize(QSize(THUMBNAIL.width() + 20, THUMBNAIL.height() + 60))
        self.list.setSpacing(6)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        for template in sorted(library.templates, key=lambda t: t.title.casefold()):
            item = QListWidgetItem(QIcon(render_graph(template.graph, THUMBNAIL)), template.title)
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            item.setToolTip(template.description.split("\n\n")[0])
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)

        self.details = QLabel(self)
        self.details.setObjectName("templateDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setContentsMargins(12, 4, 20, 12)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.details)
        scroll.setMinimumWidth(320)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.list)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([770, 350])

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.create_button = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setObjectName("templateCreate")
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        hint = QLabel(
            "Choose a template: it opens as a new, unsaved workflow. Double-click or press Enter.", self
        )
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        if library.problems:
            problems = QLabel(
                f"{len(library.problems)} template file(s) could not be read (hover for why).", self
            )
            problems.setObjectName("templateProblems")
            problems.setToolTip("\n".join(library.problems))
            bottom.addWidget(problems)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        self.list.currentItemChanged.connect(self._show_current)
        self.list.itemActivated.connect(lambda _item: self.accept())  # double-click or Enter
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.details.setText("No templates are installed.")
            self.create_button.setEnabled(False)

    def _show_current(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        template = self.current_template()
        self.create_button.setEnabled(template is not None)
        if template is not None:
            self.details.setText(describe_html(template))

    def current_template(self) -> Template | None:
        item = self.list.currentItem()
        return None if item is None else self.library.get(item.data(Qt.ItemDataRole.UserRole))

    def select(self, name: str) -> bool:
        """Make the template named `name` the current one (for the keyboard and tests)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(row)
                return True
        return False


def unused_name(window: MainWindow, wanted: str) -> str:
    """`wanted`, or `wanted 2`, `wanted 3`...: not the name of a stored workflow or an open tab."""
    taken = {w.name for w in window.backend.workflows.list_workflows()}
    taken |= {tab.doc.workflow.name for tab in window.editor_tabs()}
    name, i = wanted, 1
    while name in taken:
        i += 1
        name = f"{wanted} {i}"
    return name


def open_template(window: MainWindow, template: Template) -> EditorTab:
    """Open the template as a new tab: unsaved (the title has its *), stored when saved."""
    graph = template.graph
    workflow = graph.workflow.model_copy(
        update={"id": None, "name": unused_name(window, graph.workflow.name)}
    )
    tab = window.add_tab(graph.model_copy(update={"workflow": workflow}))
    tab.doc.undo_stack.resetClean()  # new and unsaved: closing asks, the title shows it
    window.show_status(f"New workflow from the template '{template.name}': not saved yet (Ctrl+S stores it)")
    return tab


def show_gallery(window: MainWindow) -> TemplateGallery:
    """Open the gallery (non-blocking); choosing a template opens it in `window`."""
    gallery = TemplateGallery(load_templates(), window)

    def chosen() -> None:
        template = gallery.current_template()
        if template is not None:
            open_template(window, template)

    gallery.accepted.connect(chosen)
    gallery.finished.connect(gallery.deleteLater)  # its pictures are not kept once it is closed
    gallery.open()
    return gallery
