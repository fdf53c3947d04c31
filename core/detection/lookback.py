"""Where a quiet stretch longer than the detection window began. Pure numpy.

A quiet detector names its situation ("episode") by the newest sustained use, so one situation
raises once (core/detection/book.py). Inside the 48 h window that use is in view; when the window
holds none, the situation began before it, and the book alone cannot tell *which* earlier one:
it knows only the uses it saw close an emergency. A home whose last alarm was weeks ago, quiet
now for two days with lone spikes, was taken for that old situation and never raised again
(benchmarks/detection_misses.py: "fired but the book raised nothing").

So for the rows that have no sustained use in their window, the caller (the live cycle, a
replay) reads the week before it and asks :func:`awake_before`, judged by the same baseline and
the same definition of use (core/detection/engine.py ``Context``): a trip whose start is in that
week is still the situation already raised, and its lone spikes raise nothing new. Beyond it the
book's memory decides (core/detection/book.py, MEMORY_SLOTS, the same in live and replays).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.detection.baseline import Baselines
from core.detection.book import UNKNOWN
from core.detection.engine import Context, DetectionInput
from core.detection.timeaxis import SLOTS_PER_DAY

LOOKBACK_SLOTS = 7 * SLOTS_PER_DAY


# rows -> (the readings before those rows' windows [r, LOOKBACK_SLOTS], NaN = missing; their baselines)
ReadBefore = Callable[[np.ndarray], tuple[np.ndarray, Baselines]]


def needs_lookback(ctx: Context) -> np.ndarray:
    """[R] bool: rows that could raise or close an emergency and have no sustained use in their window."""
    inp = ctx.inp
    return (ctx.awake_in_window < 0) & inp.ready & ~inp.paused & ctx.watchable


def look_before(ctx: Context, read: ReadBefore) -> None:
    """Set ``ctx.inp.awake_before`` (before any detector runs on ``ctx``): :func:`awake_before`
    for the rows that need it, read by the caller's ``read`` (the live cycle queries the
    database for those homes only, a replay slices its arrays)."""
    rows = np.flatnonzero(needs_lookback(ctx))
    found = np.full(ctx.rows, UNKNOWN, np.int64)
    if len(rows):
        x_before, base = read(rows)
        found[rows] = awake_before(x_before, ctx.first_slot[rows], base)
    ctx.inp.awake_before = found


def awake_before(x_before: np.ndarray, window_first_slot: np.ndarray, base: Baselines) -> np.ndarray:
    """[R] slot of the newest sustained use in ``x_before`` [R, LOOKBACK_SLOTS] (the readings
    just before each row's window, NaN = missing), judged by the row's baseline ``base``; UNKNOWN if none."""
    if x_before.shape[0] == 0:
        return np.zeros(0, np.int64)
    ctx = Context(DetectionInput.series_only(x_before, np.asarray(window_first_slot) - 1, base))
    found = ctx.awake_in_window
    return np.where(found >= 0, found, UNKNOWN).astype(np.int64)
