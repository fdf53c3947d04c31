"""The engine's table lookups and day types: cheaper forms of the plain numpy indexing, same values."""

from __future__ import annotations

import numpy as np

from core.detection.baseline import N_BINS, RowMapped
from core.detection.engine import Context, lookup
from core.detection.timeaxis import SLOTS_PER_DAY, day_types, local_day

from .synth import baseline_of, history, window_input


def test_lookup_reads_the_same_cells_as_fancy_indexing_plain_and_row_mapped() -> None:
    rng = np.random.default_rng(5)
    table = rng.normal(size=(4, 2, SLOTS_PER_DAY, N_BINS)).astype(np.float32)
    rows = np.array([3, 0, 0, 2, 1])
    day_type = rng.integers(0, 2, (5, 96)).astype(np.int8)
    halfhour = rng.integers(0, SLOTS_PER_DAY, (5, 96))
    bins = rng.integers(0, N_BINS, (5, 96)).astype(np.int8)
    by_row = np.broadcast_to(np.arange(5)[:, None], bins.shape)
    expected = table[rows][by_row, day_type, halfhour, bins]
    assert np.array_equal(lookup(table[rows], day_type, halfhour, bins), expected)
    assert np.array_equal(lookup(RowMapped(table, rows), day_type, halfhour, bins), expected)
    assert not np.array_equal(lookup(RowMapped(table, rows[::-1]), day_type, halfhour, bins), expected)


def test_day_types_of_windows_across_a_weekend() -> None:
    """Windows ending every 3.5 h over a week: each column's day type is the one day_types gives."""
    x = history(days=62, homes=1)
    inp = window_input(x, baseline_of(x))
    last = inp.last_slot[0] - np.arange(0, 7 * SLOTS_PER_DAY, 7)
    rows = len(last)
    inp.x, inp.last_slot = np.repeat(inp.x, rows, axis=0), last
    inp.base = inp.base.take(np.zeros(rows, np.int64))
    ctx = Context(inp)
    assert np.array_equal(ctx.day_type, day_types(local_day(ctx.slots)))
    assert len(np.unique(ctx.day_type)) == 2  # the week has weekdays and rest days
