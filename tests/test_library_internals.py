"""flowdesk/library_internals.py against the installed libraries: each private attribute flowdesk
relies on still exists and still means what we use it for. A failure here names the library change
to adapt to (asyncio, qasync, httpx) before it shows up as a stuck loop or a body decoded twice."""

from __future__ import annotations

import asyncio
import contextvars
import gzip
import inspect
import os
import subprocess
import sys
from pathlib import Path

import httpx

from flowdesk.library_internals import mark_scheduled, run_handle, set_read_content


def test_run_handle_runs_the_callback_in_its_context_and_reports_errors_to_the_loop():
    loop = asyncio.new_event_loop()
    try:
        seen: list[object] = []
        errors: list[dict] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        var = contextvars.ContextVar("var", default="outside")
        context = contextvars.copy_context()
        context.run(var.set, "inside")
        run_handle(asyncio.Handle(lambda x: seen.append((x, var.get())), (1,), loop, context=context))
        assert seen == [(1, "inside")]

        def broken() -> None:
            raise ValueError("boom")

        run_handle(asyncio.Handle(broken, (), loop))
        assert len(errors) == 1 and isinstance(errors[0]["exception"], ValueError)
        cancelled = asyncio.Handle(lambda: seen.append("ran"), (), loop)
        cancelled.cancel()
        assert cancelled.cancelled()  # the public question the app's loop asks before running one
    finally:
        loop.close()


def test_a_cancelled_timer_tells_its_loop_and_the_scheduled_flag_is_asyncios():
    told: list[asyncio.TimerHandle] = []

    class Loop(asyncio.SelectorEventLoop):
        def _timer_handle_cancelled(self, handle):  # what the app's loop overrides (ui/event_loop.py)
            told.append(handle)

    loop = Loop()
    try:
        handle = asyncio.TimerHandle(loop.time() + 60, lambda: None, (), loop)
        assert handle._scheduled is False  # asyncio keeps the flag on every TimerHandle
        mark_scheduled(handle, True)
        assert handle._scheduled is True
        handle.cancel()
        assert told == [handle]
        mark_scheduled(handle, False)
        assert handle._scheduled is False
    finally:
        loop.close()


def test_qasync_still_schedules_through_the_methods_the_app_loop_replaces():
    import qasync

    assert list(inspect.signature(qasync.QEventLoop._add_callback).parameters) == ["self", "handle", "delay"]
    assert callable(getattr(asyncio.BaseEventLoop, "_check_closed", None))


def test_a_response_given_its_read_body_is_never_read_or_decoded_again():
    squeezed = gzip.compress(b"not this")
    response = httpx.Response(
        200,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
        stream=httpx.ByteStream(squeezed),
        request=httpx.Request("GET", "http://127.0.0.1/"),
    )
    set_read_content(response, b"decoded already")
    assert response.content == b"decoded already"
    assert response.read() == b"decoded already"
    assert response.text == "decoded already"
    assert response.headers["content-encoding"] == "gzip"  # left as received


def test_run_exit_callbacks_runs_them_last_registered_first_once(tmp_path):
    """In a process of its own (pytest's and the tests' own callbacks must not run early)."""
    code = (
        "import atexit, sys\n"
        "from flowdesk.library_internals import run_exit_callbacks\n"
        "atexit.register(print, 'first')\n"
        "atexit.register(print, 'second')\n"
        "run_exit_callbacks()\n"
        "print('callbacks left', atexit._ncallbacks())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["second", "first", "callbacks left 0"]  # not again at exit
