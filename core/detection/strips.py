"""A replay's shared series: each (home, day) computed once, each tick's window read from it.

Consecutive ticks of one home see windows that share 95 of their 96 columns and, within a local
day, the same baseline. A *strip* holds one day's 48 windows end to end (143 columns) under that
day's baseline, and the very :class:`Context` the live cycle uses computes its series once. A
tick's window then equals the strip's columns [t, t + 96) except where the window's own start
matters, and there it is computed as the window would:

- every series is trailing (smoothing looks at most 3 columns back, the 4-hour floor 7 more,
  "sustained" 2 more), so from column ``PREFIX`` on a window's series are the strip's; its first
  ``PREFIX`` columns are computed by the same Context over the window's first ``PREFIX`` readings
  (trailing series of a prefix are the prefix of the series);
- the CUSUM scores start at 0 at the window's start. After a reset at a column >= ``PREFIX`` the
  window's run and the strip's are both 0 and then add the same numbers in the same order, so
  the score at the last column is the strip's, bit for bit. Ticks without such a reset (a long
  quiet or level stretch) carry the window's own run on from its first ``PREFIX`` columns (the
  same Context) through the strip's numbers, the recursion continued where it stood.

tests/core/detection/test_strips.py checks that the preset series equal the plain ones.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.detection.baseline import Baselines, RowMapped
from core.detection.engine import WINDOW_SLOTS, Context, DetectionInput
from core.detection.series import accumulate, sustained
from core.detection.timeaxis import SLOTS_PER_DAY

PREFIX = 16  # > 3 + 7 + 2: the columns at a window's start where its series may differ from the strip's
STRIP_SLOTS = WINDOW_SLOTS - 1 + SLOTS_PER_DAY  # a day's 48 windows end to end
STRIP_BATCH = 20_000


@dataclass
class Strips:
    """Series of each (home, day) strip; ``index[h, d]`` is its row (-1: not ready, no strip)."""

    index: np.ndarray  # [H, D] int
    active: np.ndarray  # [S, L] bool
    ups: np.ndarray  # [S, L] bool
    quiet: np.ndarray  # [S, L] float32 quiet score (the CUSUM from the strip's start)
    flat: np.ndarray  # [S, L] float32 flat score
    level: np.ndarray  # [S, L] float32 the 4-hour floor
    quiet_llr: np.ndarray  # [S, L] float32 what the quiet score adds up
    flat_llr: np.ndarray  # [S, L] float32 what the flat score adds up
    quiet_resets: np.ndarray  # [S, L] bool where the quiet score resets
    flat_resets: np.ndarray  # [S, L] bool where the flat score resets
    quiet_reset: np.ndarray  # [S, L] int16 newest column at or before this one where the quiet score reset
    flat_reset: np.ndarray  # [S, L] int16 same for the flat score


def _newest(mask: np.ndarray) -> np.ndarray:
    cols = np.arange(mask.shape[1], dtype=np.int16)
    return np.maximum.accumulate(np.where(mask, cols, np.int16(-1)), axis=1)


def day_strips(padded: np.ndarray, first_slot: int, base_all: Baselines, ready_hd: np.ndarray) -> Strips:
    """Strips of every ready (home, day): ``padded`` [H, 95 + N] are the readings after 95 NaN
    columns (so tick k's window is ``padded[:, k : k + 96]``), ``base_all`` row h * D + d."""
    h, days = ready_hd.shape
    hs, ds = np.nonzero(ready_hd)
    index = np.full((h, days), -1, np.int64)
    index[hs, ds] = np.arange(len(hs))
    views = sliding_window_view(padded, STRIP_SLOTS, axis=1)
    parts: dict[str, list[np.ndarray]] = {}
    for lo in range(0, len(hs), STRIP_BATCH):
        sh, sd = hs[lo : lo + STRIP_BATCH], ds[lo : lo + STRIP_BATCH]
        ctx = Context(DetectionInput.series_only(
            views[sh, sd * SLOTS_PER_DAY], first_slot + sd * SLOTS_PER_DAY + SLOTS_PER_DAY - 1,
            base_all.take(sh * days + sd, map_tables=True),
        ))
        flat, level, ups = ctx.flat_series
        quiet_resets, flat_resets = sustained(ctx.active), sustained(ups)
        for name, value in (
            ("active", ctx.active), ("ups", ups), ("quiet", ctx.quiet_score), ("flat", flat), ("level", level),
            ("quiet_llr", ctx.quiet_llr), ("flat_llr", ctx.flat_llr.astype(np.float32)),
            ("quiet_resets", quiet_resets), ("flat_resets", flat_resets),
            ("quiet_reset", _newest(quiet_resets)), ("flat_reset", _newest(flat_resets)),
        ):
            parts.setdefault(name, []).append(value)
    empty = np.zeros((0, STRIP_SLOTS))
    return Strips(index=index, **{
        f.name: np.concatenate(parts[f.name]) if parts else empty for f in fields(Strips) if f.name != "index"})


def tick_context(strips: Strips, inp: DetectionInput, hh: np.ndarray, kk: np.ndarray) -> Context:
    """The Context of the rows (home ``hh``, newest visible slot ``kk``), its series read from the
    strips: the same values the plain Context computes from ``inp`` (see the module docstring)."""
    if inp.pause_cells is not None:
        raise ValueError("strips know no pauses")
    s = strips.index[hh, kk // SLOTS_PER_DAY]
    if (s < 0).any():
        raise ValueError("a tick of a day without a strip")
    t = kk % SLOTS_PER_DAY
    end = t + WINDOW_SLOTS - 1
    head_inp = replace(inp, x=inp.x[:, :PREFIX], last_slot=inp.last_slot - (WINDOW_SLOTS - PREFIX))
    head = Context(head_inp)
    active = sliding_window_view(strips.active, WINDOW_SLOTS, axis=1)[s, t]
    active[:, :PREFIX] = head.active
    ups = sliding_window_view(strips.ups, WINDOW_SLOTS, axis=1)[s, t]
    ups[:, :PREFIX] = head.ups
    quiet, flat, level = strips.quiet[s, end], strips.flat[s, end], strips.level[s, end]
    for score, reset_at, llr, resets, head_score in (
        (quiet, strips.quiet_reset, strips.quiet_llr, strips.quiet_resets, "quiet_score"),
        (flat, strips.flat_reset, strips.flat_llr, strips.flat_resets, "flat_series"),
    ):
        # no reset since the head: carry the window's own run from its head through the strip's numbers
        rows = np.flatnonzero(reset_at[s, end] < t + PREFIX)
        if len(rows):
            own = getattr(Context(_rows(head_inp, rows)), head_score)
            own = own[0] if isinstance(own, tuple) else own
            cols = t[rows, None] + np.arange(PREFIX, WINDOW_SLOTS)[None, :]
            score[rows] = accumulate(llr[s[rows, None], cols], resets[s[rows, None], cols], start=own[:, -1])[:, -1]
    return Context(inp).preset(active=active, ups=ups, quiet_now=quiet, flat_now=(flat, level))


def _rows(inp: DetectionInput, rows: np.ndarray) -> DetectionInput:
    """The input's ``rows`` alone."""
    picked = {f.name: getattr(inp, f.name) for f in fields(DetectionInput)}
    for name, value in picked.items():
        if isinstance(value, np.ndarray):
            picked[name] = value[rows]
    picked["base"] = Baselines(**{f.name: _pick(getattr(inp.base, f.name), rows) for f in fields(Baselines)})
    return DetectionInput(**picked)


def _pick(value: np.ndarray | RowMapped, rows: np.ndarray) -> np.ndarray | RowMapped:
    return RowMapped(value.table, value.rows[rows]) if isinstance(value, RowMapped) else value[rows]
