"""Fixtures for the run/debug UI tests: a qasync event loop around pytest-qt's QApplication, an
editor window with the run UI installed, workflows stored in the test database.

The loop: the app's own loop (`flowdesk.ui.event_loop.SlicedEventLoop`, qasync's with callbacks
run in slices), made with `already_running=True`, marks itself as asyncio's running loop and
dispatches its callbacks from a Qt timer, so whatever spins Qt — `qtbot.waitSignal`,
`qtbot.waitUntil` — also runs the engine's coroutines. No `run_until_complete` is needed, and the
tests click real actions and wait on real signals exactly as a user's session would.
"""

from __future__ import annotations

import pytest

import flowdesk.ui  # noqa: F401  (installs the None refcount guard before any painting)
from tests.support.qt_loop import qloop, qloop_session, run_window  # noqa: F401  (fixtures, and the window's maker)

qasync = pytest.importorskip("qasync")


@pytest.fixture
def window(qtbot, qloop, backend, settings, tmp_path):  # noqa: F811  (qloop: the imported fixture)
    yield from run_window(qtbot, backend, settings, tmp_path)
