"""Work-arounds for bugs in the Qt bindings, applied once by ``app.create_app`` (and the tests).

PySide6-Essentials 6.12.0 (seen with CPython 3.11) returns ``None`` from void methods and ``True``
from ``SignalInstance.emit()`` without taking a reference. Every such call from Python (ours, and
pyqtgraph's many) drops one reference of ``None`` or ``True``. On Python 3.11 these are ordinary
refcounted objects: after some thousands of calls the count reaches zero and the interpreter aborts
("none_dealloc: deallocating None", "bool_dealloc: deallocating True or False"). On Python 3.12+
they are immortal and nothing happens.

``guard_singleton_refcounts`` checks for the bug and, where it is present, gives ``None``, ``True``
and ``False`` the huge reference count that Python 3.12 gives them anyway (they are never freed, so
this changes nothing else).
"""
from __future__ import annotations

import ctypes
import sys

_applied = False


def bindings_leak_singletons() -> bool:
    """True when calling Qt from Python loses references of ``None`` / ``True``."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        sig = Signal(int)

    p = _Probe()
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(32):
        p.setObjectName("probe")
        p.sig.emit(1)
    leaked = sys.getrefcount(None) < none0 - 16 or sys.getrefcount(True) < true0 - 16
    p.deleteLater()
    return leaked


def guard_singleton_refcounts() -> bool:
    """Apply the work-around where needed; True when it is in place (now or before)."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"):
        return False
    if not bindings_leak_singletons():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40  # ob_refcnt is the first field of PyObject
    _applied = True
    return True


guard_bool_refcounts = guard_singleton_refcounts  # the first name this had
