"""SlicedEventLoop: asyncio's ordering and cancellation, with callbacks run in slices so Qt gets turns."""

from __future__ import annotations

import asyncio
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from flowdesk.ui import event_loop
from flowdesk.ui.event_loop import SlicedEventLoop
from tests.support.waiting import eventually, until


@pytest.fixture
def loop(qapp):
    loop = SlicedEventLoop(QApplication.instance())
    yield loop
    loop.close()


def test_callbacks_run_in_the_order_they_were_scheduled_and_timers_by_their_time(loop):
    seen: list[str] = []

    async def main():
        # Deadlines from one reading of the clock: a busy machine pausing this thread between two
        # calls must not reorder them (call_later reads the clock at each call).
        now = loop.time()
        loop.call_at(now + 0.03, seen.append, "later 30 ms")
        loop.call_at(now + 0.01, seen.append, "later 10 ms (a)")
        loop.call_at(now + 0.0101, seen.append, "later 10 ms (b)")
        for i in range(3):
            loop.call_soon(seen.append, f"soon {i}")
        loop.call_at(now + 0.02, seen.append, "at 20 ms")
        await until(lambda: len(seen) == 7, "all seven callbacks")

    loop.run_until_complete(main())
    assert seen == [
        "soon 0",
        "soon 1",
        "soon 2",
        "later 10 ms (a)",
        "later 10 ms (b)",
        "at 20 ms",
        "later 30 ms",
    ]


def test_a_timer_never_fires_early(loop):
    fired: list[float] = []

    async def main():
        start = loop.time()
        loop.call_later(0.05, lambda: fired.append(loop.time() - start))
        await until(lambda: fired, "the timer firing")

    loop.run_until_complete(main())
    assert len(fired) == 1 and fired[0] >= 0.05


def test_cancelled_handles_never_run_and_cancelled_timers_are_purged(loop):
    ran: list[int] = []

    async def main():
        soon = loop.call_soon(ran.append, 1)
        soon.cancel()
        timers = [loop.call_later(30, ran.append, 2) for _ in range(500)]
        for t in timers:
            t.cancel()
        keep = loop.call_later(0.01, ran.append, 3)
        await until(lambda: 3 in ran, "the timer that was kept firing")
        return keep

    keep = loop.run_until_complete(main())
    assert ran == [3]
    assert not keep.cancelled()
    # 500 cancelled 30-second timers do not stay in the heap until they would have fired
    assert len(loop._slicer.timers) < 100


def test_asyncio_timeouts_and_tasks_behave_as_on_any_loop(loop):
    async def slow():
        await asyncio.sleep(10)

    async def main():
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.02):
                await slow()
        results = await asyncio.gather(*(asyncio.sleep(0.001, result=i) for i in range(50)))
        return results

    assert loop.run_until_complete(main()) == list(range(50))


def _burst_beside_a_heartbeat(loop) -> tuple[list[tuple[float, int]], float]:
    """5,000 callbacks of 10 us each made ready at once, beside a 5 ms QTimer. Returns the ticks
    as (when, how many of the callbacks had run by then), and when the burst was scheduled."""
    ticks: list[tuple[float, int]] = []
    done = [0]
    beat = QTimer()
    beat.setInterval(5)
    beat.timeout.connect(lambda: ticks.append((time.perf_counter(), done[0])))

    def busy():
        end = time.perf_counter() + 0.00001
        while time.perf_counter() < end:
            pass
        done[0] += 1

    async def main():
        beat.start()
        await until(lambda: ticks, "the heartbeat's first tick")
        started = time.perf_counter()
        for _ in range(5000):
            loop.call_soon(busy)
        await until(lambda: ticks[-1][1] == 5000, "a tick after the whole burst")
        beat.stop()
        return started

    started = loop.run_until_complete(main())
    return ticks, started


def test_a_burst_of_callbacks_leaves_qt_a_turn_between_slices(loop):
    """Counted, not timed: the heartbeat ticks while the burst is under way. The burst is 50 ms of
    work in slices of at most SLICE, so Qt gets a dozen turns (more on a busy machine, whose slices
    hold fewer callbacks); run in one go, it would let the heartbeat tick only before and after."""
    ticks, _ = _burst_beside_a_heartbeat(loop)
    during = [n for _, n in ticks if 0 < n < 5000]
    assert len(during) >= 2, f"the heartbeat ticked {len(during)} times during the burst: {ticks}"
    assert event_loop.SLICE <= 0.01


@pytest.mark.perf
def test_a_burst_of_callbacks_never_holds_qt_up_for_30_ms(loop):
    ticks, started = _burst_beside_a_heartbeat(loop)
    during = [t for t, _ in ticks if t > started]
    gaps = [b - a for a, b in zip([started, *during], during, strict=False)]
    assert max(gaps) < 0.03, f"the longest wait of the heartbeat was {max(gaps) * 1000:.0f} ms"


def test_call_soon_threadsafe_reaches_the_loop(loop):
    import threading

    async def main():
        done = loop.create_future()
        threading.Thread(target=lambda: loop.call_soon_threadsafe(done.set_result, "from a thread")).start()
        return await eventually(done, "the callback from the other thread")

    assert loop.run_until_complete(main()) == "from a thread"


@pytest.mark.sqlite_only  # the step sink serves SQLite files
def test_the_app_loop_drives_the_step_sink_of_a_long_run(loop, tmp_path):
    """A persisted run of 600 nodes on the app's loop: its rows go to the step sink through the loop's
    pipe watch (engine/sink_channel.py on qasync's socket notifiers), every one of them stored."""
    from flowdesk.engine.executor import WorkflowExecutor
    from flowdesk.services.executions import ExecutionService
    from flowdesk.store import Database
    from tests.support.graph_builder import graph
    from tests.support.stored_graph import store_graph

    names = ["start"] + [f"wait {i:03d}" for i in range(600)] + ["end"]
    nodes = [("start", "START")] + [(n, "DELAY", {"seconds": 0}) for n in names[1:-1]] + [("end", "END")]
    db = Database(tmp_path / "app.db")
    stored = store_graph(db, graph(nodes, list(zip(names, names[1:], strict=False))))
    driven: list[bool] = []

    async def main():
        executor = WorkflowExecutor(db=db, load_plugins=False)
        first = await executor.execute_workflow(stored.workflow.id, {})
        writer = executor.writer_for(db)
        await until(lambda: writer.sink_running and writer._sink.ready.is_set(), "the step sink ready")
        await executor.execute_workflow(stored.workflow.id, {})  # the thread lets the loop drive the sink
        second = await executor.execute_workflow(stored.workflow.id, {})
        driven.append(writer.sink_running and writer._channel is not None)
        rows = writer.sink_rows
        await executor.aclose()
        return first.status.value, second.status.value, second.id, rows

    first, second, second_id, sink_rows = loop.run_until_complete(main())
    assert (first, second) == ("completed", "completed")
    assert driven == [True] and sink_rows >= len(names)
    assert len(ExecutionService(db).get_logs(second_id)) == len(names)
    db.close()
