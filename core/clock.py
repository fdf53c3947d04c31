"""The only source of "now".

Everything that asks what time it is calls :func:`now`. Tests and replays swap in a
:class:`ManualClock` and move it forward instead of sleeping. All values are aware UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe so servers in tests can read it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now = self._now + step
            return self._now


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time, aware, in UTC."""
    return _current.now()


def get_clock() -> Clock:
    return _current


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` process-wide and return the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Run a block under ``clock``, restoring the previous clock afterwards."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
