"""How high a home's own "looks asleep" score goes at each time of day, and when the present
one is rarer than its false-alarm budget allows. Pure numpy, shared by learning (baseline.py) and detection.

After Wilhelm & Wahl (Sensors 24:6583, 2024), who score the present inactivity against the
home's own past inactivity periods. Here the score is a detector's own accumulated evidence
(that the home looks like its own nights, or is stuck on one level; core/detection/engine.py),
and the past is that score at the same half-hour of day (+-30 min) over the 56 learning days.
Its upper tail is modelled as exponential above ``u`` (a high quantile; its scale from the
median excess, so a few absences in the history do not swamp it): a score's *exceedance*
``e = (score - u) / scale - ln(share above u)`` is minus the log of how often the home's score
at that time of day goes that high. Nothing is tuned globally.

The operator's budget ("one false alarm in N weeks") is spent per quiet *stretch*, not per
half-hour: a stretch passes many half-hours but raises once. (A bound over every half-hour set
the level seven or more scales above ``u``, out of reach of many real quiet days.) Each past
stretch's peak exceedance is collected, its upper tail fitted the same way, and the budget
spread over the home's own number of stretches a month: the present stretch alarms when its
exceedance passes what one stretch in ``stretches a month / budget`` reaches.
"""

from __future__ import annotations

import numpy as np

from core.detection.timeaxis import SLOTS_PER_DAY

# Where the tail starts: chosen with the budget on the training folds of benchmarks/detection_eval.py
# (0.5, 0.6 and 0.7 tried; 0.5 on every fold and on all homes); see benchmarks/results/detection_notes.md.
TAIL_QUANTILE = 0.5
PRIOR_SAMPLES, PRIOR_SCALE = 5, 5.0  # a weak prior on the tail's scale, for hours the score hardly rises
MIN_SAMPLES = 20  # fewer days seen at a half-hour: it never alarms
N_PARAMS = 3  # u, scale, log(share above u)
DAYS_PER_MONTH = 30.44
NEVER = 1e6  # the level of a home not learned yet
MIN_STRETCH_SLOTS = 8  # a stretch's peak counts from its 8th half-hour (the detectors' shortest quiet)
PEAK_PRIOR_SCALE = 1.0  # peaks are in units of the time-of-day tail's scale
MIN_PEAK_SCALE = 0.25
MIN_PEAKS = 10  # fewer stretches learned: every half-hour is taken as a stretch (the union bound)
N_PEAK_PARAMS = 4  # u, scale, log(share above u) of the peaks, log(stretches per month)


def learn_tails(score_days: np.ndarray) -> np.ndarray:
    """Tail of a detector's score at each half-hour of day over the learning days.

    ``score_days`` [H, D, 48] (NaN = not seen); each half-hour also takes the days' scores of
    its two neighbours (routines drift). Returns [H, 48, 3]: u, scale, log(share above u)."""
    h, d, s = score_days.shape
    by_slot = np.ascontiguousarray(score_days.transpose(0, 2, 1))  # [H, 48, D]
    neighbours = (np.arange(s)[:, None] + np.arange(-1, 2)[None, :]) % s  # [48, 3], round the day
    samples = np.sort(by_slot[:, neighbours].reshape(h * s, 3 * d), axis=1)  # NaN last (sorting forgets the order)
    seen = (~np.isnan(by_slot)).sum(axis=2)  # [H, 48]
    return learn_tail(samples, n=seen[:, neighbours].sum(axis=2).reshape(-1)).reshape(h, s, N_PARAMS)


def learn_tail(
    samples: np.ndarray, prior_scale: float = PRIOR_SCALE, min_scale: float = 1.0, min_samples: int = MIN_SAMPLES,
    n: np.ndarray | None = None,
) -> np.ndarray:
    """Tail of each row's sorted samples (NaN last; ``n`` [R] of them seen, if known) -> [R, 3]:
    u, scale, log(share above u)."""
    r = samples.shape[0]
    n = np.sum(~np.isnan(samples), axis=1) if n is None else n
    idx = np.clip(np.floor(TAIL_QUANTILE * (n - 1)).astype(np.int64), 0, max(samples.shape[1] - 1, 0))
    u = np.take_along_axis(samples, idx[:, None], axis=1)[:, 0] if samples.shape[1] else np.full(r, np.nan)
    u = np.nan_to_num(u)
    above = samples > u[:, None]  # NaN is never above
    m = above.sum(axis=1)
    median_excess = _sorted_tail_median(samples, n, m, u)
    # An exponential's median excess is its scale times ln 2. The median, not the mean: the few
    # absences (trips, and the events a test injects) in 56 days must not blunt the watch.
    scale = (np.nan_to_num(median_excess) / np.log(2.0) * m + PRIOR_SAMPLES * prior_scale) / (m + PRIOR_SAMPLES)
    scale = np.maximum(scale, min_scale)
    share = np.maximum(m, 0.5) / np.maximum(n, 1)
    ok = n >= min_samples
    tail = np.stack([np.where(ok, u, NEVER), scale, np.where(ok, np.log(share), 0.0)], axis=1)
    return tail.astype(np.float32)


def _sorted_tail_median(samples: np.ndarray, n: np.ndarray, m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Median of ``samples - u`` over each sorted row's top ``m`` of its ``n`` values (NaN when
    ``m`` is 0): :func:`_row_median` of those excesses, read off the sorted row without a sort."""
    if not samples.shape[1]:
        return np.full(samples.shape[0], np.nan)
    last = samples.shape[1] - 1
    lo = np.clip(n - m + (m - 1) // 2, 0, last)
    hi = np.clip(n - m + m // 2, 0, last)
    low = np.take_along_axis(samples, lo[:, None], 1)[:, 0] - u
    high = np.take_along_axis(samples, hi[:, None], 1)[:, 0] - u
    return np.where(m > 0, (low + high) / 2, np.nan)


def _row_median(values: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for an empty row), without numpy's warnings."""
    ordered = np.sort(values, axis=1)
    count = np.sum(~np.isnan(values), axis=1)
    lo = np.clip((count - 1) // 2, 0, max(values.shape[1] - 1, 0))
    hi = np.clip(count // 2, 0, max(values.shape[1] - 1, 0))
    if not values.shape[1]:
        return np.full(values.shape[0], np.nan)
    mid = (np.take_along_axis(ordered, lo[:, None], 1) + np.take_along_axis(ordered, hi[:, None], 1))[:, 0] / 2
    return np.where(count > 0, mid, np.nan)


def exceedance(score: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """How far ``score`` is into its tail ``tail`` [..., 3], in scales: alarm when ``>= -ln p``.

    At or below ``u`` it is 0, not ``-ln(share above u)``: a score the home's own days often
    reach (or pass) is not rare, even at an hour where it is seldom *above* u (u is often 0)."""
    e = (score - tail[..., 0]) / tail[..., 1] - tail[..., 2]
    return np.where(score > tail[..., 0], e, 0.0)


def learn_peaks(score: np.ndarray, reset: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """The tail of the home's quiet stretches' peak exceedance, and how many stretches it has.

    ``score`` [H, T] over the learning days from 00:00 (NaN = not seen), ``reset`` [H, T] where
    a stretch ends (the detector's own reset), ``tails`` [H, 48, 3] learned from that score.
    -> [H, 4]: u, scale, log(share above u) of the peaks, log(stretches per month)."""
    h, t = score.shape
    by_day = score.reshape(h, t // SLOTS_PER_DAY, SLOTS_PER_DAY)  # the learning days start at 00:00
    e = exceedance(by_day, tails[:, None]).reshape(h, t)
    learned = np.broadcast_to((tails[:, None, :, 0] < NEVER / 2), by_day.shape).reshape(h, t)
    small = np.int32 if t < 2**31 else np.int64  # the same numbers, half the memory traffic
    idx = np.broadcast_to(np.arange(t, dtype=small), (h, t))
    last_reset = np.maximum.accumulate(np.where(reset, idx, small(-1)), axis=1)
    counts = (idx - last_reset >= MIN_STRETCH_SLOTS) & ~np.isnan(score) & learned
    e = np.where(counts, e, -np.inf)
    # one peak per stretch: a stretch begins at each reset and at each home's first half-hour
    begins = reset.copy()
    begins[:, 0] = True
    first = np.flatnonzero(begins)
    peak = np.maximum.reduceat(e.ravel(), first)
    home = first // t
    kept = np.isfinite(peak)
    n = np.bincount(home[kept], minlength=h)
    samples = np.full((h, max(int(n.max()) if h else 0, 1)), np.nan, np.float32)
    order = np.lexsort((peak[kept], home[kept]))
    home_k, peak_k = home[kept][order], peak[kept][order]
    rank = np.arange(len(home_k)) - np.r_[0, np.cumsum(n)[:-1]][home_k]
    samples[home_k, rank] = peak_k
    tail_e = learn_tail(samples, PEAK_PRIOR_SCALE, MIN_PEAK_SCALE, MIN_PEAKS)
    days_seen = np.maximum((~np.isnan(score)).sum(axis=1) / SLOTS_PER_DAY, 1.0)
    per_month = np.maximum(n, 1) / days_seen * DAYS_PER_MONTH
    few = n < MIN_PEAKS
    tail_e[few] = (0.0, 1.0, 0.0)
    per_month = np.where(few, DAYS_PER_MONTH * SLOTS_PER_DAY, per_month)
    return np.concatenate([tail_e, np.log(per_month)[:, None]], axis=1).astype(np.float32)


def peak_threshold(peaks: np.ndarray, budget_per_month: float | np.ndarray) -> np.ndarray:
    """The exceedance one stretch in ``stretches per month / budget`` reaches -> [R] (``peaks`` [R, 4])."""
    u, scale, log_share, log_rate = peaks[:, 0], peaks[:, 1], peaks[:, 2], peaks[:, 3]
    return u + scale * np.maximum(log_share + log_rate - np.log(budget_per_month), 0.0)


def stretch_level(tail: np.ndarray, peaks: np.ndarray, budget_per_month: float | np.ndarray) -> np.ndarray:
    """The score that alarms now: ``tail`` [R, 3] (this half-hour's), ``peaks`` [R, 4] -> [R]."""
    u, scale, log_share = tail[:, 0], tail[:, 1], tail[:, 2]
    return u + scale * np.maximum(log_share + peak_threshold(peaks, budget_per_month), 0.0)


def empty_peaks(h: int) -> np.ndarray:
    """Peaks that never alarm (a home not learned yet)."""
    peaks = np.zeros((h, N_PEAK_PARAMS), np.float32)
    peaks[:, 0] = NEVER
    peaks[:, 1] = 1.0
    return peaks


def empty_tails(h: int) -> np.ndarray:
    """A tail that never alarms (a home not learned yet)."""
    tail = np.zeros((h, SLOTS_PER_DAY, N_PARAMS), np.float32)
    tail[:, :, 0] = NEVER
    tail[:, :, 1] = 1.0
    return tail
