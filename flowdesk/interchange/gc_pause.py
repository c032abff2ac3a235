"""Pausing Python's cyclic garbage collector while a large document is built or read.

Reading a 2,000-node workflow allocates some hundred thousand dicts, lists and tuples, none of them
in reference cycles; the cyclic collector still walks them again and again as they pile up, which
costs about 40% of the import time. Reference counting frees everything as usual while it is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
