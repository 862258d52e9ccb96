"""Guard against a PySide6 refcount bug that aborts the interpreter after a few thousand emits.

Seen with PySide6 6.12.0 on CPython 3.11 (not with 6.11.0): ``SignalInstance.emit()``
returns ``True`` without taking a reference, so every emit (ours, pyqtgraph's: each pan
emits several) lowers ``True``'s refcount by one until CPython aborts with "bool_dealloc:
deallocating True or False"; some QGraphicsItem calls (``setVisible``, ``setOpacity``)
leak ``None`` the same way ("none_dealloc" at exit). CPython >= 3.12 makes these objects
immortal, so only older interpreters die.

:func:`guard_bool_refcounts` measures the leak once and, only when it is present, gives
``True``, ``False`` and ``None`` a reserve of 2**40 references so their counts never
reach zero. Call it at application start (the viewer also calls it; it is idempotent).
The real fix is a PySide6 without the bug (pin ``!=6.12.0``); the guard then does nothing.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

RESERVE = 1 << 40
_state = {"checked": False, "applied": False}


class _Probe(QObject):
    sig = Signal(int)


def emit_leaks_bool_refs(trials: int = 64) -> bool:
    """True when emitting a signal lowers the refcount of ``True`` (the PySide6 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for i in range(trials):
        probe.sig.emit(i)
    return sys.getrefcount(True) <= before - trials // 2


def guard_bool_refcounts() -> bool:
    """Apply the reserve when the bug is present; returns whether it is applied."""
    if _state["checked"]:
        return _state["applied"]
    _state["checked"] = True
    plain_cpython = sys.implementation.name == "cpython" and not hasattr(sys, "gettotalrefcount")
    if sys.version_info >= (3, 12) or not plain_cpython or not emit_leaks_bool_refs():
        return False
    for obj in (True, False, None):  # ob_refcnt is the first field of a PyObject
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE
    _state["applied"] = True
    return True
