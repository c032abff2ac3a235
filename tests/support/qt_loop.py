"""The qasync event loop the app's run UI needs in the Qt tests, and an editor window with the run UI.

The loop: the app's own loop (`flowdesk.ui.event_loop.SlicedEventLoop`, qasync's with callbacks
run in slices), made with `already_running=True`, marks itself as asyncio's running loop and
dispatches its callbacks from a Qt timer, so whatever spins Qt — `qtbot.waitSignal`,
`qtbot.waitUntil` — also runs the engine's coroutines. A conftest.py (or a test module) that wants
them imports the fixtures `qloop_session` and `qloop` by name; `run_window` makes the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from tests.support.waiting import EVENTUALLY_MS


@pytest.fixture(scope="session")
def qloop_session(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop for the session: qasync's stop() calls QApplication.exit(), after which
    pytest-qt's nested event loops return at once, so the loop is never stopped between tests."""
    from flowdesk.ui.event_loop import SlicedEventLoop

    loop = SlicedEventLoop(QApplication.instance(), already_running=True)
    asyncio.events._set_running_loop(None)
    yield loop
    # loop.close() would need stop() first; shut down its worker QThreads (asyncio.to_thread) only
    executor = getattr(loop, "_QEventLoop__default_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture
def qloop(qloop_session) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop, current and running for one test (and neither afterwards, so suites that
    call asyncio.run() or their own loops keep working in the same process)."""
    loop = qloop_session
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        for task in [t for t in asyncio.all_tasks(loop) if not t.done()]:
            task.cancel()
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def run_window(qtbot, backend, settings, tmp_path) -> Iterator:
    """An editor window with the run UI on `backend`, shown; closed (runs stopped) when resumed."""
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.run import install_run_ui

    w = MainWindow(backend, settings=settings, autosave_dir=tmp_path / "autosave", autosave_interval_s=3600)
    install_run_ui(w, load_plugins=False)
    w.show()
    qtbot.waitExposed(w)
    yield w
    ui = w.run_ui
    ui.stop_all()
    done = asyncio.ensure_future(ui.aclose())
    qtbot.waitUntil(done.done, timeout=EVENTUALLY_MS)
    for tab in w.editor_tabs():
        tab.doc.undo_stack.setClean()
    w.close()
    w.deleteLater()
