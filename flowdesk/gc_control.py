"""Keeping Python's cyclic garbage collector out of the way of bulk work and of runs.

Two measured costs, one module (every layer may import it; it imports nothing of ours):

- A command's start-up imports (`flowdesk run`, the app) make some ninety thousand objects that
  live as long as the process; `gc_paused(keep=True)` freezes them as the block ends.
- Building or reading a large document (5,000 canvas items, a 2,000-node file) allocates some
  hundred thousand containers with no reference cycles; the collector walks them again and again
  as they pile up (about 40% of an import). `gc_paused()` holds it for the block.
- While workflows run, full collections walk the whole heap (graphs, canvas items, caches) with
  the event loop blocked: 0.3-0.6 s in the editor, and about a quarter of the CPU of a
  1,000-call run. `hold_heap()` / `release_heap()` freeze the objects that exist when the first
  run starts out of the collector's reach until the last run ends (reference counted, so the
  engine and the app can both hold it). Reference counting frees everything as usual throughout.
- While runs go on, the young generation is collected far less often (`runs_spacing_young()` /
  `spaced_young_collections()`): each in-flight API call keeps some fifty containers alive, and at
  the default threshold (a young collection every 700 allocations, every few calls) they survive
  collection after collection, are promoted, and end up triggering full collections of the whole
  heap. At 20,000 a young collection still takes only a few milliseconds; a 1,000-call run went
  from about 60 to under 5 us of collector time per call.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "RUN_YOUNG_THRESHOLD",
    "gc_paused",
    "heap_held",
    "hold_heap",
    "release_heap",
    "spaced_young_collections",
    "space_young_collections",
    "unspace_young_collections",
]

RUN_YOUNG_THRESHOLD = 20_000
"""Allocations between young collections while runs go on (Python's default is 700)."""

_lock = threading.Lock()
_holders = 0
_spacers = 0
_saved_threshold: tuple[int, ...] | None = None


@contextmanager
def gc_paused(*, keep: bool = False) -> Iterator[None]:
    """Disable the cyclic collector inside the block (nesting is fine); restore it afterwards.

    `keep=True` (a command's start-up imports, in a process of its own): before the collector
    resumes, everything it tracks is frozen out of its reach (`gc.freeze()`). The modules, classes
    and functions an import makes live as long as the process; without this, the first young
    collection after the block walks all of them (some 90,000 objects for `flowdesk run`, about
    40 ms) and the next older ones walk them again. A later `release_heap()` gives them back.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if was_enabled:
            gc.enable()


def hold_heap(*, collect_young: bool = False) -> None:
    """Freeze today's heap out of the collector's reach, if nobody holds it yet.

    `collect_young` first collects the young generations, so short-lived garbage is not frozen
    with the long-lived objects (worth it before a long run, not before a 1 ms one).
    """
    global _holders
    with _lock:
        _holders += 1
        if _holders == 1:
            if collect_young:
                gc.collect(1)
            gc.freeze()


def release_heap() -> None:
    """Undo one `hold_heap`; the last release gives the frozen objects back to the collector."""
    global _holders
    with _lock:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0:
            gc.unfreeze()


@contextmanager
def heap_held(*, collect_young: bool = False) -> Iterator[None]:
    """`hold_heap()` for the block, released however the block ends."""
    hold_heap(collect_young=collect_young)
    try:
        yield
    finally:
        release_heap()


def space_young_collections() -> None:
    """While a run goes on: collect the young generation every RUN_YOUNG_THRESHOLD allocations
    (reference counted; the thresholds in force before the first call come back with the last
    `unspace_young_collections`)."""
    global _spacers, _saved_threshold
    with _lock:
        _spacers += 1
        if _spacers == 1:
            _saved_threshold = gc.get_threshold()
            if _saved_threshold[0] < RUN_YOUNG_THRESHOLD:
                gc.set_threshold(RUN_YOUNG_THRESHOLD, *_saved_threshold[1:])


def unspace_young_collections() -> None:
    """Undo one `space_young_collections`; the last one restores the thresholds."""
    global _spacers, _saved_threshold
    with _lock:
        if _spacers == 0:
            return
        _spacers -= 1
        if _spacers == 0 and _saved_threshold is not None:
            gc.set_threshold(*_saved_threshold)
            _saved_threshold = None


@contextmanager
def spaced_young_collections() -> Iterator[None]:
    """`space_young_collections()` for the block, undone however the block ends."""
    space_young_collections()
    try:
        yield
    finally:
        unspace_young_collections()
