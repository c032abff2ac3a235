"""The step sink's pipe driven by the event loop: step rows go from the loop to the sink process with
no thread on their way.

While the step sink serves a SQLite file (engine/writer.py, engine/step_sink.py), the writer thread
hands the sink over to the loop between two of its batches (`ExecutionWriter._loop_may_own`); the
loop's next step row then opens a `SinkChannel`. From then on the loop encodes each row as before,
gathers SINK_BATCH of them, and writes the batch to the sink's stdin itself (non-blocking: what the
pipe does not take at once is written when it can take more, `add_writer`); the sink's answers are
read by the loop too (`add_reader`), in order, one per batch. A batch that is not full is written
after the writer's `linger`, so a run waiting on a slow node still has its rows committed soon.

Why (docs/architecture.md, "What a persisted step costs"): handing each batch to the writer thread
made the loop wait for the thread at every batch (1.3-1.7 ms a batch, measured), the thread often
still waiting for the sink's answer to the batch before, so the loop ran at the sink's pace. Measured
in one process beside the ephemeral mode, persisting a chain of 1,000 nodes added 28-37 ms that way
and 16-17 ms with the loop writing the pipe.

Order is kept as the writer promises it: every other item the loop gives the writer (an execution's
update, a call, a flush, the stop) waits here until the batches written before it are answered, then
goes to the writer thread's queue (`put`). A batch the sink could not write (its answer an error, or
the sink gone) goes to the writer thread as rows to write itself, before any item that waited for
it, and the writer's failure handling takes it from there (retries, row by row, `on_failure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import marshal
import os
from collections import deque
from typing import TYPE_CHECKING, Any

from .step_sink import LENGTH

if TYPE_CHECKING:
    from .writer import ExecutionWriter, StepSinkProcess

logger = logging.getLogger(__name__)


class SinkChannel:
    """The loop's side of the step sink process (made and used on the loop's thread only)."""

    def __init__(
        self, writer: ExecutionWriter, sink: StepSinkProcess, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.writer = writer
        self.sink = sink
        self.loop = loop
        self.rows: list[tuple[Any, ...]] = []  # encoded rows not yet written to the pipe
        self.in_flight: deque[list[tuple[Any, ...]]] = deque()  # batches written, their answers awaited
        self.sent = 0  # batches written so far
        self.answered = 0  # batches answered so far (in order)
        self.waiting: deque[tuple[int, Any, bool]] = deque()  # (batches it waits for, item, urgent)
        self.out = bytearray()  # bytes the pipe has not taken yet
        self.inbox = bytearray()  # answers read, not yet whole
        self.timer: asyncio.TimerHandle | None = None
        self.open = True
        self._in_fd = sink.stdin_fd
        self._out_fd = sink.stdout_fd
        os.set_blocking(self._in_fd, False)
        self._writing = False
        loop.add_reader(self._out_fd, self._readable)

    # -- rows ----------------------------------------------------------------------------------
    def add(self, values: tuple[Any, ...], batch_size: int) -> None:
        """One encoded step row; a full batch is written at once."""
        rows = self.rows
        rows.append(values)
        if len(rows) >= batch_size:
            self.send()
        elif len(rows) == 1:
            self.timer = self.loop.call_later(self.writer.linger, self.send)

    def send(self) -> None:
        """Write the rows gathered so far as one batch."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.rows or not self.open:
            return
        self._frame()
        self._write()

    def _frame(self) -> None:
        """The gathered rows as the next message for the pipe, in flight from now on."""
        batch, self.rows = self.rows, []
        try:
            body = marshal.dumps(("rows", batch))
        except ValueError:  # a value marshal cannot carry: the thread writes this batch
            self.writer.queue_rows(batch)
            return
        self.in_flight.append(batch)
        self.sent += 1
        self.out += LENGTH.pack(len(body))
        self.out += body

    def _write(self) -> None:
        try:
            while self.out:
                written = os.write(self._in_fd, self.out)
                del self.out[:written]
        except BlockingIOError:
            if not self._writing:
                self._writing = True
                self.loop.add_writer(self._in_fd, self._write)
            return
        except OSError as exc:
            self.fail(f"it cannot be written to: {exc}")
            return
        if self._writing:
            self._writing = False
            self.loop.remove_writer(self._in_fd)

    def _readable(self) -> None:
        try:
            data = os.read(self._out_fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self.fail(f"it cannot be read: {exc}")
            return
        if not data:
            self.fail(f"it ended with exit code {self.sink.proc.poll()}")
            return
        self.inbox += data
        self._take_answers()
        self._release()

    def _take_answers(self) -> None:
        """The whole answers in `inbox`, each for the oldest batch in flight."""
        inbox = self.inbox
        while len(inbox) >= LENGTH.size:
            (size,) = LENGTH.unpack_from(inbox)
            if len(inbox) < LENGTH.size + size:
                break
            kind, detail = marshal.loads(bytes(inbox[LENGTH.size : LENGTH.size + size]))
            del inbox[: LENGTH.size + size]
            batch = self.in_flight.popleft()
            self.answered += 1
            if kind == "ok":
                self.writer.sink_rows += len(batch)
            else:
                logger.warning(
                    "the step sink could not write %d steps (%s): writing them here", len(batch), detail
                )
                self.writer.queue_rows(batch)

    # -- the writer's other items ----------------------------------------------------------
    def put(self, item: Any, urgent: bool) -> None:
        """Give the writer thread `item` once every row gathered before it is answered."""
        self.send()
        if self.answered >= self.sent and not self.waiting:
            self.writer.enqueue(item, urgent)
        else:
            self.waiting.append((self.sent, item, urgent))

    def _release(self) -> None:
        waiting = self.waiting
        while waiting and waiting[0][0] <= self.answered:
            _, item, urgent = waiting.popleft()
            if isinstance(item, asyncio.Future):  # drain()'s
                if not item.done():
                    item.set_result(None)
            else:
                self.writer.enqueue(item, urgent)

    # -- the end -------------------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        """The sink is gone: every row not answered goes to the writer thread, then what waited."""
        if not self.open:
            return
        self._close_pipe_watch()
        self._give_back_unanswered()
        self.writer.channel_gone(usable=False, reason=reason)

    async def drain(self) -> None:
        """Write what is gathered and wait for every answer (the loop keeps running meanwhile)."""
        self.send()
        if self.open and self.in_flight:
            done: asyncio.Future[None] = self.loop.create_future()
            self.waiting.append((self.sent, done, False))
            await done

    def detach(self) -> None:
        """Give the sink back to the writer thread (after `drain`, nothing is in flight)."""
        if self.open:
            self._close_pipe_watch()
            os.set_blocking(self._in_fd, True)
            self._give_back_unanswered()
            self.writer.channel_gone(usable=True)

    def finish_blocking(self) -> None:
        """Without the loop (it has ended, or the writer is closed from another thread): write what is
        gathered, wait for the answers here, and give the sink back to the writer thread."""
        if not self.open:
            return
        self._close_pipe_watch()
        os.set_blocking(self._in_fd, True)
        if self.rows:
            self._frame()
        try:
            while self.out:
                del self.out[: os.write(self._in_fd, self.out)]
            while self.in_flight:
                data = os.read(self._out_fd, 65536)
                if not data:
                    raise OSError(f"it ended with exit code {self.sink.proc.poll()}")
                self.inbox += data
                self._take_answers()
        except OSError as exc:
            self._give_back_unanswered()
            self.writer.channel_gone(usable=False, reason=str(exc))
            return
        self._give_back_unanswered()
        self.writer.channel_gone(usable=True)

    def _give_back_unanswered(self) -> None:
        """Rows not answered go to the writer thread (in order), then every item that waited."""
        self.rows, rows = [], self.rows
        for batch in self.in_flight:
            self.writer.queue_rows(batch)
        self.in_flight.clear()
        if rows:
            self.writer.queue_rows(rows)
        self.answered = self.sent
        self._release()

    def _close_pipe_watch(self) -> None:
        self.open = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        with contextlib.suppress(Exception):  # the loop may be closed already
            self.loop.remove_reader(self._out_fd)
        if self._writing:
            with contextlib.suppress(Exception):
                self.loop.remove_writer(self._in_fd)
        self._writing = False
