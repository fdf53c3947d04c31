"""Named crash points for fault-injection tests: "kill the process right here".

Production code calls :func:`checkpoint` at every step boundary (before send, after
send before commit, after commit). Nothing is armed outside tests, so it costs one dict
lookup. A test arms a point; reaching it raises :class:`SimulatedCrash`, a
BaseException that no ``except Exception`` swallows, so the transaction in flight is
rolled back exactly as if the process had died.
"""

from __future__ import annotations

import threading
from collections import Counter

POINTS = (
    "engine.before_commit",
    "engine.after_commit",
    "dispatch.before_send",
    "dispatch.after_send",
    "dispatch.after_commit",
)


class SimulatedCrash(BaseException):
    """The process "died" at a checkpoint."""


_armed: dict[str, int] = {}
_lock = threading.Lock()
reached: Counter[str] = Counter()  # filled while counting (tests size their crash loops with it)
_counting = False


def count(on: bool) -> None:
    global _counting
    with _lock:
        reached.clear()
        _counting = on


def arm(point: str, skip: int = 0) -> None:
    """Crash the ``skip + 1``-th time ``point`` is reached."""
    if point not in POINTS:
        raise ValueError(f"unknown checkpoint {point!r}")
    with _lock:
        _armed[point] = skip


def disarm() -> None:
    global _counting
    with _lock:
        _armed.clear()
        _counting = False


def checkpoint(point: str) -> None:
    if not _armed and not _counting:
        return
    with _lock:
        if _counting:
            reached[point] += 1
        if point not in _armed:
            return
        if _armed[point] > 0:
            _armed[point] -= 1
            return
        del _armed[point]
    raise SimulatedCrash(point)
