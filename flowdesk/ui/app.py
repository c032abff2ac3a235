"""Start the desktop editor: `flowdesk [--db PATH] [FILE.json]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from flowdesk.domain.errors import FlowdeskError

from .backend import EditorBackend
from .main_window import APPLICATION, ORGANIZATION, MainWindow
from .style.theme import style_sheet
from .style.toolbar_look import dress_toolbar

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="flowdesk", description="Open the flowdesk editor.")
    parser.add_argument(
        "--db", metavar="PATH", help="database file or SQLAlchemy URL (default: user data dir)"
    )
    parser.add_argument("file", nargs="?", help="a workflow file (.json) to import and open")
    return parser.parse_args(list(argv))


def application() -> QApplication:
    """The QApplication (created once), named so QSettings and platformdirs agree."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("flowdesk")
    app.setStyleSheet(style_sheet())
    return app


def build_window(argv: Sequence[str], **window_options) -> MainWindow:
    """Open the database, build the window, import and open FILE if given (no event loop)."""
    args = parse_args(argv)
    application()
    backend = EditorBackend(args.db)
    window = MainWindow(backend, **window_options)
    from .run import install_run_ui  # running and debugging (issue 5)

    install_run_ui(window)
    from .api_library import install_api_library  # the API library dock (issue 6)

    install_api_library(window)
    window.restore_layout()  # again, now that every dock exists
    dress_toolbar(window.toolbar)  # the run UI's buttons too
    if args.file:
        tab = window.import_file(Path(args.file))
        if tab is None:
            window.show_status(f"Could not open {args.file}")
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the editor until its window closes; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    app = application()
    try:
        window = build_window(argv)
    except FlowdeskError as err:
        QMessageBox.critical(None, "flowdesk", str(err))
        print(f"flowdesk: {err}", file=sys.stderr)
        return 2
    if window.settings.value("window/geometry") is None:
        fit_to_screen(window)
    window.show()
    if not args.file and window.browser.workflows:
        window.browser.table.selectRow(0)
    QTimer.singleShot(0, window.files.offer_autosave_copies)
    QTimer.singleShot(0, window.run_ui.offer_interrupted)
    return run_event_loop(app, window)


def fit_to_screen(window: MainWindow) -> None:
    """First start on a screen smaller than the default 1440×900: the window takes the screen's
    free area (no larger than the default) and the default layout is sized for it."""
    screen = window.screen()
    if screen is None:
        return
    free = screen.availableGeometry()
    width, height = min(window.width(), free.width()), min(window.height(), free.height())
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
        window.move(free.topLeft())
        window.apply_default_layout()


def run_event_loop(app: QApplication, window: MainWindow) -> int:
    """Run Qt and asyncio as one loop (qasync, run in slices: ui/event_loop.py), so the engine runs
    inside the GUI thread's loop;
    when the last window closes, cancel runs and close the engine before returning."""
    import asyncio

    from flowdesk.ui.event_loop import SlicedEventLoop

    loop = SlicedEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        loop.run_until_complete(window.run_ui.aclose())
        if window.dock_widget_built("api_library"):  # never shown: nothing to close
            loop.run_until_complete(window.api_library.aclose())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return 0
