"""SlicedEventLoop: asyncio's ordering and cancellation, with callbacks run in slices so Qt gets turns."""

from __future__ import annotations

import asyncio
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from flowdesk.ui import event_loop
from flowdesk.ui.event_loop import SlicedEventLoop


@pytest.fixture
def loop(qapp):
    loop = SlicedEventLoop(QApplication.instance())
    yield loop
    loop.close()


def test_callbacks_run_in_the_order_they_were_scheduled_and_timers_by_their_time(loop):
    seen: list[str] = []

    async def main():
        loop.call_later(0.03, seen.append, "later 30 ms")
        loop.call_later(0.01, seen.append, "later 10 ms (a)")
        loop.call_later(0.01, seen.append, "later 10 ms (b)")
        for i in range(3):
            loop.call_soon(seen.append, f"soon {i}")
        loop.call_at(loop.time() + 0.02, seen.append, "at 20 ms")
        await asyncio.sleep(0.06)

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
        await asyncio.sleep(0.1)

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
        await asyncio.sleep(0.05)
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


def test_a_burst_of_callbacks_leaves_qt_a_turn_between_slices(loop, monkeypatch):
    """5,000 callbacks of 10 us each that are ready at once: a 10 ms QTimer still ticks every few ms."""
    ticks: list[float] = []
    beat = QTimer()
    beat.setInterval(5)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def busy():
        end = time.perf_counter() + 0.00001
        while time.perf_counter() < end:
            pass

    async def main():
        beat.start()
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        for _ in range(5000):
            loop.call_soon(busy)
        while len(ticks) < 3 or ticks[-1] < started + 0.06:
            await asyncio.sleep(0.005)
        beat.stop()
        return started

    started = loop.run_until_complete(main())
    during = [t for t in ticks if t > started]
    gaps = [b - a for a, b in zip([started, *during], during, strict=False)]
    assert max(gaps) < 0.03, f"the longest wait of the heartbeat was {max(gaps) * 1000:.0f} ms"
    assert event_loop.SLICE <= 0.01


def test_call_soon_threadsafe_reaches_the_loop(loop):
    import threading

    async def main():
        done = loop.create_future()
        threading.Thread(target=lambda: loop.call_soon_threadsafe(done.set_result, "from a thread")).start()
        return await asyncio.wait_for(done, 5)

    assert loop.run_until_complete(main()) == "from a thread"
