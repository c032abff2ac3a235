"""Every private attribute of another library that flowdesk relies on, each behind one function here.

Standard library and third-party code only (nothing of ours), so any layer may use it.
tests/test_library_internals.py checks each one against the installed library, so an upgrade that
changes one fails there, by name, instead of somewhere deep in a run.

- asyncio `Handle._run()`: run a scheduled callback in its context, exceptions to the loop's
  handler. There is no public call for it; asyncio's own loop uses it. The app's loop
  (ui/event_loop.py) runs asyncio's handles from its own ready queue and timer heap.
- asyncio `TimerHandle._scheduled`: whether a timer sits in a loop's heap, kept as asyncio's own loop
  keeps it, so a handle's state is what asyncio expects wherever it is read.
- httpx `Response._content`: the body already read. The engine's transports read and decode bodies
  themselves (engine/http/body.py); setting what `Response.read()` would set keeps httpx from
  reading, or decoding, a second time. httpx has no public way to hand over a read body with the
  Content-Encoding header left as received.
- atexit `_run_exitfuncs()`: run the callbacks registered with `atexit.register` now, as the
  interpreter does when it exits. The `flowdesk` command leaves with `os._exit` once its work is
  done (cli.entry), skipping the teardown of every module and object; the callbacks (logging's
  flush, a coverage tool's save) still run first. There is no public call for it.
"""

from __future__ import annotations

import asyncio
import atexit
from typing import Any


def run_handle(handle: asyncio.Handle) -> None:
    """Run the handle's callback now, as an asyncio loop does (in its context; an exception goes to
    the loop's exception handler)."""
    handle._run()


def mark_scheduled(handle: asyncio.TimerHandle, scheduled: bool) -> None:
    """Record whether `handle` is in a loop's timer heap (pushed: True, popped: False)."""
    handle._scheduled = scheduled  # type: ignore[attr-defined]


def set_read_content(response: Any, content: bytes) -> None:
    """Give an httpx.Response the body already read and decoded: `.content`, `.text`, `.json()` and
    `.read()` return it, and httpx never reads or decodes the stream again."""
    response._content = content


def run_exit_callbacks() -> None:
    """Run (and clear) the `atexit` callbacks now, last registered first, as the interpreter's exit
    does; an exception in one is reported on stderr and the others still run."""
    atexit._run_exitfuncs()  # type: ignore[attr-defined]
