"""Learn each home's normal day from its last 8 weeks, for many homes at once.

A baseline is a small set of arrays with a leading "home" axis. The heart of it is a
log-likelihood-ratio table ``llr[home, day_type, half_hour, bin]``: for a reading that
falls in ``bin`` at that half-hour, how much more it looks like this home's own nights
(01:00-05:00) than like this home's usual use at that hour. Detectors add these up while
the home "looks asleep". Everything else (base load, activity level, wake and sleep
times, usual day kWh, watchability) is learned from the same days, and so is the survival of
the home's quiet and "stuck on one level" stretches (core/detection/survival.py) that decides
when a stretch is rarer than the home's false-alarm budget allows.

Coarse readings (a 0.1 kWh register) are first averaged over the home's own step rhythm: as
many half-hours as its standby takes to move the register two steps (1 to 4, up to 2 h), so
that a fridge night reading 0.0, 0.0, 0.1, 0.0 looks like the steady 0.03 kWh it is.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from core.detection.series import FLAT_MIN_KWH, accumulate, register_step, smooth_rows, sustained, ups_and_downs
from core.detection.survival import empty_peaks, empty_tails, learn_peaks, learn_tails
from core.detection.timeaxis import RESTDAY, SLOTS_PER_DAY, WEEKDAY

LEARNING_DAYS = 56
MIN_GOOD_DAYS = 42  # fewer complete-enough days than this: not ready to watch
N_BINS = 10
LLR_CLIP = (-4.0, 3.0)
NIGHT_SLOTS = np.arange(2, 10)  # 01:00-05:00 local
MORNING_SLOTS = (8, 26)  # wake is looked for between 04:00 and 13:00
EVENING_SLOTS = (36, 54)  # sleep between 18:00 and 03:00 (next day)
WATCHABLE_MIN = 0.35  # below this a home is told it cannot be watched well
SCHEMA = 3  # what the learned arrays mean: bump it when that changes, and stored rows relearn
MAX_SMOOTH_SLOTS = 4  # never average over more than 2 h


LARGE_TABLES = frozenset({"llr", "llr_rise", "quiet_tail", "flat_tail"})


class RowMapped:
    """A per-home table seen as one row per ``rows`` entry, without copying it.

    Supports the indexing the engine does: ``table[rows, day_type, halfhour, bins]``.
    """

    def __init__(self, table: np.ndarray, rows: np.ndarray) -> None:
        self.table = table
        self.rows = np.asarray(rows)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            return self.table[(self.rows[key[0]], *key[1:])]
        return self.table[self.rows[key]]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.table.shape[1:])


@dataclass(frozen=True)
class Baselines:
    """Learned normal days for H homes. All arrays have leading axis H."""

    edges: np.ndarray  # [H, N_BINS-1] kWh bin edges
    llr: np.ndarray  # [H, 2, 48, N_BINS] night-vs-usual log-likelihood ratio
    base_load: np.ndarray  # [H] kWh per half-hour of fridge/standby
    active_kwh: np.ndarray  # [H] above this a half-hour counts as "someone did something"
    use_bins: np.ndarray  # [H, N_BINS] 1: readings in the bin are use too (above standby, rare at night)
    wake_hh: np.ndarray  # [H, 2] learned wake (half-hours since 00:00, late-typical), by day type
    sleep_hh: np.ndarray  # [H, 2] learned sleep (half-hours since 00:00, may exceed 48)
    quiet_tail: np.ndarray  # [H, 48, 3] tail of the "looks asleep" score by half-hour of day (survival.py)
    flat_tail: np.ndarray  # [H, 48, 3] same for the "stuck on one level" score, while above standby
    quiet_peaks: np.ndarray  # [H, 4] tail of the quiet stretches' peaks in units of quiet_tail, stretches a month
    flat_peaks: np.ndarray  # [H, 4] same for the "stuck on one level" stretches
    smooth_slots: np.ndarray  # [H] readings are averaged over this many half-hours (the register's step rhythm)
    edges_rise: np.ndarray  # [H, N_BINS-1] bins of the rise above the 4-hour floor
    llr_rise: np.ndarray  # [H, 2, 48, N_BINS] night-vs-usual LLR of that rise ("ups and downs")
    up_kwh: np.ndarray  # [H] a rise above this is an "up": someone switched something on
    day_kwh: np.ndarray  # [H, 2] usual day total by day type
    watchability: np.ndarray  # [H] 0..1: how clearly the home shows a daily rhythm
    days_used: np.ndarray  # [H] complete-enough days the baseline was learned from

    @property
    def ready(self) -> np.ndarray:
        return self.days_used >= MIN_GOOD_DAYS

    def take(self, index: np.ndarray, *, map_tables: bool = False) -> Baselines:
        """Baselines re-indexed by ``index`` (e.g. one row per home and tick).

        ``map_tables`` reads the two large score tables through the index instead of copying
        them for every row: replay evaluates thousands of rows per call, and copying
        [2, 48, bins] tables per row was a large share of its time. Same values either way.
        """
        def pick(name: str) -> Any:
            value = getattr(self, name)
            if map_tables and name in LARGE_TABLES:
                return RowMapped(value, index)
            return value[index]

        return Baselines(**{f.name: pick(f.name) for f in fields(self)})


def empty_baselines(h: int) -> Baselines:
    return Baselines(
        edges=np.tile(np.linspace(0.01, 0.09, N_BINS - 1, dtype=np.float32), (h, 1)),
        llr=np.zeros((h, 2, SLOTS_PER_DAY, N_BINS), np.float32),
        base_load=np.zeros(h, np.float32),
        active_kwh=np.full(h, np.inf, np.float32),
        use_bins=np.zeros((h, N_BINS), np.float32),
        wake_hh=np.full((h, 2), 16.0, np.float32),
        sleep_hh=np.full((h, 2), 46.0, np.float32),
        quiet_tail=empty_tails(h),
        flat_tail=empty_tails(h),
        quiet_peaks=empty_peaks(h),
        flat_peaks=empty_peaks(h),
        smooth_slots=np.ones(h, np.float32),
        edges_rise=np.tile(np.linspace(0.01, 0.09, N_BINS - 1, dtype=np.float32), (h, 1)),
        llr_rise=np.zeros((h, 2, SLOTS_PER_DAY, N_BINS), np.float32),
        up_kwh=np.full(h, np.inf, np.float32),
        day_kwh=np.zeros((h, 2), np.float32),
        watchability=np.zeros(h, np.float32),
        days_used=np.zeros(h, np.int32),
    )


def _row_quantiles(values: np.ndarray, qs: list[float]) -> np.ndarray:
    """Per-row quantiles ignoring NaN ([H, N] -> [H, len(qs)]); fast via one sort."""
    ordered = np.sort(values, axis=1)
    count = np.sum(~np.isnan(values), axis=1)
    out = np.empty((values.shape[0], len(qs)), np.float64)
    for j, q in enumerate(qs):
        idx = np.clip(np.floor(q * (count - 1)).astype(np.int64), 0, values.shape[1] - 1)
        out[:, j] = np.take_along_axis(ordered, idx[:, None], axis=1)[:, 0]
    out[count == 0] = 0.0
    return out


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each reading: ``x`` [R, W], per-row ``edges`` [R, N_BINS-1] -> int8 [R, W]."""
    idx = np.zeros(x.shape, np.int8)
    for k in range(edges.shape[1]):
        idx += x > edges[:, k : k + 1]
    return idx


def learn(days: np.ndarray, day_type: np.ndarray) -> Baselines:
    """Learn baselines from ``days`` [H, D, 48] kWh (NaN = missing) and ``day_type`` [D] or
    [H, D] (rows may be different homes, or one home on different days: a replay learns
    many days at once)."""
    h, d, _ = days.shape
    day_type = np.broadcast_to(np.asarray(day_type), (h, d))
    raw = days.astype(np.float32)
    good_day = np.mean(~np.isnan(raw), axis=2) >= 0.9  # [H, D]
    raw = np.where(good_day[:, :, None], raw, np.nan)
    days_used = good_day.sum(axis=1).astype(np.int32)
    smooth_slots = step_rhythm(raw)
    x = smooth_rows(raw.reshape(h, -1), smooth_slots).reshape(raw.shape)

    present = ~np.isnan(x)
    night = x[:, :, NIGHT_SLOTS].reshape(h, -1)
    nq = _row_quantiles(night, [0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.97])
    aq = _row_quantiles(x.reshape(h, -1), [0.6, 0.8, 0.93])
    edges = _edges(nq[:, :6], aq)
    base_load = nq[:, 0]
    active_kwh = np.maximum(nq[:, 6] * 1.15, nq[:, 2] + 0.05)
    bins = bin_index(x.reshape(h, -1), edges).reshape(x.shape)
    cells = _table_cells(day_type)
    llr = _llr_table(bins, present, cells, h)
    night_bins = bins[:, :, NIGHT_SLOTS]
    p_night = _hist(night_bins, present[:, :, NIGHT_SLOTS], h)  # [H, B]
    use_bins = _use_bins(p_night, edges, nq[:, 2] + 0.05)

    rise, level = ups_and_downs(x.reshape(h, -1))
    rise = rise.reshape(x.shape)
    rise_present = ~np.isnan(rise)
    rq = _row_quantiles(rise[:, :, NIGHT_SLOTS].reshape(h, -1), [0.2, 0.4, 0.6, 0.8, 0.9, 0.97, 0.99])
    raq = _row_quantiles(rise.reshape(h, -1), [0.7, 0.9])
    edges_rise = _edges(rq[:, :7], raq)
    # An "up" rises above the night's own rises, but never above what a tenth of the day's
    # rises reach: timed night heaters would otherwise hide every switch-on of the day.
    up_kwh = np.minimum(np.maximum(rq[:, 6] * 1.3, 0.05), np.maximum(raq[:, 1], 0.05))
    rise_bins = bin_index(np.nan_to_num(rise.reshape(h, -1)), edges_rise).reshape(x.shape)
    llr_rise = _llr_table(rise_bins, rise_present, cells, h)

    active = is_active(x.reshape(h, -1), bins.reshape(h, -1), active_kwh, use_bins).reshape(x.shape) & present
    wake_hh, sleep_hh = _wake_sleep(active, present, day_type)
    day_total = np.where(good_day, np.nansum(raw, axis=2), np.nan)
    day_kwh = np.stack([_nanmedian_rows(np.where(day_type == t, day_total, np.nan)) for t in (0, 1)], 1)

    quiet_tail, flat_tail, quiet_peaks, flat_peaks = _tails(
        x, rise, level.reshape(x.shape), active, llr, bins, llr_rise, rise_bins, cells, up_kwh, base_load)

    # Expected evidence per day of a real "nobody moves" event: sum over the day of
    # KL(night || usual at that hour). A vacant flat or a fridge-only meter gives ~0.
    kl = np.einsum("hb,htsb->ht", p_night, llr)  # [H, 2] (48 slots summed)
    evidence = 0.7 * kl[:, WEEKDAY] + 0.3 * kl[:, RESTDAY]
    watchability = 1.0 - np.exp(-np.maximum(evidence, 0) / 30.0)
    watchability = np.where(days_used >= MIN_GOOD_DAYS, watchability, 0.0)

    return Baselines(
        edges=edges.astype(np.float32),
        llr=llr.astype(np.float32),
        base_load=base_load.astype(np.float32),
        active_kwh=active_kwh.astype(np.float32),
        use_bins=use_bins.astype(np.float32),
        wake_hh=wake_hh.astype(np.float32),
        sleep_hh=sleep_hh.astype(np.float32),
        quiet_tail=quiet_tail,
        flat_tail=flat_tail,
        quiet_peaks=quiet_peaks,
        flat_peaks=flat_peaks,
        smooth_slots=smooth_slots.astype(np.float32),
        edges_rise=edges_rise.astype(np.float32),
        llr_rise=llr_rise.astype(np.float32),
        up_kwh=up_kwh.astype(np.float32),
        day_kwh=np.nan_to_num(day_kwh).astype(np.float32),
        watchability=watchability.astype(np.float32),
        days_used=days_used,
    )


NIGHT_RARE = 0.01  # a bin holding fewer of the home's night readings than this is a level nights rarely draw


def _use_bins(p_night: np.ndarray, edges: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Bins whose readings are use: above standby (their lower edge at least ``floor``) and at a
    level the home's nights rarely draw. A home with a night storage or water heater learns
    ``active_kwh`` above the heater's block, which hides all daytime use below it (cooking, TV):
    such use then never ended a quiet stretch, nor closed an emergency."""
    lower = np.concatenate([np.full((edges.shape[0], 1), -np.inf), edges], axis=1)  # [H, B]
    return (p_night < NIGHT_RARE) & (lower >= floor[:, None])


def is_active(x: np.ndarray, bins: np.ndarray, active_kwh: np.ndarray, use_bins: Any) -> np.ndarray:
    """"Someone did something" in each reading of ``x`` [R, W] (its ``bins``): above the home's
    activity level, or in a bin of use (``use_bins`` [R, B], or a row-mapped table)."""
    rows = np.broadcast_to(np.arange(x.shape[0])[:, None], x.shape)
    return (x > active_kwh[:, None]) | (use_bins[rows, bins] > 0.5)


def step_rhythm(raw: np.ndarray) -> np.ndarray:
    """Half-hours the home's standby takes to move its register two steps (1 for fine data): a
    reading one step off either way then averages out.

    ``raw`` [H, D, 48]: the step is the smallest difference between the home's readings,
    the standby the mean of its night readings."""
    h = raw.shape[0]
    step = register_step(raw.reshape(h, -1))
    night = raw[:, :, NIGHT_SLOTS].reshape(h, -1)
    seen = ~np.isnan(night)
    standby = np.where(seen, night, 0.0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
    slots = np.ceil(2 * step / np.maximum(standby, 1e-3) - 1e-6)  # two steps: a +-1 step reading averages out
    return np.clip(slots, 1, MAX_SMOOTH_SLOTS).astype(np.int64)


def _edges(*parts: np.ndarray) -> np.ndarray:
    edges = np.sort(np.concatenate(parts, axis=1), axis=1)
    return edges + np.arange(edges.shape[1]) * 1e-4  # strictly increasing even for dead meters


def _nanmedian_rows(v: np.ndarray) -> np.ndarray:
    return _row_quantiles(v, [0.5])[:, 0]


def _hist(bins: np.ndarray, present: np.ndarray, h: int, alpha: float = 0.5) -> np.ndarray:
    """Smoothed bin probabilities per home over all given cells -> [H, B]."""
    hh = np.broadcast_to(np.arange(h)[:, None, None], bins.shape)
    counts = np.bincount((hh * N_BINS + bins)[present].ravel(), minlength=h * N_BINS).reshape(h, N_BINS)
    counts = counts + alpha
    return counts / counts.sum(axis=1, keepdims=True)


def _table_cells(day_type: np.ndarray) -> np.ndarray:
    """[H, D, 48] int32: where each reading's bin 0 sits in a flattened [H, 2, 48, N_BINS] table."""
    h, _d = day_type.shape
    return ((np.arange(h, dtype=np.int32)[:, None, None] * 2 + day_type[:, :, None]) * SLOTS_PER_DAY
            + np.arange(SLOTS_PER_DAY, dtype=np.int32)[None, None, :]) * N_BINS


def _llr_table(bins: np.ndarray, present: np.ndarray, cells: np.ndarray, h: int) -> np.ndarray:
    """log p_night(bin) - log p_usual(day_type, half-hour, bin), smoothed over +-1 h (``cells``:
    :func:`_table_cells`)."""
    p_night = _hist(bins[:, :, NIGHT_SLOTS], present[:, :, NIGHT_SLOTS], h)
    size = h * 2 * SLOTS_PER_DAY * N_BINS
    flat = np.where(present, cells + bins, size)  # a missing reading counts in one bin past the table
    counts = np.bincount(flat.ravel(), minlength=size + 1)[:size].astype(np.float64)
    counts = counts.reshape(h, 2, SLOTS_PER_DAY, N_BINS)
    # neighbouring half-hours (+-1 h) share evidence: routines drift by an hour
    smooth = sum(np.roll(counts, s, axis=2) * w for s, w in ((-2, 0.5), (-1, 1), (0, 1), (1, 1), (2, 0.5)))
    both = smooth.sum(axis=1, keepdims=True)
    both_p = both / np.maximum(both.sum(axis=3, keepdims=True), 1)
    # rest days are few: shrink them toward the all-days profile
    prior = 8.0 * both_p + 0.3
    usual = smooth + prior
    p_usual = usual / usual.sum(axis=3, keepdims=True)
    return np.clip(np.log(p_night[:, None, None, :]) - np.log(p_usual), *LLR_CLIP)


def _wake_sleep(active: np.ndarray, present: np.ndarray, day_type: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Late-typical wake (80th percentile of the first activity after 04:00) and usual sleep."""
    h, _d, _ = active.shape
    lo, hi = MORNING_SLOTS
    morning = active[:, :, lo:hi]
    has = morning.any(axis=2) & present[:, :, lo:hi].all(axis=2)
    first = np.where(has, lo + morning.argmax(axis=2), np.nan).astype(np.float64)
    # sleep: last active half-hour between 18:00 and 03:00 of the next day
    nxt = np.concatenate([active[:, 1:, :], np.zeros((h, 1, SLOTS_PER_DAY), bool)], axis=1)
    evening = np.concatenate([active[:, :, EVENING_SLOTS[0] :], nxt[:, :, : EVENING_SLOTS[1] - SLOTS_PER_DAY]], 2)
    has_e = evening.any(axis=2)
    last = np.where(has_e, EVENING_SLOTS[0] + evening.shape[2] - 1 - evening[:, :, ::-1].argmax(axis=2), np.nan)
    wake = np.full((h, 2), 16.0)
    sleep = np.full((h, 2), 46.0)
    for t in (WEEKDAY, RESTDAY):
        sel = day_type == t
        first_t = np.where(sel, first, np.nan)
        q = _row_quantiles(first_t, [0.8])[:, 0]
        ok = np.sum(~np.isnan(first_t), axis=1) >= np.maximum(3, sel.sum(axis=1) // 2)
        wake[:, t] = np.where(ok, q + 1, np.nan)  # +1: the slot after the first active one
        s = _row_quantiles(np.where(sel, last, np.nan), [0.5])[:, 0]
        sleep[:, t] = np.where(np.sum(has_e & sel, axis=1) >= 3, s + 1, 46.0)
    return wake, sleep


def _tails(
    x: np.ndarray, rise: np.ndarray, level: np.ndarray, active: np.ndarray, llr: np.ndarray, bins: np.ndarray,
    llr_rise: np.ndarray, rise_bins: np.ndarray, cell: np.ndarray, up_kwh: np.ndarray, base_load: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Run the detectors' own scores over the learning days, end to end, and learn their tails by
    half-hour of day and the tails of their stretches' peaks (core/detection/survival.py): the quiet
    score, and the flat score while the level stays above standby (the flat detector's condition).
    -> (quiet tail, flat tail, quiet peaks, flat peaks)."""
    h = x.shape[0]

    def cells(values: np.ndarray, table: np.ndarray, value_bins: np.ndarray) -> np.ndarray:
        # float32 as the scores add them up (accumulate): the same numbers, half the memory traffic
        looked = np.take(table.astype(np.float32).reshape(-1), cell + value_bins)
        return np.where(np.isnan(values), np.float32(0), looked).reshape(h, -1)

    quiet_reset = sustained(active.reshape(h, -1))
    quiet = accumulate(cells(x, llr, bins), quiet_reset)
    rise_rows, level_rows = rise.reshape(h, -1), level.reshape(h, -1)
    ups = sustained(np.where(np.isnan(rise_rows), 0.0, rise_rows) > up_kwh[:, None])  # no inf: readings are finite
    elevated = np.where(np.isnan(level_rows), 0.0, level_rows) > (base_load + FLAT_MIN_KWH)[:, None]
    flat = np.where(elevated, accumulate(cells(rise, llr_rise, rise_bins), ups), 0.0)
    seen = ~np.isnan(x).reshape(h, -1)
    scores = [np.where(seen, score, np.nan) for score in (quiet, flat)]
    tails = [learn_tails(score.reshape(x.shape)) for score in scores]
    resets = (quiet_reset, ups | ~elevated)
    peaks = [learn_peaks(score, reset, tail) for score, reset, tail in zip(scores, resets, tails, strict=True)]
    return tails[0], tails[1], peaks[0], peaks[1]
