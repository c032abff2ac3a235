"""Holds on the heap are counted; the collector is given back when the last one ends."""

from __future__ import annotations

import gc

from flowdesk.gc_control import gc_paused, heap_held, hold_heap, release_heap


def test_holds_are_counted_and_the_last_release_unfreezes():
    assert gc.get_freeze_count() == 0
    hold_heap()
    try:
        assert gc.get_freeze_count() > 0
        with heap_held():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the first hold is still there
    finally:
        release_heap()
    assert gc.get_freeze_count() == 0
    release_heap()  # an extra release changes nothing
    assert gc.get_freeze_count() == 0


def test_gc_paused_restores_the_previous_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
