"""Guard against a PySide6 binding bug that drops a reference to None on every void call.

With PySide6 6.12 on Python 3.11 each call of a Qt method returning `void` (QPainter.drawRect,
QWidget.resize, ...) hands back `None` without taking a reference, so None's reference count
falls by one per call until Python aborts with "none_dealloc: deallocating None" (after a few
thousand paint calls). From Python 3.12 on None is immortal and the bug is harmless.

None is a static singleton that is never freed, so its count only matters to that fatal check:
we measure whether the bug is present and, if so, lift the count far out of reach (2**60).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_applied = False


def void_call_leaks_none() -> bool:
    """True when calling a void Qt method lowers None's reference count (the binding bug)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(64):
        point.setX(1.0)
    return sys.getrefcount(None) < before - 32


def protect_none_refcount() -> bool:
    """Apply the guard once if this interpreter and binding need it; returns whether it was applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not void_call_leaks_none():
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 60
    _applied = True
    log.debug("PySide6 leaks references to None on void calls: None's count lifted out of reach")
    return True
